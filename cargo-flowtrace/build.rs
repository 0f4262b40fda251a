//! Point `include_dir!` at the templates to embed, and rebuild when they, the Python or
//! TypeScript SDK or the contract change.
//!
//! The templates are `../templates` in this repository. `FLOWTRACE_TEMPLATES_DIR` overrides
//! that (to try templates in development); when neither exists, an empty directory is
//! embedded and `cargo flowtrace new` says there are no templates.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FLOWTRACE_TEMPLATES_DIR");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dir = match std::env::var_os("FLOWTRACE_TEMPLATES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("../templates"),
    };
    let dir = if dir.is_dir() {
        // Cargo scans a directory named here for any change, recursively.
        println!("cargo:rerun-if-changed={}", dir.display());
        dir.canonicalize().unwrap_or(dir)
    } else {
        println!(
            "cargo:warning=no templates at `{}`: embedding none",
            dir.display()
        );
        // A path that does not exist makes cargo rerun this script on every build, so the
        // templates are picked up as soon as they appear.
        println!("cargo:rerun-if-changed={}", dir.display());
        let empty =
            PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("no-templates");
        std::fs::create_dir_all(&empty).expect("create an empty templates directory");
        empty
    };
    println!("cargo:rustc-env=FLOWTRACE_TEMPLATES_DIR={}", dir.display());
    // Embedded with `include_dir!` / `include_str!` too: the SDKs and the contract.
    for embedded in [
        "../sdk/python/flowtrace_plugin",
        "../sdk/typescript",
        "../wit",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(embedded).display()
        );
    }
}
