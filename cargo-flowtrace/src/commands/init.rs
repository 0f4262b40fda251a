//! `cargo flowtrace init [path]`

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::context::Context;
use crate::scaffold::{self, Destination, TemplateArgs};

/// Create a plugin in an existing directory (the current one by default) from a template.
///
/// The id comes from the directory name unless `--id` is given. Refuses to run when any
/// file of the template exists already, and names them.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  mkdir my-evaluator && cd my-evaluator && cargo flowtrace init
  cargo flowtrace init --template rust-transformer --id redact-secrets")]
pub struct InitCommand {
    /// The directory to write the plugin into
    #[arg(default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub template: TemplateArgs,
}

impl InitCommand {
    /// Run `init`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        if self.template.list_templates {
            return scaffold::list_templates(cx);
        }
        scaffold::scaffold(cx, &self.path, &self.template, Destination::Init)
    }
}
