//! Exporters: the fixture's traces exported in `format` (or the first format the exporter
//! lists); `contains` held against the output, snapshots kept as the bytes written.

use flowtrace_plugins::{Plugin, PreparedTrace};
use toml::Spanned;

use super::{Expectations, InputShape, KindHarness};
use crate::harness::expect::Mismatch;
use crate::harness::fixture::raw::RawExpect;
use crate::harness::fixture::validate::Validator;
use crate::harness::fixture::Input;
use crate::harness::run::{Called, CaseFailure};

pub(super) struct Exporter;

impl KindHarness for Exporter {
    fn expect_keys(&self) -> &'static [&'static str] {
        &["contains"]
    }

    fn input(&self) -> InputShape {
        InputShape::Traces { format: true }
    }

    fn snapshot_extension(&self) -> &'static str {
        "out"
    }

    fn expectations(&self, v: &mut Validator<'_>, raw: &RawExpect) -> Box<dyn Expectations> {
        let contains = raw
            .contains
            .as_ref()
            .map_or_else(Vec::new, |c| contains(v, c));
        Box::new(ExportExpect { contains })
    }
}

/// `expect.contains`: a string or a list of strings.
fn contains(v: &mut Validator<'_>, value: &Spanned<toml::Value>) -> Vec<String> {
    match value.get_ref() {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        other => {
            v.at(
                value,
                format!(
                    "`expect.contains` is a string or a list of strings, not {}",
                    v.ty(other)
                ),
                None,
            );
            Vec::new()
        }
    }
}

/// What an exporter's fixture expects.
#[derive(Debug, Clone, PartialEq)]
struct ExportExpect {
    /// `contains`: texts the output must contain.
    contains: Vec<String>,
}

impl Expectations for ExportExpect {
    fn call(
        &self,
        plugin: &Plugin,
        input: &Input,
        traces: &[PreparedTrace],
    ) -> Result<Called, CaseFailure> {
        let Input::Traces { format, .. } = input else {
            return Err(CaseFailure::Input("an exporter needs a `trace`"));
        };
        let format = match format {
            Some(f) => f.clone(),
            None => plugin
                .formats()?
                .into_iter()
                .next()
                .map(|f| f.name)
                .ok_or(CaseFailure::Input("the exporter lists no formats"))?,
        };
        let output = plugin.export(&format, traces)?;
        let mismatches = check_export(&output, &self.contains);
        let summary = format!("{} bytes of `{format}`", output.len());
        // Text as text; anything else (protobuf, parquet) as base64, never mangled.
        let json = match std::str::from_utf8(&output) {
            Ok(text) => serde_json::json!({ "format": format, "output": text }),
            Err(_) => {
                use base64::Engine as _;
                serde_json::json!({
                    "format": format,
                    "output-base64": base64::engine::general_purpose::STANDARD.encode(&output),
                })
            }
        };
        Ok(Called {
            json,
            bytes: output,
            is_json: false,
            mismatches,
            summary,
        })
    }
}

/// Hold an exporter's output against `contains`.
fn check_export(output: &[u8], contains: &[String]) -> Vec<Mismatch> {
    let text = String::from_utf8_lossy(output);
    contains
        .iter()
        .filter(|needle| !text.contains(needle.as_str()))
        .map(|needle| {
            Mismatch::new(format!(
                "expected the output to contain {needle:?}; it is {} bytes: {}",
                output.len(),
                preview(&text)
            ))
        })
        .collect()
}

/// The start of a long text, on one line.
fn preview(text: &str) -> String {
    const MAX: usize = 200;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX + 1)
        .collect();
    if flat.chars().count() > MAX {
        format!("{:?}...", flat.chars().take(MAX).collect::<String>())
    } else {
        format!("{flat:?}")
    }
}
