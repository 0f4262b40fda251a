//! The wasmtime engine every plugin of a host shares: configuration, caps, the epoch ticker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::{CacheDir, CompileCache};
use crate::error::PrepareError;
use crate::host::trace::PreparedTrace;
use crate::plugin::CallObserver;
use crate::trace::Trace;

/// How often the epoch advances: the granularity of every deadline and of cancellation, and
/// the longest a running call goes without yielding to its executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The most a plugin may use in one call, and the largest trace the host prepares for one. A
/// plugin's `[limits]` may ask for less, never more.
///
/// # Host memory per call
///
/// With a plugin's effective `memory` and `output` limits, one call in flight (a job of `eval
/// -j N` runs one at a time) costs the host at most:
///
/// - **the guest's linear memory**: up to `memory` for each linear memory of the component (a
///   Rust plugin has one; the Python and JavaScript interpreters bring a few), plus its
///   tables and stack. The trace itself is host-owned and shared, never copied per call;
///   what the guest reads of it lands in its memory.
/// - **what the call returns**: measured where it lies in guest memory before anything is
///   copied, and copied only if it fits `output`. A result over the limit costs the host
///   nothing whatever its length fields claim (a length past the end of guest memory is a
///   trap). One that fits is copied once: its strings and bytes as counted, and the host's
///   structures around them, larger than the fixed part the limit counts for each record
///   (16 bytes for a finding is 48 on the host, twice while converted), so under 10 ×
///   `output`; an `embed`'s vectors add 24 bytes each, one per text. An `evaluate-batch`
///   call keeps each trace's result, each within `output`: up to
///   [`TRACES_PER_CALL`](crate::TRACES_PER_CALL) of them.
/// - **the arguments of each host call** the guest makes (log lines, `kv` values, texts to
///   embed, WASI buffers): at most `memory` bytes per host call (wasmtime's hostcall fuel,
///   set to the memory limit), freed when the call returns unless kept, and what is kept has
///   its own cap: a log line is read in guest memory and copied only within the 1 MiB a call
///   may log, a batch call holds back at most 4 MiB of `kv` writes, and the `kv` store has
///   its quota.
///
/// With the defaults: 128 MiB of guest memory per linear memory, under 10 MiB for a result
/// (16 of them for a batch call), and up to 128 MiB held during a host call. Measured with
/// `cargo xtask bench-output`: `eval -j 8` over 8 traces whose plugin fills 100 MB of its
/// memory and returns it as its explanation peaks at 700-770 MiB, about as much as when it
/// returns 100 bytes of it (the 8 guests' memory); copying the explanations before refusing
/// them took it to 1.3-1.5 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCaps {
    /// Linear memory per instance, bytes (default 128 MiB); also the most one host call
    /// copies of its arguments out of the guest.
    pub memory: u64,
    /// Wall-clock time per call (default 5 s).
    pub timeout: Duration,
    /// Size of what a call returns, bytes (default 1 MiB): the bytes of its strings, lists
    /// and vectors plus a fixed part per record, measured in guest memory before the host
    /// copies any of it (see above).
    pub output: u64,
    /// Spans per trace (default 100,000): [`Runtime::prepare`] refuses a larger trace before
    /// doing any work on it, so no trace costs the host more than this many spans' worth.
    pub spans: usize,
}

impl Default for HostCaps {
    fn default() -> Self {
        Self {
            memory: 128 << 20,
            timeout: Duration::from_secs(5),
            output: 1 << 20,
            spans: 100_000,
        }
    }
}

/// How to build a [`Runtime`].
///
/// # Instances, backpressure and shares
///
/// Every call runs in a fresh instance, and an instance needs a slot of the pool
/// ([`pool_size`](RuntimeConfig::pool_size), shared by every plugin of the runtime). A call
/// that finds every slot taken waits for one, up to [`pool_wait`](RuntimeConfig::pool_wait),
/// and fails with [`CallFailure::PoolExhausted`](crate::CallFailure::PoolExhausted) only
/// after that; the wait counts against no deadline (a call's deadline starts with its
/// instance). [`pool_share`](RuntimeConfig::pool_share) caps the slots one plugin holds at
/// once, so a plugin that is called a lot, or slowly, leaves room for the others. A plugin
/// whose call calls another plugin (an embedder serving `embeddings`) holds two slots: with
/// a pool of one slot, the inner call waits out `pool_wait` and the guest sees the
/// embedder as unavailable.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Per-call caps.
    pub caps: HostCaps,
    /// Where compiled components are cached, and the key that seals them (`None`: compile
    /// at every load). Use the key of the user's Flowtrace home
    /// ([`Registry::cache_key`](crate::registry::Registry::cache_key)) so entries outlive
    /// the process, or [`CacheKey::ephemeral`](crate::cache::CacheKey::ephemeral).
    pub cache: Option<CacheDir>,
    /// Instances that may be alive at once across all plugins (the pooling allocator's
    /// size, default 128); `None` allocates on demand, as many as are asked for, instead of
    /// from a pool.
    pub pool_size: Option<u32>,
    /// How long a call waits for a free instance slot (its plugin's share, then the pool)
    /// before it fails with [`CallFailure::PoolExhausted`](crate::CallFailure::PoolExhausted)
    /// (default 30 s).
    pub pool_wait: Duration,
    /// Most instances one plugin may hold at once (default `None`: as many as the pool
    /// has); its other calls wait for one of them as for a pool slot.
    pub pool_share: Option<u32>,
    /// Told about every call of every plugin of the runtime: its timings, memory, output
    /// and outcome (each call is also a `tracing` span, `flowtrace.plugin.call`).
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("caps", &self.caps)
            .field("cache", &self.cache)
            .field("pool_size", &self.pool_size)
            .field("pool_wait", &self.pool_wait)
            .field("pool_share", &self.pool_share)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            caps: HostCaps::default(),
            cache: None,
            pool_size: Some(128),
            pool_wait: Duration::from_secs(30),
            pool_share: None,
            observer: None,
        }
    }
}

/// A host for plugins: one wasmtime engine with epoch interruption and (by default) the
/// pooling allocator, a ticker thread that advances the epoch every [`EPOCH_TICK`] (at each
/// tick a running call checks its deadline and cancellation, and yields), and an
/// optional cache of compiled components. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) caps: HostCaps,
    pub(crate) cache: Option<CompileCache>,
    /// Epoch ticks since the runtime started (a call's `epochs` is the difference).
    pub(crate) ticks: Arc<AtomicU64>,
    /// One permit per instance slot of the pool (none when allocating on demand).
    pub(crate) pool: Option<Arc<Semaphore>>,
    pub(crate) pool_wait: Duration,
    pub(crate) pool_share: Option<u32>,
    pub(crate) observer: Option<Arc<dyn CallObserver>>,
    /// The compiled code of the components this runtime has loaded and still holds, by
    /// sha256: a second load of one shares it.
    pub(crate) shared: crate::plugin::SharedCodes,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("caps", &self.inner.caps)
            .field("cache", &self.inner.cache.as_ref().map(|c| c.root()))
            .finish_non_exhaustive()
    }
}

/// Why a [`Runtime`] could not be created.
#[derive(Debug, thiserror::Error)]
#[error("failed to create the wasmtime engine")]
pub struct RuntimeError {
    #[source]
    source: crate::error::BoxError,
}

impl Runtime {
    /// A runtime with the default caps, no cache, and a pool of 128 instances.
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_config(RuntimeConfig::default())
    }

    /// A runtime configured by `config`. When the pooling allocator cannot reserve its
    /// address space (a low `ulimit -v`), it falls back to on-demand allocation.
    pub fn with_config(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let engine = match config.pool_size {
            // Resetting by page scan needs Linux 6.7 or later: without it, the plain pool.
            Some(size) => {
                match Engine::new(&engine_config(&config, Some(size), true)).or_else(|err| {
                    tracing::debug!("no reset by page scan, resetting with madvise: {err:#}");
                    Engine::new(&engine_config(&config, Some(size), false))
                }) {
                    Ok(engine) => engine,
                    Err(err) => {
                        tracing::warn!(
                            "pooling allocator unavailable, allocating on demand: {err:#}"
                        );
                        new_engine(&config, None)?
                    }
                }
            }
            None => new_engine(&config, None)?,
        };
        let ticks = Arc::new(AtomicU64::new(0));
        start_ticker(&engine, ticks.clone()).map_err(|e| RuntimeError {
            source: Box::new(e),
        })?;
        let cache = config.cache.map(|at| CompileCache::new(&at, &engine));
        let pool = config
            .pool_size
            .map(|size| Arc::new(Semaphore::new(size as usize)));
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                caps: config.caps,
                cache,
                ticks,
                pool,
                pool_wait: config.pool_wait,
                pool_share: config.pool_share,
                observer: config.observer,
                shared: Default::default(),
            }),
        })
    }

    /// The caps of this host.
    pub fn caps(&self) -> HostCaps {
        self.inner.caps
    }

    /// Prepare `trace` for plugins ([`PreparedTrace::new`]) if it has no more spans than
    /// the cap ([`HostCaps::spans`]); a larger trace is refused before any work is done on
    /// it.
    pub fn prepare(&self, trace: Trace) -> Result<PreparedTrace, PrepareError> {
        let cap = self.inner.caps.spans;
        if trace.spans.len() > cap {
            return Err(PrepareError::TooManySpans {
                spans: trace.spans.len(),
                trace: trace.id,
                cap,
            });
        }
        Ok(PreparedTrace::new(trace))
    }

    /// The wasmtime engine (for embedders that compile other things with it).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

fn new_engine(config: &RuntimeConfig, pool: Option<u32>) -> Result<Engine, RuntimeError> {
    Engine::new(&engine_config(config, pool, false)).map_err(|e| RuntimeError {
        source: e.into_boxed_dyn_error(),
    })
}

/// The engine's configuration. With `reset_by_scan` (Linux 6.7 or later, else the engine
/// fails to build), a pooled instance's memory and tables are reset after each call by
/// finding the pages it dirtied (`PAGEMAP_SCAN`) and zeroing them with `memset`, up to
/// 1 MiB of memory and 64 KiB of tables (the rest with `madvise`), instead of `madvise` on
/// the whole of them: the next instance in the slot takes no page faults, and calls on
/// several threads stop flushing each other's TLBs. Measured on 2 cores: `cargo xtask
/// bench`'s minimal call 11.8 -> 7.7 us, fresh instance 11.0 -> 7.1 us, 20-span scan
/// 31.9 -> 20.9 us, `evaluate` on 2 threads 1.15x -> 1.91x one thread's rate; `eval` of
/// 10,000 20-span traces 8,900 -> 10,300 traces/s on one worker, 13,300 -> 16,100 on two.
fn engine_config(config: &RuntimeConfig, pool: Option<u32>, reset_by_scan: bool) -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    if let Some(size) = pool {
        let mut pool = PoolingAllocationConfig::default();
        // Python and JavaScript components hold several core instances, memories and
        // tables each; size the pool for them, not for the one-module Rust case.
        pool.total_component_instances(size)
            .total_core_instances(size * 16)
            .total_memories(size * 4)
            .total_tables(size * 8)
            .total_stacks(size)
            .max_core_instances_per_component(64)
            .max_memories_per_component(16)
            .max_tables_per_component(32)
            .table_elements(100_000)
            .max_memory_size(usize::try_from(config.caps.memory).unwrap_or(usize::MAX));
        if reset_by_scan {
            pool.pagemap_scan(wasmtime::Enabled::Yes)
                .linear_memory_keep_resident(1 << 20)
                .table_keep_resident(1 << 16);
        }
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    cfg
}

/// Advance the engine's epoch every tick until the engine is dropped.
fn start_ticker(engine: &Engine, ticks: Arc<AtomicU64>) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("flowtrace-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => {
                    engine.increment_epoch();
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
                None => break,
            }
        })
        .map(drop)
}
