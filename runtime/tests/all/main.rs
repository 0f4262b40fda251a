mod manifest;
mod trace;
