mod manifest;
mod trace;
mod inspect;
