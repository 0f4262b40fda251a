//! The host side of the contract: per-store state, the linker, and one file per interface.

pub(crate) mod batch;
mod config;
pub(crate) mod convert;
mod embeddings;
pub(crate) mod http;
mod kv;
mod log;
pub mod services;
pub(crate) mod stdio;
pub mod trace;
mod traces;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings;
use crate::failure::FailureNotes;
use crate::manifest::{Capabilities, ConfigValue, PluginId};
use crate::plugin::observe::CallCx;
use batch::{BatchScope, KvStage};
use services::{
    CallLog, EmbeddingProvider, HttpStub, KvStore, LogLevel, LogRecord, LogSink, TraceProvider,
};

/// Most bytes of log text one call may write; past it, one notice and then silence.
const MAX_LOG_BYTES_PER_CALL: usize = 1 << 20;

/// The services a plugin's host interfaces are served by. Every field has a working default.
#[derive(Clone)]
pub struct Services {
    /// Where log lines and guest stdout/stderr go.
    pub log: Arc<dyn LogSink>,
    /// The store behind `kv` (capability `storage`).
    pub kv: Arc<dyn KvStore>,
    /// Serves `traces` (capability `traces`); none answers "not found" to every id.
    pub traces: Option<Arc<dyn TraceProvider>>,
    /// Serves `embeddings` (capability `embeddings`); none answers "unavailable".
    pub embeddings: Option<Arc<dyn EmbeddingProvider>>,
    /// Answers allowed HTTP requests instead of the network (test fixtures).
    pub http_stub: Option<Arc<dyn HttpStub>>,
    /// Directory the `fs-read` grants are relative to; none preopens nothing.
    pub data_dir: Option<PathBuf>,
    /// Values for the granted `env` variables; none reads them from this process.
    pub env: Option<BTreeMap<String, String>>,
}

impl Default for Services {
    fn default() -> Self {
        Self {
            log: Arc::new(services::TracingLog),
            kv: Arc::new(services::MemoryKv::default()),
            traces: None,
            embeddings: None,
            http_stub: None,
            data_dir: None,
            env: None,
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("traces", &self.traces.is_some())
            .field("embeddings", &self.embeddings.is_some())
            .field("http_stub", &self.http_stub.is_some())
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// Everything about a loaded plugin that every call shares.
pub(crate) struct PluginContext {
    pub(crate) id: PluginId,
    pub(crate) grants: Capabilities,
    pub(crate) config: BTreeMap<String, ConfigValue>,
    pub(crate) services: Services,
    /// The granted env vars with their values, resolved once at load.
    pub(crate) env: Vec<(String, String)>,
    /// The source map of a JavaScript plugin's bundle, when its component carries one.
    pub(crate) source_map: Option<Arc<crate::failure::SourceMapper>>,
    /// A test harness's dev mode only (`Runtime::load_dev`): the plugin's directory,
    /// preopened read-only at [`DEV_SOURCES`].
    pub(crate) dev_sources: Option<PathBuf>,
}

/// The guest path a dev-mode plugin's sources are preopened at (`Runtime::load_dev`, only
/// with the `dev-sources` feature): read-only, its own directory, never in production.
pub const DEV_SOURCES: &str = "/flowtrace-dev";

/// A request the policy refused during one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// What was attempted, e.g. `GET http://example.com/`.
    pub what: String,
    /// Why it was refused.
    pub reason: String,
}

/// State of one call: log budget, the denials it met, and for a batch call its progress.
pub(crate) struct CallScope {
    pub(crate) ctx: Arc<PluginContext>,
    logged: AtomicUsize,
    pub(crate) denials: Mutex<Vec<Denial>>,
    /// What the guest said of its failures (a panic on stderr, the SDKs' reports).
    pub(crate) failures: Mutex<FailureNotes>,
    /// Set for a batch call: its log lines are held back here until its outcome is known.
    pub(crate) batch: Option<BatchScope>,
    /// The call this is the state of (its id and traces), for the log sink.
    pub(crate) call: Option<Arc<CallCx>>,
    /// The last lines of a single call, for its caller (a batch call's are held back).
    tail: Mutex<CallLog>,
}

impl CallScope {
    pub(crate) fn new(ctx: Arc<PluginContext>, batch: Option<BatchScope>) -> Self {
        Self {
            ctx,
            logged: AtomicUsize::new(0),
            denials: Mutex::new(Vec::new()),
            failures: Mutex::default(),
            batch,
            call: crate::plugin::observe::current(),
            tail: Mutex::new(CallLog::default()),
        }
    }

    /// The last lines this call logged (taken: a second call gets none).
    pub(crate) fn take_log(&self) -> CallLog {
        std::mem::take(&mut *self.tail.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Log one line within the per-call budget (held back in a batch call).
    pub(crate) fn log_line(&self, level: LogLevel, message: &str) {
        let before = self.logged.fetch_add(message.len(), Ordering::Relaxed);
        if before + message.len() <= MAX_LOG_BYTES_PER_CALL {
            self.emit(level, message);
        } else if before <= MAX_LOG_BYTES_PER_CALL {
            self.emit(
                LogLevel::Warn,
                "log output of this call passed 1 MiB; the rest is dropped",
            );
        }
    }

    /// What the guest said of its failures so far.
    pub(crate) fn failures(&self) -> std::sync::MutexGuard<'_, FailureNotes> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn emit(&self, level: LogLevel, message: &str) {
        let call = self.call.as_deref();
        match &self.batch {
            Some(batch) => batch.hold(call, level, message),
            None => {
                self.ctx.services.log.record(&LogRecord {
                    plugin: &self.ctx.id,
                    call: call.map(|c| c.id),
                    trace: call.and_then(|c| c.trace(0)),
                    level,
                    message,
                });
                self.tail
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(level, message);
            }
        }
    }

    pub(crate) fn record_denial(&self, what: String, reason: String) {
        self.denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Denial { what, reason });
    }
}

/// What made a store stop growing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitHit {
    Memory { limit: usize, desired: usize },
    Table { limit: usize, desired: usize },
}

/// Per-store resource limits that remember which limit was hit.
pub(crate) struct Limiter {
    pub(crate) memory: usize,
    pub(crate) table_elements: usize,
    pub(crate) hit: Option<LimitHit>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.hit = Some(LimitHit::Memory {
                limit: self.memory,
                desired,
            });
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached (asked for {desired})",
                self.memory
            ));
        }
        crate::plugin::observe::memory_grew(desired.saturating_sub(current));
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.hit = Some(LimitHit::Table {
                limit: self.table_elements,
                desired,
            });
            return Err(wasmtime::format_err!(
                "table limit of {} elements reached",
                self.table_elements
            ));
        }
        Ok(true)
    }
}

/// The `T` of every plugin store.
pub(crate) struct HostState {
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) http_ctx: WasiHttpCtx,
    pub(crate) http: http::HttpPolicy,
    pub(crate) limiter: Limiter,
    pub(crate) ctx: Arc<PluginContext>,
    pub(crate) scope: Arc<CallScope>,
    /// A batch call's `kv` writes, held back until it succeeds.
    pub(crate) kv_stage: Option<KvStage>,
    /// The batch trace whose handle the guest read last (saves telling the scope again).
    pub(crate) on_trace: Option<u32>,
}

impl HostState {
    /// The state of a single call.
    pub(crate) fn new(ctx: &Arc<PluginContext>, memory: usize) -> Self {
        Self::with_scope(ctx, memory, CallScope::new(ctx.clone(), None))
    }

    /// The state of a batch call: log lines and `kv` writes held back, progress tracked.
    pub(crate) fn for_batch(ctx: &Arc<PluginContext>, memory: usize, batch: BatchScope) -> Self {
        let mut state = Self::with_scope(ctx, memory, CallScope::new(ctx.clone(), Some(batch)));
        state.kv_stage = Some(KvStage::default());
        state
    }

    fn with_scope(ctx: &Arc<PluginContext>, memory: usize, scope: CallScope) -> Self {
        let scope = Arc::new(scope);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdio::LogPipe::stdout(scope.clone()))
            .stderr(stdio::LogPipe::stderr(scope.clone()))
            .envs(&ctx.env)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(dir) = &ctx.services.data_dir {
            for rel in &ctx.grants.fs_read {
                let host = dir.join(rel);
                if host.is_dir() {
                    // A directory that vanished since load is left out, not fatal.
                    let _ = wasi.preopened_dir(&host, rel, FsPerms::ReadOnly);
                }
            }
        }
        if let Some(dir) = &ctx.dev_sources {
            // Missing, the plugin's first call fails to import it, and says so.
            let _ = wasi.preopened_dir(dir, DEV_SOURCES, FsPerms::ReadOnly);
        }
        Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http_ctx: WasiHttpCtx::new(),
            http: http::HttpPolicy {
                scope: scope.clone(),
            },
            limiter: Limiter {
                memory,
                table_elements: 1 << 20,
                hit: None,
            },
            ctx: ctx.clone(),
            scope,
            kv_stage: None,
            on_trace: None,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http_ctx,
            table: &mut self.table,
            hooks: &mut self.http,
        }
    }
}

/// The linker for a plugin with these grants: all of WASI (sandboxed by the store's
/// `WasiCtx`: no preopens, env vars, sockets or hosts beyond the grants), `wasi:http` behind
/// the allow-list, and only the `flowtrace:plugin` interfaces the grants allow.
pub(crate) fn linker(
    engine: &Engine,
    grants: &Capabilities,
) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    // Which interfaces a grant links comes from the capability table, the same one the
    // capability check reads.
    for interface in crate::capability::granted_interfaces(grants) {
        let l = &mut linker;
        match interface {
            "types" => bindings::types::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)?,
            "log" => log::add_to_linker(l)?,
            "config" => bindings::config::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)?,
            "kv" => bindings::kv::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)?,
            "traces" => bindings::traces::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)?,
            "embeddings" => bindings::embeddings::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)?,
            other => wasmtime::bail!("host interface `{other}` has no implementation"),
        }
    }
    Ok(linker)
}
