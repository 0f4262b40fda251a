//! The values a template is rendered with: the plugin id and name, the authors, the SDK
//! dependency. Each check says which rule a value breaks and how to fix it.

use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, bail, Context as _, Result};
use flowtrace_plugins::manifest::PluginId;

use crate::error::ResultExt;
use crate::lang::rust::sdk as rust_sdk;

/// The id from `--id`, or else from the directory name; the error says which rule breaks.
pub(super) fn plugin_id(flag: Option<&str>, dest: &Path) -> Result<PluginId> {
    if let Some(id) = flag {
        return PluginId::parse(id)
            .map_err(|rule| anyhow!("invalid plugin id `{id}`: {rule}"))
            .with_help(|| match suggest_id(id) {
                Some(s) => format!("ids look like `my-evaluator`; try `--id {s}`"),
                None => "ids look like `my-evaluator`".to_string(),
            });
    }
    let dir_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    PluginId::parse(&dir_name)
        .map_err(|rule| anyhow!("invalid plugin id `{dir_name}` (from the directory name): {rule}"))
        .with_help(|| match suggest_id(&dir_name) {
            Some(s) => format!("pass `--id {s}` to choose another id for this directory"),
            None => "pass `--id <id>`, e.g. `--id my-evaluator`".to_string(),
        })
}

/// A valid id close to `s`: lowercase, `_`, `.` and spaces as `-`, other characters dropped.
fn suggest_id(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            '-' | '_' | ' ' | '.' if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let out = out.trim_end_matches('-');
    let out = &out[..out.len().min(64)];
    let out = out.trim_end_matches('-').to_string();
    (out != s && PluginId::parse(&out).is_ok()).then_some(out)
}

/// `sample-evaluator` -> `Sample Evaluator`.
pub(super) fn display_name(id: &str) -> String {
    id.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `--name` goes into TOML and Rust strings as is: keep it to plain text.
pub(super) fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        bail!("the plugin name cannot be empty");
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '"' | '\\'))
    {
        return Err(anyhow!(
            "invalid plugin name `{}`: a name cannot contain {c:?}",
            name.escape_debug()
        ))
        .help("pick a name without quotes, backslashes or control characters");
    }
    Ok(name.to_string())
}

/// Cargo refuses some package names that are valid plugin ids.
pub(super) fn check_rust_package_name(id: &PluginId, from_flag: bool) -> Result<()> {
    const RESERVED: &[&str] = &[
        "test",
        "core",
        "std",
        "alloc",
        "proc-macro",
        "proc_macro",
        "self",
        "super",
        "crate",
        "fn",
        "mod",
        "use",
        "type",
        "match",
        "impl",
        "trait",
        "struct",
        "enum",
        "let",
        "loop",
        "while",
        "for",
        "if",
        "else",
        "return",
        "async",
        "await",
        "dyn",
        "move",
        "ref",
        "mut",
        "pub",
        "static",
        "const",
        "unsafe",
        "where",
        "extern",
        "true",
        "false",
        "in",
        "as",
        "break",
        "continue",
        "box",
        "yield",
        "abstract",
        "become",
        "do",
        "final",
        "macro",
        "override",
        "priv",
        "typeof",
        "unsized",
        "virtual",
        "try",
        "gen",
    ];
    let id = id.as_str();
    let rule = if id.starts_with(|c: char| c.is_ascii_digit()) {
        "a Rust package name cannot start with a digit"
    } else if RESERVED.contains(&id) {
        "it is a Rust keyword or the name of a built-in crate, which cargo refuses as a package name"
    } else {
        return Ok(());
    };
    let source = if from_flag {
        ""
    } else {
        " (from the directory name)"
    };
    Err(anyhow!("invalid plugin id `{id}`{source}: {rule}"))
        .help(format!("pass another id, e.g. `--id {id}-plugin`"))
}

/// A TOML array of `Name <email>` from git's `user.name` and `user.email`, or `[]`.
pub(super) fn authors(dir: &Path) -> String {
    let get = |key: &str| -> Option<String> {
        let output = Command::new("git")
            .args(["config", "--get", key])
            .current_dir(dir)
            .output()
            .ok()?;
        let value = String::from_utf8(output.stdout).ok()?.trim().to_string();
        (output.status.success() && !value.is_empty()).then_some(value)
    };
    let author = match (get("user.name"), get("user.email")) {
        (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
        (Some(name), None) => Some(name),
        (None, Some(email)) => Some(format!("<{email}>")),
        (None, None) => None,
    };
    // A JSON array of strings is also a valid TOML array (the same escapes).
    serde_json::to_string(&Vec::from_iter(author)).unwrap_or_else(|_| "[]".into())
}

/// The TOML value for the SDK dependency: the version this binary carries (`"0.1"`), which
/// `build` supplies ([`crate::lang::rust::sdk`]); `{ path = "..." }` with `--sdk-path`.
pub(super) fn sdk_dependency(cwd: &Path, flag: Option<&Path>) -> Result<String> {
    let Some(path) = flag else {
        return Ok(format!("\"{}\"", rust_sdk::requirement()));
    };
    let dir = cwd.join(path);
    if !dir.join("Cargo.toml").is_file() {
        return Err(anyhow!(
            "`{}` is not the Rust SDK: it has no `Cargo.toml`",
            path.display()
        ))
        .help("pass the `sdk/rust` directory of a cargo-flowtrace checkout");
    }
    let dir = dir
        .canonicalize()
        .with_context(|| format!("failed to resolve `{}`", dir.display()))?;
    let dir = serde_json::to_string(&dir.to_string_lossy())?;
    Ok(format!("{{ path = {dir} }}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_derive_from_each_other() {
        assert_eq!(display_name("sample-evaluator"), "Sample Evaluator");
        assert_eq!(display_name("gpt4-judge"), "Gpt4 Judge");
        assert_eq!(suggest_id("My_Plugin"), Some("my-plugin".into()));
        assert_eq!(suggest_id("Hello World!"), Some("hello-world".into()));
        assert_eq!(suggest_id("__"), None);
        assert_eq!(suggest_id("ok"), None);
    }

    #[test]
    fn odd_names_are_refused() {
        assert!(check_name("Fine Name").is_ok());
        assert!(check_name("bad \"quote\"").is_err());
        assert!(check_name("new\nline").is_err());
        assert!(check_name("  ").is_err());
    }
}
