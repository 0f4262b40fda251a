//! The twelve contract plugins: built with the CLI's own build (the code `cargo flowtrace
//! build` runs, linked into this binary), validated, and loaded into one runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use cargo_flowtrace::build::{build, BuildRequest, Built};
use cargo_flowtrace::term::{ColorChoice, MessageFormat, Term, Verbosity};
use flowtrace_plugins::cache::{CacheDir, CacheKey};
use flowtrace_plugins::manifest::{ConfigValue, PluginKind};
use flowtrace_plugins::{HostCaps, LoadOptions, Plugin, Runtime, RuntimeConfig};

/// The languages, the first one the reference the others are compared with.
pub const LANGUAGES: [&str; 3] = ["rust", "python", "typescript"];

/// One built plugin per language and kind.
pub struct Plugins {
    runtime: Runtime,
    built: BTreeMap<(&'static str, PluginKind), Built>,
}

/// The workspace's target directory (this binary's `CARGO_TARGET_TMPDIR` is `<target>/tmp`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir is in the target dir")
        .to_path_buf()
}

/// Point the CLI's build at the shared places. Called before any thread starts: the build
/// reads them from the environment.
pub fn set_up_environment() {
    let target = target_dir();
    // The Python and TypeScript toolchains the CLI's tests installed (or will install).
    std::env::set_var("FLOWTRACE_HOME", target.join("flowtrace-test-home"));
    // One target dir for the four Rust plugins: the SDK and wit-bindgen compile once.
    std::env::set_var("CARGO_TARGET_DIR", target.join("contract-guests"));
}

fn plugin_dir(language: &str, kind: PluginKind) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("plugins")
        .join(language)
        .join(kind.as_str())
}

impl Plugins {
    /// Build the plugins of `kinds` in every language, two at a time (the machines this
    /// runs on have two cores; a Python or TypeScript build keeps one busy).
    pub fn build(kinds: &[PluginKind]) -> Result<Self, String> {
        // Popped from the end: the slow Python and TypeScript builds first.
        let queue: Vec<(&'static str, PluginKind)> = LANGUAGES
            .iter()
            .flat_map(|&language| kinds.iter().map(move |&kind| (language, kind)))
            .collect();
        let queue = Mutex::new(queue);
        let built = Mutex::new(BTreeMap::new());
        let errors = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| loop {
                    let Some((language, kind)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    match build_one(language, kind) {
                        Ok(b) => {
                            built.lock().unwrap().insert((language, kind), b);
                        }
                        Err(e) => errors.lock().unwrap().push(e),
                    }
                });
            }
        });
        let errors = errors.into_inner().unwrap();
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        let target = target_dir().join("contract-cache");
        let key = CacheKey::load_or_create(&target.join("key")).map_err(|e| e.to_string())?;
        let runtime = Runtime::with_config(RuntimeConfig {
            caps: caps(),
            cache: Some(CacheDir::new(target, key)),
            pool_size: None,
            ..RuntimeConfig::default()
        })
        .map_err(|e| e.to_string())?;
        Ok(Self {
            runtime,
            built: built.into_inner().unwrap(),
        })
    }

    /// The plugin of `kind` in `language`, with these config overrides.
    pub fn load(
        &self,
        language: &str,
        kind: PluginKind,
        config: &[(&str, ConfigValue)],
    ) -> Result<Plugin, String> {
        let built = self
            .built
            .iter()
            .find(|((l, k), _)| *l == language && *k == kind)
            .map(|(_, b)| b)
            .ok_or_else(|| format!("the {language} {kind} was not built"))?;
        let options = LoadOptions {
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..LoadOptions::default()
        };
        self.runtime
            .load(&built.bytes, &built.manifest, options)
            .map_err(|e| format!("loading the {language} {kind}: {e}"))
    }
}

/// The caps of the suite's host, which its plugins are built for: room for the 10,000-span
/// trace whole; a busy machine must not time out.
fn caps() -> HostCaps {
    HostCaps {
        output: 16 << 20,
        timeout: Duration::from_secs(120),
        ..HostCaps::default()
    }
}

fn build_one(language: &'static str, kind: PluginKind) -> Result<Built, String> {
    let term = Term::new(MessageFormat::Human, Verbosity::Quiet, ColorChoice::Never);
    let request = BuildRequest {
        manifest_path: plugin_dir(language, kind).join("flowtrace.toml"),
        release: false,
        typecheck: true,
        dev_engine: false,
        caps: caps(),
    };
    let built = build(&term, &request)
        .map_err(|e| format!("building the {language} {kind} failed: {e:?}"))?;
    if built.manifest.plugin.kind != kind {
        return Err(format!("the {language} {kind} declares another kind"));
    }
    wasmparser::Validator::new_with_features(flowtrace_plugins::inspect::FEATURES)
        .validate_all(&built.bytes)
        .map_err(|e| format!("the {language} {kind} is not a valid component: {e}"))?;
    eprintln!(
        "built the {language} {kind} in {:.1?}{}",
        built.elapsed,
        if built.fresh { " (fresh)" } else { "" }
    );
    Ok(built)
}
