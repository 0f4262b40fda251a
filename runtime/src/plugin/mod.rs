//! Loaded plugins: load once, call many times, from many threads.

use crate::failure::SourceMapper;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::Digest;
use wasmtime::component::{Component, InstancePre};

mod kinds;
mod lift;
pub(crate) mod observe;
mod options;
mod preload;
mod run;

use crate::cache::{CacheDir, CacheFailure, CacheOutcome, CompileCache, Lookup};
use crate::capability::{self, CapabilityReport};
use crate::engine::Runtime;
use crate::error::LoadError;
use crate::host::{linker, HostState, PluginContext, Services};
use crate::identity::FileIdentity;
use crate::inspect::{self, Inspection};
use crate::manifest::{Capabilities, ConfigValue, Manifest, PluginId};

pub use crate::capability::CONTRACT_VERSION;
pub use kinds::evaluator::batch::{Evaluation, MisplacedResult, TRACES_PER_CALL};

/// What a call returned, and the last lines it logged (which went to the
/// [`LogSink`](crate::services::LogSink) too).
#[derive(Debug)]
pub struct Logged<T> {
    /// What the call returned.
    pub value: T,
    /// The last lines it logged, bounded ([`CallLog`](crate::services::CallLog)).
    pub log: crate::services::CallLog,
}
use kinds::Exports;
pub use kinds::{Embedder, Evaluator, Exporter, KindHandle, PluginKind, Transformer};
pub use observe::{CallId, CallObserver, CallOutcome, CallRecord, CALL_SPAN};
pub use options::{CallOptions, CancelHandle};
pub use preload::{Preload, PRELOAD_FUNC, PRELOAD_INTERFACE};

/// How to load a plugin beyond its bytes and manifest.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The capabilities the user granted; `None` grants what the manifest declares. The
    /// linker links only these, so a plugin granted less than it declares fails to load.
    pub grants: Option<Capabilities>,
    /// Overrides of `[config]` defaults, checked against the declared types.
    pub config: BTreeMap<String, ConfigValue>,
    /// The services behind the host interfaces.
    pub services: Services,
    /// Keep this plugin's compiled code here instead of in the runtime's cache (the
    /// registry keeps it next to the installed component, sealed with its home's key).
    pub cache: Option<CacheDir>,
    /// Code to hand to every new instance before its call: for test harnesses only
    /// ([`Preload`]).
    pub preload: Option<Preload>,
}

/// The limits in force for a plugin: its `[limits]`, within the host's caps. What they let a
/// call cost the host: [`HostCaps`](crate::HostCaps#host-memory-per-call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// Linear memory, bytes.
    pub memory: usize,
    /// Wall-clock time per call.
    pub timeout: Duration,
    /// Size of what a call returns, bytes.
    pub output: usize,
}

/// A loaded, checked, compiled plugin. Cheap to clone and safe to call from many threads at
/// once: every call runs in a fresh instance, so a trap, a timeout or a limit hit in one call
/// never affects the next.
///
/// Every call has an `_async` form, the primary one: it runs on the caller's executor and
/// yields to it while the guest runs (at every epoch tick, [`EPOCH_TICK`](crate::EPOCH_TICK)),
/// so other tasks of a current-thread runtime keep running. The blocking form polls the same
/// future on the calling thread, wherever that is (a tokio worker or `spawn_blocking` thread
/// included): no thread is spawned per call. On a tokio worker it blocks that worker for the
/// whole call, as any blocking call does: in async code, await the `_async` form.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
    /// The options of the calls made through this handle.
    call: CallOptions,
}

struct PluginInner {
    runtime: Runtime,
    manifest: Manifest,
    ctx: Arc<PluginContext>,
    pre: InstancePre<HostState>,
    exports: Exports,
    /// What every new instance is given first ([`LoadOptions::preload`]).
    preload: Option<preload::Bound>,
    limits: EffectiveLimits,
    report: CapabilityReport,
    cache: CacheOutcome,
    /// The compiled code, shared with every other plugin of this runtime loaded from the
    /// same component (the `InstancePre` above holds it too).
    code: Arc<SharedCode>,
    /// This plugin's share of the instance pool
    /// ([`RuntimeConfig::pool_share`](crate::RuntimeConfig::pool_share)).
    share: Option<Arc<tokio::sync::Semaphore>>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.ctx.id)
            .field("kind", &self.inner.manifest.plugin.kind)
            .field("limits", &self.limits())
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Check and load a plugin: the contract version, the limits against the host caps, the
    /// config overrides against `[config]`, the component's imports and exports against the
    /// manifest (the capability check), then compile (or load from the cache) and link with
    /// only the granted interfaces.
    ///
    /// The compiled code is shared: while a plugin loaded from the same component (by
    /// sha256) into this runtime is alive, a load reuses its code instead of reading or
    /// compiling it again ([`CacheOutcome::Shared`]), so 50 loads of an 18 MB Python plugin
    /// hold its code once. Every load still checks the policy against its own manifest and
    /// links with its own grants, config and services; the code is freed with the last
    /// plugin that uses it.
    pub fn load(
        &self,
        bytes: &[u8],
        manifest: &Manifest,
        options: LoadOptions,
    ) -> Result<Plugin, LoadError> {
        self.load_hashed(bytes, None, manifest, options)
    }

    /// [`load`](Runtime::load) for a test harness's dev mode: every instance of the plugin
    /// also sees `sources`, read-only, at the guest path
    /// [`DEV_SOURCES`](crate::DEV_SOURCES); a dev-mode engine component (an interpreter
    /// built once) loads the plugin's own sources from there when it is first called. Only
    /// with the `dev-sources` feature, which the Flowtrace app does not enable: production
    /// plugins never get this access.
    #[cfg(feature = "dev-sources")]
    pub fn load_dev(
        &self,
        bytes: &[u8],
        manifest: &Manifest,
        options: LoadOptions,
        sources: &std::path::Path,
    ) -> Result<Plugin, LoadError> {
        self.load_from(
            ComponentSource::Bytes(bytes),
            None,
            manifest,
            options,
            Some(sources.to_path_buf()),
        )
    }

    /// [`load`](Runtime::load) of `bytes` whose sha256 the caller has just computed
    /// (`verified_sha256`, lowercase hex): the registry checks every component against its
    /// recorded hash before loading it, and hashing an 18 MB component again would double
    /// the cost of a cached load. Crate-private: a wrong hash would pick another
    /// component's compiled code.
    pub(crate) fn load_hashed(
        &self,
        bytes: &[u8],
        verified_sha256: Option<&str>,
        manifest: &Manifest,
        options: LoadOptions,
    ) -> Result<Plugin, LoadError> {
        self.load_from(
            ComponentSource::Bytes(bytes),
            verified_sha256,
            manifest,
            options,
            None,
        )
    }

    /// [`load`](Runtime::load) of the installed component open as `file`, which the
    /// registry found unchanged since its bytes were found to hash to `sha256` (its identity
    /// is `identity`, [`crate::identity`]): the file is read only when the compiled code is
    /// neither held by this runtime nor in the cache.
    pub(crate) fn load_unchanged(
        &self,
        file: &std::fs::File,
        identity: FileIdentity,
        sha256: &str,
        manifest: &Manifest,
        options: LoadOptions,
    ) -> Result<Plugin, LoadError> {
        self.load_from(
            ComponentSource::Unchanged { file, identity },
            Some(sha256),
            manifest,
            options,
            None,
        )
    }

    fn load_from(
        &self,
        source: ComponentSource<'_>,
        verified_sha256: Option<&str>,
        manifest: &Manifest,
        options: LoadOptions,
        dev_sources: Option<std::path::PathBuf>,
    ) -> Result<Plugin, LoadError> {
        let id = manifest.plugin.id.clone();
        if !manifest.plugin.flowtrace.matches(&CONTRACT_VERSION) {
            return Err(LoadError::Contract {
                plugin: id,
                required: manifest.plugin.flowtrace.clone(),
                host: CONTRACT_VERSION,
            });
        }
        let limits = effective_limits(self, manifest)?;
        let config = resolve_config(manifest, options.config)?;
        let engine = &self.inner.engine;
        let sha256 = match (verified_sha256, &source) {
            (Some(hash), _) => hash.to_string(),
            (None, ComponentSource::Bytes(bytes)) => sha256_hex(bytes),
            (None, ComponentSource::Unchanged { .. }) => {
                unreachable!("an unchanged file has a hash")
            }
        };
        // Code this runtime already holds for this component: shared, nothing read.
        let (code, cache) = match self.inner.shared.get(&sha256) {
            Some(code) => (code, CacheOutcome::Shared),
            None => {
                let (component, inspection, bytes, outcome) =
                    self.compiled(manifest, &sha256, &source, options.cache.as_ref())?;
                // The inspection lists the custom sections: a component without a source
                // map (every Rust plugin) is not read again to look for one.
                let has_map = inspection
                    .custom_sections
                    .iter()
                    .any(|c| c.name == crate::failure::SOURCE_MAP_SECTION);
                let source_map = match (&bytes, &source) {
                    _ if !has_map => None,
                    (Some(bytes), _) => SourceMapper::find(bytes),
                    (None, ComponentSource::Bytes(bytes)) => SourceMapper::find(bytes),
                    (None, ComponentSource::Unchanged { file, .. }) => {
                        SourceMapper::find_in_file(file)
                    }
                };
                let code = self.inner.shared.insert(SharedCode {
                    component,
                    inspection,
                    source_map: source_map.map(Arc::new),
                    sha256: sha256.clone(),
                    codes: Arc::downgrade(&self.inner.shared.0),
                });
                (code, outcome)
            }
        };
        // The policy is checked on every load, with the inspection of the shared code too.
        let report = check_policy(&code.inspection, manifest)?;
        let grants = options
            .grants
            .unwrap_or_else(|| manifest.capabilities.clone());
        let link_err = |e: wasmtime::Error| LoadError::Link {
            plugin: id.clone(),
            source: e.into_boxed_dyn_error(),
        };
        let pre = linker(engine, &grants)
            .and_then(|l| l.instantiate_pre(&code.component))
            .map_err(link_err)?;
        let exports = Exports::new(manifest.plugin.kind, &pre).map_err(link_err)?;
        let preload = match &options.preload {
            Some(preload) => Some(preload::Bound::new(preload, &pre).ok_or_else(|| {
                link_err(wasmtime::format_err!(
                    "the component exports no `{PRELOAD_INTERFACE}#{PRELOAD_FUNC}` to preload \
                     code with"
                ))
            })?),
            None => None,
        };
        // A preload's own source map, else the component's.
        let source_map = match options.preload.and_then(|p| p.source_map) {
            Some(map) => SourceMapper::new(map.to_vec()).map(Arc::new),
            None => code.source_map.clone(),
        };
        let env = grants
            .env
            .iter()
            .filter_map(|name| {
                let value = match &options.services.env {
                    Some(map) => map.get(name).cloned(),
                    None => std::env::var(name).ok(),
                };
                value.map(|v| (name.clone(), v))
            })
            .collect();
        let ctx = Arc::new(PluginContext {
            id,
            grants,
            config,
            services: options.services,
            env,
            source_map,
            dev_sources,
        });
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                runtime: self.clone(),
                manifest: manifest.clone(),
                ctx,
                pre,
                exports,
                preload,
                limits,
                report,
                cache,
                code,
                share: self
                    .inner
                    .pool_share
                    .map(|n| Arc::new(tokio::sync::Semaphore::new(n as usize))),
            }),
            call: CallOptions::default(),
        })
    }
}

impl Runtime {
    /// The compiled component with `sha256` and its inspection: from the cache, or
    /// compiled (into the cache) after the policy check. The bytes, when they had to be
    /// read from an unchanged file to compile them.
    #[allow(clippy::type_complexity)]
    fn compiled(
        &self,
        manifest: &Manifest,
        sha256: &str,
        source: &ComponentSource<'_>,
        own_cache: Option<&CacheDir>,
    ) -> Result<(Component, Inspection, Option<Vec<u8>>, CacheOutcome), LoadError> {
        let id = &manifest.plugin.id;
        let engine = &self.inner.engine;
        let own_cache = own_cache.map(|at| CompileCache::new(at, engine));
        let cache = own_cache.as_ref().or(self.inner.cache.as_ref());
        // A cache hit skips validation and decoding: the entry holds the inspection of the
        // component with this sha256, made when it was compiled.
        let outcome = match cache.map(|c| c.lookup(engine, sha256)) {
            Some(Lookup::Hit(hit)) => {
                let (component, inspection) = *hit;
                return Ok((component, inspection, None, CacheOutcome::Hit));
            }
            None => CacheOutcome::Disabled,
            Some(Lookup::Invalid) => CacheOutcome::Replaced,
            Some(Lookup::Absent) => CacheOutcome::Miss,
        };
        let read = match source {
            ComponentSource::Bytes(_) => None,
            ComponentSource::Unchanged { file, identity } => {
                Some(read_unchanged(id, file, *identity, sha256)?)
            }
        };
        let bytes = match (source, &read) {
            (_, Some(read)) => read.as_slice(),
            (ComponentSource::Bytes(bytes), None) => bytes,
            (ComponentSource::Unchanged { .. }, None) => unreachable!("read above"),
        };
        let inspection = inspect::inspect(bytes).map_err(|source| LoadError::Inspect {
            plugin: id.clone(),
            source,
        })?;
        // The policy is checked on every load, before any compilation.
        check_policy(&inspection, manifest)?;
        let compile_err = |e: wasmtime::Error| LoadError::Compile {
            plugin: id.clone(),
            source: e.into_boxed_dyn_error(),
        };
        let component = match cache {
            None => Component::new(engine, bytes).map_err(compile_err)?,
            Some(cache) => cache
                .compile_and_store(engine, bytes, &inspection)
                .map_err(|e| match e {
                    CacheFailure::Compile(e) => compile_err(e),
                    CacheFailure::Io { path, source } => LoadError::Cache { path, source },
                })?,
        };
        Ok((component, inspection, read, outcome))
    }

    /// How many components this runtime holds compiled code of (shared by every plugin
    /// loaded from one): an entry goes when the last plugin loaded from it is dropped. For
    /// tests and benchmarks.
    #[doc(hidden)]
    pub fn shared_code_entries(&self) -> usize {
        self.inner.shared.lock().len()
    }

    #[cfg(feature = "test-support")]
    pub(crate) fn cache_entry_unchanged(&self, at: &CacheDir, sha256: &str) -> bool {
        CompileCache::new(at, &self.inner.engine).unchanged(sha256)
    }

    /// Compile `bytes` into the compiled cache `at` (what an install does, so the first
    /// load is fast). Validates the component; the policy is checked at every load.
    ///
    /// It then checks the entry once more after its file times have settled, which
    /// records its identity ([`crate::cache`]): the first load maps the compiled code
    /// without reading or hashing it.
    pub fn precompile(&self, bytes: &[u8], at: &CacheDir) -> Result<CacheOutcome, LoadError> {
        let engine = &self.inner.engine;
        let cache = CompileCache::new(at, engine);
        let anonymous = || crate::manifest::PluginId::parse("unnamed").expect("a valid id");
        let sha256 = sha256_hex(bytes);
        // One check of an entry already there, once its times have settled (so the check
        // is recorded and the first load maps the code unread).
        match cache.settle(engine, &sha256) {
            Lookup::Hit(_) => return Ok(CacheOutcome::Hit),
            Lookup::Absent | Lookup::Invalid => {}
        }
        let inspection = inspect::inspect(bytes).map_err(|source| LoadError::Inspect {
            plugin: anonymous(),
            source,
        })?;
        cache
            .compile_and_store(engine, bytes, &inspection)
            .map_err(|e| match e {
                CacheFailure::Compile(e) => LoadError::Compile {
                    plugin: anonymous(),
                    source: e.into_boxed_dyn_error(),
                },
                CacheFailure::Io { path, source } => LoadError::Cache { path, source },
            })?;
        cache.settle(engine, &sha256);
        Ok(CacheOutcome::Miss)
    }
}

/// The capability check's verdict, or the error when it refuses.
fn check_policy(
    inspection: &Inspection,
    manifest: &Manifest,
) -> Result<CapabilityReport, LoadError> {
    let report = capability::check(inspection, manifest);
    if report.is_ok() {
        Ok(report)
    } else {
        Err(LoadError::Policy {
            plugin: manifest.plugin.id.clone(),
            report: Box::new(report),
        })
    }
}

/// Where a load's component comes from.
enum ComponentSource<'a> {
    /// Its bytes.
    Bytes(&'a [u8]),
    /// An installed component file found unchanged since it was hashed (its identity is
    /// `identity`).
    Unchanged {
        file: &'a std::fs::File,
        identity: FileIdentity,
    },
}

/// The bytes of `file`, unchanged since they hashed to `sha256`: read whole, and hashed
/// again only if the file's identity moved meanwhile.
fn read_unchanged(
    id: &PluginId,
    file: &std::fs::File,
    identity: FileIdentity,
    sha256: &str,
) -> Result<Vec<u8>, LoadError> {
    use std::io::{Read, Seek, SeekFrom};
    let read_err = |source| LoadError::Read {
        plugin: id.clone(),
        source,
    };
    let mut reader = file;
    reader.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut bytes = Vec::with_capacity(identity.size() as usize);
    reader.read_to_end(&mut bytes).map_err(read_err)?;
    if FileIdentity::of_file(file) != Some(identity) {
        let found = sha256_hex(&bytes);
        if found != sha256 {
            return Err(LoadError::Changed {
                plugin: id.clone(),
                expected: sha256.to_string(),
                found,
            });
        }
    }
    Ok(bytes)
}

/// The compiled code of one component and what is known of it, shared by every plugin a
/// runtime loads from that component: 50 loads of an 18 MB Python plugin hold its compiled
/// code once. Its entry in the runtime's [`SharedCodes`] goes with it.
pub(crate) struct SharedCode {
    component: Component,
    inspection: Inspection,
    source_map: Option<Arc<SourceMapper>>,
    sha256: String,
    codes: Weak<CodeMap>,
}

type CodeMap = Mutex<HashMap<String, Weak<SharedCode>>>;

/// A runtime's [`SharedCode`]s by component sha256 (weak: the plugins hold the code).
#[derive(Default)]
pub(crate) struct SharedCodes(Arc<CodeMap>);

impl SharedCodes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<SharedCode>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, sha256: &str) -> Option<Arc<SharedCode>> {
        self.lock().get(sha256).and_then(Weak::upgrade)
    }

    /// `code`, now shared; or the code another thread loaded from the same component
    /// meanwhile (then `code` is dropped).
    fn insert(&self, code: SharedCode) -> Arc<SharedCode> {
        let mut map = self.lock();
        if let Some(live) = map.get(&code.sha256).and_then(Weak::upgrade) {
            drop(map); // `code`'s drop takes the lock
            return live;
        }
        let code = Arc::new(code);
        map.insert(code.sha256.clone(), Arc::downgrade(&code));
        code
    }
}

impl Drop for SharedCode {
    fn drop(&mut self) {
        let Some(codes) = self.codes.upgrade() else {
            return;
        };
        let mut map = codes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Only the entry of this code: another load may have replaced it already.
        if map
            .get(&self.sha256)
            .is_some_and(|weak| weak.strong_count() == 0)
        {
            map.remove(&self.sha256);
        }
    }
}

fn effective_limits(rt: &Runtime, manifest: &Manifest) -> Result<EffectiveLimits, LoadError> {
    let caps = rt.caps();
    let asked = manifest.limits;
    let over = |what, asked: String, cap: String| LoadError::LimitAboveCap {
        plugin: manifest.plugin.id.clone(),
        what,
        asked,
        cap,
    };
    let memory = asked.memory.unwrap_or(caps.memory);
    if memory > caps.memory {
        return Err(over(
            "memory",
            format!("{memory} bytes"),
            format!("{} bytes", caps.memory),
        ));
    }
    let timeout = asked.timeout.unwrap_or(caps.timeout);
    if timeout > caps.timeout {
        return Err(over(
            "timeout",
            format!("{timeout:?}"),
            format!("{:?}", caps.timeout),
        ));
    }
    let output = asked.output.unwrap_or(caps.output);
    if output > caps.output {
        return Err(over(
            "output",
            format!("{output} bytes"),
            format!("{} bytes", caps.output),
        ));
    }
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok(EffectiveLimits {
        memory: to_usize(memory),
        timeout,
        output: to_usize(output),
    })
}

fn resolve_config(
    manifest: &Manifest,
    overrides: BTreeMap<String, ConfigValue>,
) -> Result<BTreeMap<String, ConfigValue>, LoadError> {
    let mut problems = Vec::new();
    let mut values = BTreeMap::new();
    for (key, value) in &overrides {
        match manifest.config.get(key) {
            None => problems.push(format!(
                "`{key}` is not declared under `[config]` in the manifest (declared: {})",
                if manifest.config.is_empty() {
                    "none".to_string()
                } else {
                    manifest
                        .config
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            Some(field) => {
                let value = match (field.ty, value) {
                    (crate::manifest::ConfigType::Float, ConfigValue::Integer(i)) => {
                        ConfigValue::Float(*i as f64)
                    }
                    _ => value.clone(),
                };
                if value.ty() != field.ty {
                    problems.push(format!(
                        "`{key}` is a {}, not a {}",
                        field.ty.as_str(),
                        value.ty().as_str()
                    ));
                } else {
                    values.insert(key.clone(), value);
                }
            }
        }
    }
    for (key, field) in &manifest.config {
        if values.contains_key(key) || overrides.contains_key(key) {
            continue;
        }
        match &field.default {
            Some(default) => {
                values.insert(key.clone(), default.clone());
            }
            None => problems.push(format!("`{key}` has no default and must be set")),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(LoadError::Config {
            plugin: manifest.plugin.id.clone(),
            problems,
        })
    }
}

impl Plugin {
    /// The plugin id.
    pub fn id(&self) -> &PluginId {
        &self.inner.ctx.id
    }

    /// The manifest it was loaded with.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// The runtime it was loaded into.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The limits in force: the plugin's `[limits]` within the host's caps, tightened by this
    /// handle's [`CallOptions`].
    pub fn limits(&self) -> EffectiveLimits {
        self.call.tighten(self.inner.limits)
    }

    /// A handle to the same loaded plugin whose calls run with `options` (a tighter deadline
    /// or memory cap, a [`CancelHandle`]) instead of this handle's. Cheap: nothing is loaded
    /// again. An option never loosens a limit (see [`CallOptions`]).
    pub fn with_options(&self, options: CallOptions) -> Plugin {
        Plugin {
            inner: self.inner.clone(),
            call: options,
        }
    }

    /// The options of this handle's calls.
    pub fn call_options(&self) -> &CallOptions {
        &self.call
    }

    /// The capability check's verdict on every import.
    pub fn capability_report(&self) -> &CapabilityReport {
        &self.inner.report
    }

    /// Whether the compiled code came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache
    }

    /// The sha256 of the component, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.inner.code.sha256
    }

    /// Whether this plugin and `other` run the same compiled code (loaded from the same
    /// component into the same runtime). For tests and benchmarks.
    #[doc(hidden)]
    pub fn shares_code_with(&self, other: &Plugin) -> bool {
        Arc::ptr_eq(&self.inner.code, &other.inner.code)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}
