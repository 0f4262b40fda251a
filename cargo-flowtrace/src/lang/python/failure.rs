//! A failed componentize-py run, explained: the Python traceback that caused it, its paths
//! mapped back onto the plugin's files, and helps for the failures the SDK explains
//! (`flowtrace_plugin.errors.*: message`) and for modules that are missing.

use std::path::{Path, PathBuf};

use flowtrace_plugins::manifest::Manifest;

use crate::build::componentizer::{Explained, ToolRun};
use crate::build::world;

/// What to show of a failed componentize-py `run` (all of its stderr when `verbose`, else
/// the plugin's traceback) and the helps; `search_path` is its module path.
pub(super) fn explain(
    run: &ToolRun,
    verbose: bool,
    manifest: &Manifest,
    search_path: &[PathBuf],
) -> Explained {
    let shown = if verbose {
        run.stderr.clone()
    } else {
        plugin_traceback(&run.stderr, search_path)
    };
    Explained {
        shown,
        helps: helps(&run.stderr, manifest),
    }
}

/// What of componentize-py's stderr is about the plugin: the traceback of the exception
/// raised while it imported the plugin (componentize-py wraps it in an `AssertionError`
/// raised from its own command line, followed by its `Caused by:` and backtrace), with its
/// `/N/` paths replaced by the directories of `search_path`. Anything else is kept whole.
fn plugin_traceback(stderr: &str, search_path: &[PathBuf]) -> String {
    const WRAPPED: &str = "AssertionError: Traceback (most recent call last):";
    let text = match stderr.find(WRAPPED) {
        Some(start) => {
            let inner = &stderr[start + "AssertionError: ".len()..];
            let end = ["\nCaused by:", "\nStack backtrace:"]
                .iter()
                .filter_map(|marker| inner.find(marker))
                .min()
                .unwrap_or(inner.len());
            inner[..end].trim_end()
        }
        None => stderr.trim_end(),
    };
    let cwd = std::env::current_dir().ok();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&map_traceback_path(line, search_path, cwd.as_deref()));
        out.push('\n');
    }
    out
}

/// `  File "/2/app.py", line 3` -> `  File "app.py", line 3` when `/2/` is the plugin's
/// directory and the current one.
fn map_traceback_path(line: &str, search_path: &[PathBuf], cwd: Option<&Path>) -> String {
    let Some(rest) = line.trim_start().strip_prefix("File \"/") else {
        return line.to_string();
    };
    let indent = &line[..line.len() - line.trim_start().len()];
    let Some((index, path)) = rest.split_once('/') else {
        return line.to_string();
    };
    let Some(dir) = index.parse::<usize>().ok().and_then(|i| search_path.get(i)) else {
        return line.to_string();
    };
    let (file, tail) = path.split_once('"').unwrap_or((path, ""));
    let real = dir.join(file);
    let shown = cwd
        .and_then(|cwd| real.strip_prefix(cwd).ok())
        .unwrap_or(&real);
    format!("{indent}File \"{}\"{tail}", shown.display())
}

/// The helps for a failed componentize-py run, from the last lines of its traceback.
pub(super) fn helps(stderr: &str, manifest: &Manifest) -> Vec<String> {
    let mut helps = Vec::new();
    for line in stderr.lines().map(str::trim) {
        for prefix in [
            "flowtrace_plugin.errors.CapabilityNotDeclared: ",
            "flowtrace_plugin.errors.BuildError: ",
        ] {
            if let Some(message) = line.strip_prefix(prefix) {
                if !helps.iter().any(|h| h == message) {
                    helps.push(message.to_string());
                }
            }
        }
        // A gated module of the generated bindings imported directly.
        for (module, capability) in world::gated_interfaces() {
            let missing = line.contains(&format!("No module named 'wit_world.imports.{module}'"))
                || line.contains(&format!(
                    "cannot import name '{module}' from 'wit_world.imports'"
                ));
            if missing {
                helps.push(format!(
                    "`wit_world.imports.{module}` needs capability `{capability}`: add `{}` \
                     under `[capabilities]` in flowtrace.toml",
                    capability.manifest_line()
                ));
            }
        }
        if let Some(rest) = line.strip_prefix("ModuleNotFoundError: No module named '") {
            let module = rest.trim_end_matches('\'');
            let top = module.split('.').next().unwrap_or(module);
            if top != "wit_world" && top != super::SDK_PACKAGE {
                helps.push(format!(
                    "to bundle a package, list it under `[project] dependencies` in \
                     pyproject.toml (pure-Python packages only); to import a module of the \
                     plugin, put it beside `{}`",
                    manifest.build.entry_or_default().unwrap_or("app.py")
                ));
            }
        }
    }
    helps
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowtrace_plugins::manifest::Language;

    fn manifest() -> Manifest {
        crate::lang::tests::manifest_with(Language::Python, "")
    }

    #[test]
    fn undeclared_modules_get_the_capability_to_declare() {
        let stderr = "Traceback (most recent call last):\n  File \"app.py\", line 3\n\
                      flowtrace_plugin.errors.CapabilityNotDeclared: `flowtrace_plugin.kv` needs \
                      capability `storage`: add `storage = true` under `[capabilities]` in \
                      flowtrace.toml\n";
        let helps = helps(stderr, &manifest());
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].starts_with("`flowtrace_plugin.kv` needs capability `storage`"));

        let raw = "ModuleNotFoundError: No module named 'wit_world.imports.traces'\n";
        let helps = super::helps(raw, &manifest());
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].contains("`traces = true`"), "{helps:?}");
    }

    #[test]
    fn a_missing_third_party_module_points_at_pyproject() {
        let helps = helps(
            "ModuleNotFoundError: No module named 'requests'\n",
            &manifest(),
        );
        assert!(helps[0].contains("`[project] dependencies`"), "{helps:?}");
    }

    #[test]
    fn the_traceback_is_the_plugin_s_with_real_paths() {
        let stderr = "Traceback (most recent call last):\n  File \"/venv/bin/componentize-py\", \
                      line 8, in <module>\n    sys.exit(script())\nAssertionError: Traceback \
                      (most recent call last):\n  File \"/0/_flowtrace_entry.py\", line 3, in \
                      <module>\n  File \"/2/app.py\", line 7\n    def evaluate(self\n\
                      SyntaxError: '(' was never closed\n\nCaused by:\n    SyntaxError\n\n\
                      Stack backtrace:\n   0: anyhow\n";
        let path = [
            PathBuf::from("/p/target/flowtrace/python/entry"),
            PathBuf::from("/p/target/flowtrace/python/sdk"),
            PathBuf::from("/p"),
        ];
        let shown = plugin_traceback(stderr, &path);
        assert_eq!(
            shown,
            "Traceback (most recent call last):\n  File \
             \"/p/target/flowtrace/python/entry/_flowtrace_entry.py\", line 3, in <module>\n  \
             File \"/p/app.py\", line 7\n    def evaluate(self\nSyntaxError: '(' was never \
             closed\n"
        );
        // Output of another shape is kept whole.
        assert_eq!(
            plugin_traceback("error: no such world\n", &path),
            "error: no such world\n"
        );
    }
}
