//! Loaded plugins: load once, call many times, from many threads.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Instance, InstancePre, Resource};
use wasmtime::{Store, Trap};

use crate::bindings::{embedder, evaluator, exporter, transformer};
use crate::cache::{CacheFailure, CacheOutcome};
use crate::capability::{self, CapabilityReport};
use crate::engine::{Runtime, EPOCH_TICK};
use crate::error::{CallError, CallFailure, LoadError};
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::{convert, linker, HostState, LimitHit, PluginContext, Services};
use crate::inspect;
use crate::manifest::{Capabilities, ConfigValue, Manifest, PluginId, PluginKind};
use crate::results::{EvalResult, ExportFormat, PluginError};
use crate::trace::Trace;

pub use crate::capability::CONTRACT_VERSION;

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
    /// Keep this plugin's compiled code here instead of in the runtime's cache directory
    /// (the registry keeps it next to the installed component).
    pub cache_dir: Option<std::path::PathBuf>,
}

/// The limits in force for a plugin: its `[limits]`, within the host's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// Linear memory, bytes.
    pub memory: usize,
    /// Wall-clock time per call.
    pub timeout: Duration,
    /// Size of what a call returns, bytes.
    pub output: usize,
}

enum Exports {
    Evaluator(evaluator::GuestIndices),
    Exporter(exporter::GuestIndices),
    Embedder(embedder::GuestIndices),
    Transformer(transformer::GuestIndices),
}

/// A loaded, checked, compiled plugin. Cheap to clone and safe to call from many threads at
/// once: every call runs in a fresh instance, so a trap, a timeout or a limit hit in one call
/// never affects the next.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    runtime: Runtime,
    manifest: Manifest,
    ctx: Arc<PluginContext>,
    pre: InstancePre<HostState>,
    exports: Exports,
    limits: EffectiveLimits,
    report: CapabilityReport,
    cache: CacheOutcome,
    sha256: String,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.ctx.id)
            .field("kind", &self.inner.manifest.plugin.kind)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Check and load a plugin: the contract version, the limits against the host caps, the
    /// config overrides against `[config]`, the component's imports and exports against the
    /// manifest (the capability check), then compile (or load from the cache) and link with
    /// only the granted interfaces.
    pub fn load(
        &self,
        bytes: &[u8],
        manifest: &Manifest,
        options: LoadOptions,
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
        let inspection = inspect::inspect(bytes).map_err(|source| LoadError::Inspect {
            plugin: id.clone(),
            source,
        })?;
        let report = capability::check(&inspection, manifest);
        if !report.is_ok() {
            return Err(LoadError::Policy {
                plugin: id,
                report: Box::new(report),
            });
        }
        let engine = &self.inner.engine;
        let own_cache = options
            .cache_dir
            .as_ref()
            .map(|dir| crate::cache::CompileCache::new(dir.clone(), engine));
        let (component, cache) = match own_cache.as_ref().or(self.inner.cache.as_ref()) {
            None => {
                let component =
                    wasmtime::component::Component::new(engine, bytes).map_err(|e| {
                        LoadError::Compile {
                            plugin: id.clone(),
                            source: e.into_boxed_dyn_error(),
                        }
                    })?;
                (component, CacheOutcome::Disabled)
            }
            Some(cache) => cache
                .load_or_compile(engine, bytes, &inspection.sha256)
                .map_err(|e| match e {
                    CacheFailure::Compile(e) => LoadError::Compile {
                        plugin: id.clone(),
                        source: e.into_boxed_dyn_error(),
                    },
                    CacheFailure::Io { path, source } => LoadError::Cache { path, source },
                })?,
        };
        let grants = options
            .grants
            .unwrap_or_else(|| manifest.capabilities.clone());
        let link_err = |e: wasmtime::Error| LoadError::Link {
            plugin: id.clone(),
            source: e.into_boxed_dyn_error(),
        };
        let pre = linker(engine, &grants)
            .and_then(|l| l.instantiate_pre(&component))
            .map_err(link_err)?;
        let exports = match manifest.plugin.kind {
            PluginKind::Evaluator => evaluator::GuestIndices::new(&pre).map(Exports::Evaluator),
            PluginKind::Exporter => exporter::GuestIndices::new(&pre).map(Exports::Exporter),
            PluginKind::Embedder => embedder::GuestIndices::new(&pre).map(Exports::Embedder),
            PluginKind::Transformer => {
                transformer::GuestIndices::new(&pre).map(Exports::Transformer)
            }
        }
        .map_err(link_err)?;
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
        });
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                runtime: self.clone(),
                manifest: manifest.clone(),
                ctx,
                pre,
                exports,
                limits,
                report,
                cache,
                sha256: inspection.sha256,
            }),
        })
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

/// Run `fut` on a runtime from synchronous code, wherever it is called from.
fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        // Inside an async context blocking this thread on a runtime panics; use another.
        std::thread::scope(|s| {
            s.spawn(|| wasmtime_wasi::runtime::in_tokio(fut))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    } else {
        wasmtime_wasi::runtime::in_tokio(fut)
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

    /// The limits in force.
    pub fn limits(&self) -> EffectiveLimits {
        self.inner.limits
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
        &self.inner.sha256
    }

    fn fail(&self, reason: CallFailure) -> CallError {
        CallError {
            plugin: self.inner.ctx.id.clone(),
            reason,
        }
    }

    fn wrong_kind(&self, expected: &'static str) -> CallError {
        self.fail(CallFailure::WrongKind {
            kind: self.inner.manifest.plugin.kind,
            expected,
        })
    }

    /// A fresh store and instance with the deadline and memory limit armed.
    async fn instantiate(&self) -> Result<(Store<HostState>, Instance), CallError> {
        let limits = self.inner.limits;
        let mut store = Store::new(
            &self.inner.runtime.inner.engine,
            HostState::new(&self.inner.ctx, limits.memory),
        );
        store.limiter(|s| &mut s.limiter);
        let ticks = limits.timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        match self.inner.pre.instantiate_async(&mut store).await {
            Ok(instance) => Ok((store, instance)),
            Err(err) => Err(self.classify(&store, err)),
        }
    }

    /// Map a wasmtime error to what went wrong, looking at what the store recorded.
    fn classify(&self, store: &Store<HostState>, err: wasmtime::Error) -> CallError {
        let state = store.data();
        if let Some(LimitHit::Memory { limit, desired }) = state.limiter.hit {
            return self.fail(CallFailure::MemoryLimit { limit, desired });
        }
        if let Some(trap) = err.downcast_ref::<Trap>() {
            if *trap == Trap::Interrupt {
                return self.fail(CallFailure::Timeout {
                    limit: self.inner.limits.timeout,
                });
            }
        }
        if err
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return self.fail(CallFailure::PoolExhausted(err.to_string()));
        }
        let denials = state
            .scope
            .denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if !denials.is_empty() {
            return self.fail(CallFailure::CapabilityDenied {
                denials,
                plugin_error: None,
            });
        }
        self.fail(CallFailure::Trap {
            message: err
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
        })
    }

    /// Run one call: `body` gets the store and instance; the whole call (instantiation
    /// included) runs under the deadline.
    async fn run<T, F>(&self, body: F) -> Result<T, CallError>
    where
        F: AsyncFnOnce(
            &mut Store<HostState>,
            &Instance,
        ) -> wasmtime::Result<Result<T, PluginError>>,
    {
        let limit = self.inner.limits.timeout;
        let (mut store, instance) = self.instantiate().await?;
        let outcome =
            tokio::time::timeout(limit + EPOCH_TICK * 2, body(&mut store, &instance)).await;
        match outcome {
            Err(_elapsed) => Err(self.fail(CallFailure::Timeout { limit })),
            Ok(Err(err)) => Err(self.classify(&store, err)),
            Ok(Ok(Err(plugin_error))) => {
                let denials = store
                    .data()
                    .scope
                    .denials
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                if denials.is_empty() {
                    Err(self.fail(CallFailure::Plugin(plugin_error)))
                } else {
                    Err(self.fail(CallFailure::CapabilityDenied {
                        denials,
                        plugin_error: Some(plugin_error),
                    }))
                }
            }
            Ok(Ok(Ok(value))) => Ok(value),
        }
    }

    /// Create and drop one instance (what every call pays before running guest code); for
    /// benchmarks.
    #[doc(hidden)]
    pub fn bench_instantiate(&self) -> Result<(), CallError> {
        block_on(async { self.instantiate().await.map(drop) })
    }

    /// Create and drop one store's host state (WASI context, tables, limits); for benchmarks.
    #[doc(hidden)]
    pub fn bench_host_state(&self) {
        drop(HostState::new(&self.inner.ctx, self.inner.limits.memory));
    }

    fn check_output(&self, size: usize) -> Result<(), CallError> {
        let limit = self.inner.limits.output;
        if size > limit {
            return Err(self.fail(CallFailure::OutputTooLarge { size, limit }));
        }
        Ok(())
    }

    /// Score one trace (evaluator plugins).
    pub async fn evaluate_async(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        let Exports::Evaluator(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an evaluator"));
        };
        let result = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handle = store.data_mut().table.push(TraceHandle(trace.clone()))?;
                let out = guest.call_evaluate(&mut *store, handle).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(eval_size(&result))?;
        self.validate_eval(convert::eval_result(result))
    }

    fn validate_eval(&self, result: EvalResult) -> Result<EvalResult, CallError> {
        if !(0.0..=1.0).contains(&result.score) {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "score {} is outside 0.0..=1.0",
                result.score
            ))));
        }
        Ok(result)
    }

    /// [`Plugin::evaluate_async`] for synchronous callers.
    pub fn evaluate(&self, trace: &PreparedTrace) -> Result<EvalResult, CallError> {
        block_on(self.evaluate_async(trace))
    }

    /// Score several traces in one instance (evaluator plugins). One result per trace; a
    /// trap or limit fails the whole batch.
    pub async fn evaluate_batch_async(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        let Exports::Evaluator(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an evaluator"));
        };
        let results = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest.call_evaluate_batch(&mut *store, &handles).await?;
                Ok(Ok(out))
            })
            .await?;
        if results.len() != traces.len() {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "{} results for {} traces",
                results.len(),
                traces.len()
            ))));
        }
        self.check_output(
            results
                .iter()
                .map(|r| r.as_ref().map_or(64, eval_size))
                .sum(),
        )?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                Ok(r) => self
                    .validate_eval(convert::eval_result(r))
                    .map_err(|e| e.reason),
                Err(e) => Err(CallFailure::Plugin(convert::plugin_error(e))),
            })
            .collect())
    }

    /// [`Plugin::evaluate_batch_async`] for synchronous callers.
    pub fn evaluate_batch(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        block_on(self.evaluate_batch_async(traces))
    }

    /// The formats an exporter writes.
    pub async fn formats_async(&self) -> Result<Vec<ExportFormat>, CallError> {
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let formats = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                Ok(Ok(guest.call_formats(&mut *store).await?))
            })
            .await?;
        Ok(formats
            .into_iter()
            .map(|f| ExportFormat {
                name: f.name,
                media_type: f.media_type,
                file_extension: f.file_extension,
            })
            .collect())
    }

    /// [`Plugin::formats_async`] for synchronous callers.
    pub fn formats(&self) -> Result<Vec<ExportFormat>, CallError> {
        block_on(self.formats_async())
    }

    /// Export traces in `format` (exporter plugins).
    pub async fn export_async(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Result<Vec<u8>, CallError> {
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let bytes = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest
                    .call_export_traces(&mut *store, format, &handles)
                    .await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(bytes.len())?;
        Ok(bytes)
    }

    /// [`Plugin::export_async`] for synchronous callers.
    pub fn export(&self, format: &str, traces: &[PreparedTrace]) -> Result<Vec<u8>, CallError> {
        block_on(self.export_async(format, traces))
    }

    /// The embedding dimension (embedder plugins).
    pub async fn dimension_async(&self) -> Result<u32, CallError> {
        let Exports::Embedder(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an embedder"));
        };
        self.run(async |store, instance| {
            let guest = indices.load(&mut *store, instance)?;
            Ok(Ok(guest.call_dimension(&mut *store).await?))
        })
        .await
    }

    /// [`Plugin::dimension_async`] for synchronous callers.
    pub fn dimension(&self) -> Result<u32, CallError> {
        block_on(self.dimension_async())
    }

    /// Embed texts (embedder plugins): one vector per text, all of the same length.
    pub async fn embed_async(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        let Exports::Embedder(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an embedder"));
        };
        let vectors = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let out = guest.call_embed(&mut *store, texts).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(vectors.iter().map(|v| v.len() * 4).sum())?;
        if vectors.len() != texts.len() {
            return Err(self.fail(CallFailure::InvalidResult(format!(
                "{} vectors for {} texts",
                vectors.len(),
                texts.len()
            ))));
        }
        if let Some(first) = vectors.first() {
            if let Some(bad) = vectors.iter().position(|v| v.len() != first.len()) {
                return Err(self.fail(CallFailure::InvalidResult(format!(
                    "vector {bad} has {} dimensions, vector 0 has {}",
                    vectors[bad].len(),
                    first.len()
                ))));
            }
        }
        Ok(vectors)
    }

    /// [`Plugin::embed_async`] for synchronous callers.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CallError> {
        block_on(self.embed_async(texts))
    }

    /// Rewrite traces (transformer plugins).
    pub async fn transform_async(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        let Exports::Transformer(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("a transformer"));
        };
        let out = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest.call_transform(&mut *store, &handles).await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        let traces: Vec<Trace> = out.into_iter().map(convert::trace_from_wit).collect();
        let size = serde_json::to_vec(&traces).map_or(usize::MAX, |v| v.len());
        self.check_output(size)?;
        Ok(traces)
    }

    /// [`Plugin::transform_async`] for synchronous callers.
    pub fn transform(&self, traces: &[PreparedTrace]) -> Result<Vec<Trace>, CallError> {
        block_on(self.transform_async(traces))
    }
}

fn push_traces(
    store: &mut Store<HostState>,
    traces: &[PreparedTrace],
) -> wasmtime::Result<Vec<Resource<TraceHandle>>> {
    traces
        .iter()
        .map(|t| Ok(store.data_mut().table.push(TraceHandle(t.clone()))?))
        .collect()
}

/// Bytes an evaluation result carries (its strings plus a fixed part per item).
fn eval_size(r: &crate::bindings::types::EvalResult) -> usize {
    use crate::bindings::types::MetricValue;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    32 + opt(&r.label)
        + opt(&r.explanation)
        + r.metrics
            .iter()
            .map(|m| {
                16 + m.name.len()
                    + match &m.value {
                        MetricValue::Text(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum::<usize>()
        + r.findings
            .iter()
            .map(|f| 16 + opt(&f.span_id) + f.message.len())
            .sum::<usize>()
}

/// An embedder plugin serves `flowtrace:plugin/embeddings` for other plugins.
impl crate::host::services::EmbeddingProvider for Plugin {
    fn dimension(&self) -> crate::host::services::BoxFuture<'_, Result<u32, PluginError>> {
        Box::pin(async move {
            self.dimension_async()
                .await
                .map_err(|e| PluginError::Unavailable(e.to_string()))
        })
    }

    fn embed(
        &self,
        texts: Vec<String>,
    ) -> crate::host::services::BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>> {
        Box::pin(async move {
            self.embed_async(&texts)
                .await
                .map_err(|e| PluginError::Unavailable(e.to_string()))
        })
    }
}
