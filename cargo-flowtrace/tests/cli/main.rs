//! The one integration test binary of `cargo-flowtrace`: the real binary, run in temporary
//! directories. Golden files live in `tests/golden/`; `BLESS=1` rewrites them.

mod build;
mod checkout;
mod diff;
mod doctor;
mod eval;
mod failures;
mod fuzz;
mod harness;
mod help;
mod inspect;
mod invocation;
mod new;
mod oci;
mod portable;
mod python;
mod python_dev;
mod registry;
mod registry_server;
mod run;
mod settings;
mod shared_target;
mod support;
mod trace;
mod typescript;
mod workflow;
