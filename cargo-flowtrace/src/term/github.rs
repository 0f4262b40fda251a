//! GitHub Actions workflow commands: with `GITHUB_ACTIONS=true` (set on every Actions
//! runner), failures are also printed as `::error file=...,line=...,title=...::message`, which
//! GitHub shows on the file and line of the pull request.

use std::fmt;
use std::path::Path;

/// Whether this process runs in a GitHub Actions job.
pub fn enabled() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// One `::error` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The file, relative to the repository's root (`GITHUB_WORKSPACE`) when it is inside.
    pub file: String,
    /// Its line, from 1.
    pub line: Option<usize>,
    /// A title, shown above the message.
    pub title: String,
    /// The message; several lines are kept.
    pub message: String,
}

impl Annotation {
    /// An annotation on `path`, named as GitHub expects it: relative to `GITHUB_WORKSPACE`
    /// (else to the current directory) when it is inside, else as given.
    pub fn on(path: &Path, line: Option<usize>, title: String, message: String) -> Self {
        let base = std::env::var_os("GITHUB_WORKSPACE")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::current_dir().ok());
        let shown = base
            .and_then(|base| path.strip_prefix(&base).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| path.to_path_buf());
        Self {
            file: shown.to_string_lossy().replace('\\', "/"),
            line,
            title,
            message,
        }
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "::error file={}", property(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ",line={line}")?;
        }
        write!(
            f,
            ",title={}::{}",
            property(&self.title),
            data(&self.message)
        )
    }
}

/// Escape a command's message (GitHub's `escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property's value (GitHub's `escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The line (from 1) of a fixture's expectations: its `[expect]` table or `"expect"` key.
pub fn expect_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.starts_with("[expect]")
                || line.starts_with("[expect.")
                || line.starts_with("\"expect\"")
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_would_end_them() {
        let a = Annotation {
            file: "tests/a,b:c.toml".into(),
            line: Some(7),
            title: "my-eval: case".into(),
            message: "expected 100% passed\nhelp: fix it".into(),
        };
        assert_eq!(
            a.to_string(),
            "::error file=tests/a%2Cb%3Ac.toml,line=7,title=my-eval%3A case::expected 100%25 \
             passed%0Ahelp: fix it"
        );
    }

    #[test]
    fn the_expect_line_is_found_in_toml_and_json() {
        assert_eq!(
            expect_line("trace = \"t.json\"\n\n[expect]\npassed = true\n"),
            Some(3)
        );
        assert_eq!(
            expect_line("{\n  \"trace\": {},\n  \"expect\": {}\n}\n"),
            Some(3)
        );
        assert_eq!(expect_line("trace = \"t.json\"\n"), None);
    }
}
