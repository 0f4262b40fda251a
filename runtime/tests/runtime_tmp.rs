#[path = "all/runtime.rs"]
mod runtime;
