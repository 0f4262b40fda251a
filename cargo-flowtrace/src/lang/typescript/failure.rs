//! A failed componentize-js run, explained: it runs the bundle's top level while it
//! builds, so what fails there is the plugin's code; a `plugin.js:<line>` is traced back to
//! the plugin's module.

use std::path::Path;

use crate::build::componentizer::{Explained, ToolRun};

/// What to show of a failed componentize-js `run` (its stdout too unless `verbose`, where
/// it was shown already; its stderr) and the helps; `bundle` is the bundle it built.
pub(super) fn explain(run: &ToolRun, verbose: bool, bundle: &Path) -> Explained {
    let mut shown = String::new();
    if !verbose {
        shown.push_str(&run.stdout);
        if !shown.is_empty() && !shown.ends_with('\n') {
            shown.push('\n');
        }
    }
    shown.push_str(&run.stderr);
    Explained {
        shown,
        helps: componentize_helps(&run.stderr, bundle),
    }
}

/// The helps for a failed componentize-js run: it runs the bundle's top level while it
/// builds, so what fails there is the plugin's code.
fn componentize_helps(stderr: &str, bundle: &Path) -> Vec<String> {
    let mut helps = Vec::new();
    if stderr.contains("cannot call arbitrary imported functions during Wizer initialization") {
        helps.push(
            "the build runs the top level of the plugin's modules, where there is no host: \
             call `log`, `config`, `fetch` and the other host functions from the plugin's \
             methods"
                .to_string(),
        );
    } else if stderr.contains("Exception while evaluating top-level script") {
        helps.push(format!(
            "the build runs the top level of the plugin's modules, and it threw (above); \
             `plugin.js` lines refer to the bundle, `{}`",
            bundle.display()
        ));
    }
    if let Some(place) = bundle_place(stderr, bundle) {
        helps.push(place);
    }
    helps
}

/// Where the first `plugin.js:<line>:<column>` of `stderr` is in the plugin's sources: the
/// module esbuild marked above that line of the bundle (`// src/index.ts`), and the line.
fn bundle_place(stderr: &str, bundle: &Path) -> Option<String> {
    let (_, rest) = stderr.split_once("plugin.js:")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let line: usize = rest[..digits].parse().ok()?;
    let text = std::fs::read_to_string(bundle).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let code = lines.get(line.checked_sub(1)?)?.trim();
    // esbuild starts each module's code with a comment naming its path.
    let module = lines[..line - 1].iter().rev().find_map(|l| {
        let path = l.strip_prefix("// ")?;
        let is_path = !path.contains(' ') && path.contains('.');
        is_path.then_some(path)
    })?;
    Some(format!("`plugin.js:{line}` is in `{module}`: `{code}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_line_is_traced_to_its_module() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("plugin.js");
        std::fs::write(
            &bundle,
            "// target/flowtrace/typescript/sdk/src/log.ts\nvar a = 1;\n// src/index.ts\n\
             var broken = void 0;\nvar limit = broken.value;\n",
        )
        .unwrap();
        let stderr = "Exception while evaluating top-level script\nplugin.js:5:13 TypeError: \
                      can't access property \"value\", broken is undefined\n";
        assert_eq!(
            bundle_place(stderr, &bundle).as_deref(),
            Some("`plugin.js:5` is in `src/index.ts`: `var limit = broken.value;`")
        );
        assert_eq!(bundle_place("no location", &bundle), None);
        assert_eq!(bundle_place("plugin.js:99:1", &bundle), None);
    }

    #[test]
    fn top_level_failures_get_a_help() {
        let bundle = Path::new("/p/target/flowtrace/typescript/plugin.js");
        let host_call = "1: Error: attempted to call an unknown imported function: \
                         'flowtrace:plugin/config@0.1.0' 'get'\n\n       You cannot call arbitrary \
                         imported functions during Wizer initialization.\n";
        let helps = componentize_helps(host_call, bundle);
        assert_eq!(helps.len(), 1, "{helps:?}");
        assert!(helps[0].contains("from the plugin's methods"), "{helps:?}");
        let thrown = "Exception while evaluating top-level script\nplugin.js:3:9 Error: boom\n";
        let helps = componentize_helps(thrown, bundle);
        assert!(
            helps[0].contains("/p/target/flowtrace/typescript/plugin.js"),
            "{helps:?}"
        );
        assert!(componentize_helps("out of memory", bundle).is_empty());
    }
}
