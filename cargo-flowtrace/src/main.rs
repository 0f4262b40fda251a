//! `cargo-flowtrace`: parse, dispatch, report the error, exit with its code.

use cargo_flowtrace::cli::{clap_exit_code, Cli};
use cargo_flowtrace::{error, exit_codes, logging, Context};

fn main() {
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` print to stdout and succeed; the rest is misuse.
            let _ = e.print();
            std::process::exit(clap_exit_code(&e));
        }
    };
    let (global, command) = cli.into_parts();
    let cx = Context::new(global);
    logging::init(&cx.term);
    let code = match command.exec(&cx) {
        Ok(()) => exit_codes::SUCCESS,
        Err(e) => error::report(&cx.term, &e),
    };
    std::process::exit(code);
}
