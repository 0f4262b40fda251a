//! What every command gets: the terminal, the shared flags, and the places they point to.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use flowtrace_plugins::cache::{CacheDir, CacheKey};
use flowtrace_plugins::manifest::MANIFEST_FILE_NAME;
use flowtrace_plugins::registry::Store;

use clap::{ArgAction, Args};

use crate::error::ResultExt;
use crate::term::{ColorChoice, MessageFormat, Term, Verbosity};

/// Environment variable naming Flowtrace's home directory (default `~/.flowtrace`).
pub const FLOWTRACE_HOME_ENV: &str = "FLOWTRACE_HOME";

/// Flags every command takes (`global`: they go before or after the command name).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Say more: the commands run, the files read (-vv for debug logs)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no status lines, only results, warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to use colours
    #[arg(long, value_enum, value_name = "WHEN", default_value_t, global = true)]
    pub color: ColorChoice,

    /// Output format: `json` writes JSON lines (each with a `reason`) to stdout
    #[arg(long, value_enum, value_name = "FMT", default_value_t, global = true)]
    pub message_format: MessageFormat,

    /// The plugin's flowtrace.toml, or its directory [default: the nearest flowtrace.toml in
    /// the current directory or above]
    #[arg(long, value_name = "PATH", global = true)]
    pub manifest_path: Option<PathBuf>,
}

impl GlobalArgs {
    /// `-q` wins over `-v`.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, n) => Verbosity::Verbose(n),
        }
    }
}

/// Passed to every command's `exec`.
#[derive(Debug)]
pub struct Context {
    /// All output goes through here.
    pub term: Term,
    /// `-v`, `-q`, `--color`, `--message-format`, `--manifest-path`.
    pub global: GlobalArgs,
}

impl Context {
    /// A context for these flags.
    pub fn new(global: GlobalArgs) -> Self {
        Self {
            term: Term::new(global.message_format, global.verbosity(), global.color),
            global,
        }
    }

    /// The plugin's `flowtrace.toml`: `--manifest-path` (a file, or a directory holding
    /// one), else the nearest one in the current directory or its parents.
    pub fn manifest_path(&self) -> Result<PathBuf> {
        let cwd = std::env::current_dir().context("failed to read the current directory")?;
        match &self.global.manifest_path {
            Some(path) => manifest_at(&cwd.join(path)),
            None => find_manifest(&cwd),
        }
    }

    /// `$FLOWTRACE_HOME`, default `~/.flowtrace`: the registry and the managed toolchains.
    pub fn flowtrace_home(&self) -> Result<PathBuf> {
        flowtrace_home()
    }
}

/// `$FLOWTRACE_HOME`, default `~/.flowtrace`. Not created here.
pub fn flowtrace_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os(FLOWTRACE_HOME_ENV).filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    match std::env::home_dir() {
        Some(home) if !home.as_os_str().is_empty() => Ok(home.join(".flowtrace")),
        _ => Err(anyhow::anyhow!("could not find the home directory")).help(format!(
            "set `{FLOWTRACE_HOME_ENV}` to the directory Flowtrace should use"
        )),
    }
}

/// The build cache of compiled code of a plugin directory (`target/flowtrace/cache`), sealed
/// with the key of this user's Flowtrace home: entries a cloned repository or a copied
/// `target/` brings along do not verify and are compiled again, never loaded.
pub fn build_cache(target_dir: &Path) -> Result<CacheDir> {
    sealed_cache(target_dir.join(crate::build::OUTPUT_DIR).join("cache"))
}

/// A cache of compiled code in `dir`, sealed with the key of this user's Flowtrace home (see
/// [`build_cache`]).
pub fn sealed_cache(dir: PathBuf) -> Result<CacheDir> {
    let home = flowtrace_home()?;
    let key_path = Store::new(&home).cache_key_path();
    let key = CacheKey::load_or_create(&key_path)
        .context("failed to set up the key that seals compiled code")?;
    Ok(CacheDir::new(dir, key))
}

/// The manifest `path` names: the file itself, or `flowtrace.toml` in the directory.
pub fn manifest_at(path: &Path) -> Result<PathBuf> {
    let file = if path.is_dir() {
        path.join(MANIFEST_FILE_NAME)
    } else {
        path.to_path_buf()
    };
    if !file.is_file() {
        return Err(anyhow::anyhow!(
            "manifest `{}` does not exist",
            file.display()
        ))
        .help(format!(
            "pass the path of a plugin's `{MANIFEST_FILE_NAME}` or of its directory, or create \
             a plugin with `cargo flowtrace new <path>`"
        ));
    }
    Ok(file)
}

/// The nearest `flowtrace.toml` in `start` or its parents.
pub fn find_manifest(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(MANIFEST_FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let error = anyhow::anyhow!(
        "could not find `{MANIFEST_FILE_NAME}` in `{}` or any parent directory",
        start.display()
    );
    Err(error).help(
        "run this inside a plugin's directory, pass `--manifest-path <path>`, or create a \
         plugin with `cargo flowtrace new <path>`",
    )
}
