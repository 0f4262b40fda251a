//! `cargo flowtrace schema trace`

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::context::Context;

/// Print the JSON Schema of a file format
///
/// `schema trace` prints the JSON Schema (draft 2020-12) of Flowtrace JSON, the format of a
/// trace written by hand or by `serde_json` on the runtime's `Trace`: one trace object, which
/// a file holds alone, in an array, or as JSON lines. Point an editor at it to complete and
/// check traces: `cargo flowtrace new` writes it as `tests/traces/trace.schema.json` and
/// names it in each Flowtrace JSON trace it writes (`"$schema": "./trace.schema.json"`); run
/// this again to refresh that copy after upgrading cargo-flowtrace. `--message-format json`
/// writes one `schema` message with the schema as `schema`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  cargo flowtrace schema trace > tests/traces/trace.schema.json")]
pub struct SchemaCommand {
    /// The format
    #[arg(value_enum, value_name = "FORMAT")]
    pub format: SchemaFormat,
}

/// The formats with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// Flowtrace JSON traces
    Trace,
}

/// `{"reason": "schema", ...}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct SchemaMessage {
    format: &'static str,
    schema: serde_json::Value,
}

impl SchemaCommand {
    /// Run `schema`.
    pub fn exec(self, cx: &Context) -> Result<()> {
        let SchemaFormat::Trace = self.format;
        let text = flowtrace_plugins::trace::JSON_SCHEMA;
        if cx.term.is_human() {
            use std::io::Write as _;
            cx.term
                .stdout()
                .write_all(text.as_bytes())
                .context("failed to write the schema")?;
        }
        let schema = serde_json::from_str(text).expect("the embedded schema is JSON");
        cx.term.emit_as(
            "schema",
            &SchemaMessage {
                format: "trace",
                schema,
            },
        )
    }
}
