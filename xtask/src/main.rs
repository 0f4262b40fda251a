//! Developer automation: `cargo xtask bench`.

mod bench;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        Some(other) => bail!("unknown xtask `{other}`\n\nusage: cargo xtask bench [--quick]"),
        None => bail!("usage: cargo xtask bench [--quick]"),
    }
}
