//! `cargo flowtrace new <path>`

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::context::Context;
use crate::scaffold::{self, Destination, TemplateArgs};

/// Create a plugin in a new directory from a template.
///
/// Writes a complete plugin in Rust, Python or TypeScript: flowtrace.toml, the code using the
/// SDK (Cargo.toml and src/lib.rs, app.py and pyproject.toml, or src/index.ts and
/// package.json), test fixtures that pass, a README, a .gitignore and a CI workflow. The id
/// comes from the directory name unless `--id` is given. Existing files are never
/// overwritten.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace new my-evaluator
  cargo flowtrace new my-judge --lang python
  cargo flowtrace new exporters/otel-bridge --template rust-exporter --id otel-bridge
  cargo flowtrace new --list-templates")]
pub struct NewCommand {
    /// The directory to create
    #[arg(required_unless_present = "list_templates")]
    pub path: Option<PathBuf>,

    #[command(flatten)]
    pub template: TemplateArgs,
}

impl NewCommand {
    /// Run `new`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        match &self.path {
            Some(path) if !self.template.list_templates => {
                scaffold::scaffold(cx, path, &self.template, Destination::New)
            }
            _ => scaffold::list_templates(cx),
        }
    }
}
