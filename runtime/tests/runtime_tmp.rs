#[path = "all/runtime.rs"]
mod runtime;
#[path = "all/http.rs"]
mod http;
