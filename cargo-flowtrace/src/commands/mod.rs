//! One file per command: a `#[derive(Args)]` struct whose doc comment is its help, and
//! `fn exec(self, cx: &Context) -> anyhow::Result<()>`.
//!
//! To add a command: write `commands/<name>.rs`, add `pub mod <name>;`, a variant to
//! [`Command`] (its doc comment is the one-line summary in the command list) and its arm in
//! [`Command::exec`]. The exit codes are appended to its `--help` automatically.

pub mod build;
pub mod config;
pub mod diff;
pub mod disable;
pub mod doctor;
pub mod enable;
pub mod eval;
pub mod info;
pub mod init;
pub mod inspect;
pub mod install;
pub mod key;
pub mod list;
pub mod new;
pub mod package;
pub mod publish;
pub mod run;
pub mod schema;
pub mod test;
pub mod trace;
pub mod trust;
pub mod uninstall;

use anyhow::Result;
use clap::Subcommand;

use crate::context::Context;

/// The commands.
#[derive(Debug, Subcommand)]
// No doc comments on the variants: clap would take them over each command struct's own
// doc comment, which is the full help text with examples.
pub enum Command {
    New(new::NewCommand),
    Init(init::InitCommand),
    Build(build::BuildCommand),
    Test(test::TestCommand),
    Inspect(inspect::InspectCommand),
    Eval(eval::EvalCommand),
    Trace(trace::TraceCommand),
    Schema(schema::SchemaCommand),
    Run(run::RunCommand),
    Diff(diff::DiffCommand),
    Doctor(doctor::DoctorCommand),
    Package(package::PackageCommand),
    Publish(publish::PublishCommand),
    Install(install::InstallCommand),
    Key(key::KeyCommand),
    Trust(trust::TrustCommand),
    List(list::ListCommand),
    Info(info::InfoCommand),
    Config(config::ConfigCommand),
    Enable(enable::EnableCommand),
    Disable(disable::DisableCommand),
    Uninstall(uninstall::UninstallCommand),
}

impl Command {
    /// Run the command.
    pub fn exec(self, cx: &Context) -> Result<()> {
        match self {
            Command::New(command) => command.exec(cx),
            Command::Init(command) => command.exec(cx),
            Command::Build(command) => command.exec(cx),
            Command::Test(command) => command.exec(cx),
            Command::Inspect(command) => command.exec(cx),
            Command::Eval(command) => command.exec(cx),
            Command::Trace(command) => command.exec(cx),
            Command::Schema(command) => command.exec(cx),
            Command::Run(command) => command.exec(cx),
            Command::Diff(command) => command.exec(cx),
            Command::Doctor(command) => command.exec(cx),
            Command::Package(command) => command.exec(cx),
            Command::Publish(command) => command.exec(cx),
            Command::Install(command) => command.exec(cx),
            Command::Key(command) => command.exec(cx),
            Command::Trust(command) => command.exec(cx),
            Command::List(command) => command.exec(cx),
            Command::Info(command) => command.exec(cx),
            Command::Config(command) => command.exec(cx),
            Command::Enable(command) => command.exec(cx),
            Command::Disable(command) => command.exec(cx),
            Command::Uninstall(command) => command.exec(cx),
        }
    }
}
