//! `inspect` for people: a report on stdout.

use std::io::{self, Write};

use flowtrace_plugins::capability::Verdict;
use flowtrace_plugins::inspect::BuildProfile;

use super::{Access, View};
use crate::term::{sanitize, style};

/// Print `view` for people.
pub fn print(out: &mut impl Write, view: &View<'_>) -> io::Result<()> {
    let h = style::HEADER;
    writeln!(out, "{h}component{h:#}  {}", view.path.display())?;
    writeln!(out, "{h}size{h:#}       {}", format_size(view.size))?;
    writeln!(out, "{h}sha256{h:#}     {}", view.sha256)?;
    match view.build_profile {
        Some(BuildProfile::Release) => writeln!(out, "{h}profile{h:#}    release")?,
        Some(BuildProfile::Dev) => writeln!(
            out,
            "{h}profile{h:#}    dev (unoptimized, with debug info: `build --release` for one to \
             install or ship)"
        )?,
        None => {}
    }
    match &view.manifest {
        Some(m) => {
            let from = match &m.path {
                Some(path) => format!("`{}`", path.display()),
                None => "the embedded `flowtrace-manifest` section".to_string(),
            };
            writeln!(
                out,
                "{h}plugin{h:#}     {} {} ({}, {}), manifest from {from}",
                m.id, m.version, m.kind, m.language
            )?;
            let caps: Vec<&str> = m.capabilities.iter().map(|c| c.as_str()).collect();
            let caps = if caps.is_empty() {
                "none".to_string()
            } else {
                caps.join(", ")
            };
            writeln!(out, "{h}declares{h:#}   {caps}")?;
        }
        None => writeln!(
            out,
            "{h}plugin{h:#}     no manifest: showing the capability each import needs"
        )?,
    }

    writeln!(out, "\n{h}imports ({}){h:#}", view.imports.len())?;
    let labels: Vec<(&str, anstyle::Style)> = view
        .imports
        .iter()
        .map(|row| match &row.verdict {
            Some(verdict) => (verdict.label(), verdict_style(verdict)),
            None => (row.access.label(), access_style(row.access)),
        })
        .collect();
    let label_w = labels.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let width = view
        .imports
        .iter()
        .map(|r| r.import.len())
        .max()
        .unwrap_or(0);
    for (row, (label, label_style)) in view.imports.iter().zip(labels) {
        write!(
            out,
            "  {label_style}{label:<label_w$}{label_style:#}  {:<width$}  {}",
            row.import, row.reason
        )?;
        if let Some(Verdict::Sandboxed { fix: Some(fix), .. }) = &row.verdict {
            write!(out, " ({fix})")?;
        }
        writeln!(out)?;
    }

    writeln!(out, "\n{h}exports ({}){h:#}", view.exports.len())?;
    for export in &view.exports {
        writeln!(out, "  {:<9} {}", export.kind.as_str(), export.name)?;
    }
    if view.manifest.is_none() {
        match view.exported_kinds[..] {
            [] => writeln!(
                out,
                "  (no plugin interface: this is not a Flowtrace plugin)"
            )?,
            ref kinds => writeln!(out, "  (a plugin of kind {})", kinds.join(", "))?,
        }
    }
    for problem in &view.export_problems {
        let bad = style::BAD;
        writeln!(out, "  {bad}export problem:{bad:#} {problem}")?;
    }

    if !view.custom_sections.is_empty() {
        writeln!(out, "\n{h}custom sections{h:#}")?;
        for section in view.custom_sections {
            writeln!(
                out,
                "  {:<20} {} bytes",
                sanitize(&section.name),
                section.size
            )?;
        }
    }

    if let Some(wit) = view.world_wit {
        writeln!(
            out,
            "\n{h}world{h:#} (`--wit` prints it with every package it uses)"
        )?;
        write_indented(out, main_package(wit))?;
    }

    if let Some(text) = view.embedded_manifest {
        writeln!(out, "\n{h}embedded manifest{h:#}")?;
        write_indented(out, &sanitize(text.trim_end()))?;
    }
    let verdict = match view.policy_ok {
        Some(true) => format!(
            "{}passes the capability check{:#}",
            style::GOOD,
            style::GOOD
        ),
        Some(false) => format!("{}breaks the capability policy{:#}", style::BAD, style::BAD),
        None => "not checked: no manifest".to_string(),
    };
    writeln!(out, "\n{h}verdict{h:#}    {verdict}")?;
    out.flush()
}

/// Each line of `text` indented by two spaces; empty lines stay empty.
fn write_indented(out: &mut impl Write, text: &str) -> io::Result<()> {
    for line in text.lines() {
        if line.trim().is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn verdict_style(verdict: &Verdict) -> anstyle::Style {
    match verdict {
        Verdict::Ok => style::GOOD,
        Verdict::Baseline => anstyle::Style::new(),
        Verdict::Sandboxed { .. } => style::CAUTION,
        _ => style::BAD,
    }
}

fn access_style(access: Access) -> anstyle::Style {
    match access {
        Access::Always => style::GOOD,
        Access::Baseline | Access::Capability => anstyle::Style::new(),
        Access::Sandboxed => style::CAUTION,
        Access::Refused => style::BAD,
    }
}

/// The first package of a printed WIT document: the component's own world, without the
/// packages it uses.
fn main_package(wit: &str) -> &str {
    let mut offset = 0;
    for (i, line) in wit.split_inclusive('\n').enumerate() {
        if i > 0 && line.starts_with("package ") {
            return wit[..offset].trim_end();
        }
        offset += line.len();
    }
    wit.trim_end()
}

/// `97483 bytes (95.2 KiB)`.
fn format_size(bytes: usize) -> String {
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    format!("{bytes} bytes ({})", crate::build::human_size(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(format_size(12), "12 bytes");
        assert_eq!(format_size(97_483), "97483 bytes (95.2 KiB)");
        assert_eq!(format_size(18 * 1024 * 1024), "18874368 bytes (18.0 MiB)");
    }

    #[test]
    fn the_main_package_ends_where_the_next_begins() {
        let wit = "package root:component;\n\nworld root {\n}\npackage wasi:io@0.2.0 {\n}\n";
        assert_eq!(
            main_package(wit),
            "package root:component;\n\nworld root {\n}"
        );
        assert_eq!(
            main_package("package a:b;\nworld w {}\n"),
            "package a:b;\nworld w {}"
        );
    }
}
