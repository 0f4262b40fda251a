//! What a host sees of each call: a `tracing` span with stable, OpenTelemetry-friendly names,
//! a [`CallRecord`] for the runtime's [`CallObserver`], the call and trace on every log line
//! ([`LogRecord`](crate::services::LogRecord)), and the wait for a slot of the instance pool
//! (backpressure, not errors).
//!
//! Every call of every kind goes through [`Plugin::observed`]: it waits for a slot (the
//! plugin's share, then the runtime's pool), opens the span, and runs the call with its
//! [`CallCx`] in a task-local, where instantiation, the memory limiter and the output meter
//! add what they measure.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::{Logged, Plugin, PluginKind};
use crate::cache::CacheOutcome;
use crate::error::{CallError, CallFailure};
use crate::host::services::CallLog;
use crate::host::trace::PreparedTrace;
use crate::manifest::PluginId;

/// The name of the span every plugin call runs in.
pub const CALL_SPAN: &str = "flowtrace.plugin.call";

/// Identifies one call within the process (unique, increasing), so the log lines and spans of
/// concurrent calls can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(u64);

impl CallId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        CallId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// It returned a result (for a batch call: one per trace, each of which may still be a
    /// plugin error).
    Ok,
    /// It failed; the failure's stable name ([`CallFailure::name`]), e.g. `timeout`.
    Failed(&'static str),
}

impl CallOutcome {
    /// `ok`, or the failure's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Failed(name) => name,
        }
    }
}

/// What one call cost and how it ended, given to the runtime's [`CallObserver`] when it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The call.
    pub call: CallId,
    /// The plugin.
    pub plugin: PluginId,
    /// Its kind.
    pub kind: PluginKind,
    /// The export called: `evaluate`, `evaluate-batch`, `formats`, `export`, `dimension`,
    /// `embed` or `transform`.
    pub function: &'static str,
    /// The ids of the traces the call was given, in order (none for `formats`, `dimension`
    /// and `embed`).
    pub traces: Vec<String>,
    /// Time spent waiting for a slot of the instance pool.
    pub queued: Duration,
    /// Time spent creating the instance.
    pub instantiate: Duration,
    /// Time from the instance to the result: guest code and the host calls it made.
    pub run: Duration,
    /// Epoch ticks ([`EPOCH_TICK`](crate::EPOCH_TICK)) that passed during the call: its
    /// wall-clock time in the unit deadlines are checked in.
    pub epochs: u64,
    /// The most linear memory the instance held, bytes (all its memories together).
    pub memory_peak: usize,
    /// Size of what the call returned as measured against the output limit, bytes (0 when
    /// it returned nothing).
    pub output_bytes: usize,
    /// Whether the plugin's compiled code came from the cache when it was loaded.
    pub cache: CacheOutcome,
    /// How it ended.
    pub outcome: CallOutcome,
}

/// Told about every call of every plugin of a runtime
/// ([`RuntimeConfig::observer`](crate::RuntimeConfig::observer)), on the calling task, when
/// the call ends. Keep it quick: the caller waits for it.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use flowtrace_plugins::manifest::PluginKind;
/// use flowtrace_plugins::{
///     testing, CallObserver, CallOutcome, CallRecord, LoadOptions, PreparedTrace, Runtime,
///     RuntimeConfig,
/// };
///
/// #[derive(Default)]
/// struct Calls(Mutex<Vec<CallRecord>>);
///
/// impl CallObserver for Calls {
///     fn call_finished(&self, record: &CallRecord) {
///         self.0.lock().unwrap().push(record.clone());
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let calls = Arc::new(Calls::default());
/// let runtime = Runtime::with_config(RuntimeConfig {
///     observer: Some(calls.clone()),
///     ..RuntimeConfig::default()
/// })?;
/// # let component = testing::evaluator(&testing::guest_wat("scan-infos"));
/// # let manifest = testing::manifest("scan-infos", PluginKind::Evaluator);
/// let plugin = runtime.load(&component, &manifest, LoadOptions::default())?;
/// let mut trace = testing::trace_with_spans(3);
/// trace.id = "4bf92f3577b34da6a3ce929d0e0e4736".into();
/// plugin.evaluate(&PreparedTrace::new(trace))?;
///
/// let calls = calls.0.lock().unwrap();
/// assert_eq!(calls[0].function, "evaluate");
/// assert_eq!(calls[0].traces, ["4bf92f3577b34da6a3ce929d0e0e4736"]);
/// assert_eq!(calls[0].outcome, CallOutcome::Ok);
/// assert!(calls[0].memory_peak > 0 && calls[0].output_bytes > 0);
/// # Ok(())
/// # }
/// ```
pub trait CallObserver: Send + Sync {
    /// One finished call.
    fn call_finished(&self, record: &CallRecord);
}

/// What a running call has measured so far; the task-local of the call.
pub(crate) struct CallCx {
    pub(crate) id: CallId,
    /// The ids of the call's traces.
    pub(crate) traces: Vec<String>,
    instantiate_ns: AtomicU64,
    memory: AtomicUsize,
    memory_peak: AtomicUsize,
    output: AtomicUsize,
}

tokio::task_local! {
    static CALL: Arc<CallCx>;
}

/// The call running on this task, if any.
pub(crate) fn current() -> Option<Arc<CallCx>> {
    CALL.try_with(Arc::clone).ok()
}

/// The instance of the current call took `took` to create.
pub(crate) fn instantiated(took: Duration) {
    if let Some(cx) = current() {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        cx.instantiate_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// A linear memory of the current call's instance grew by `bytes`.
pub(crate) fn memory_grew(bytes: usize) {
    let _ = CALL.try_with(|cx| {
        let now = cx.memory.fetch_add(bytes, Ordering::Relaxed) + bytes;
        cx.memory_peak.fetch_max(now, Ordering::Relaxed);
    });
}

/// The current call returned `bytes` (as the output meter counts them).
pub(crate) fn output(bytes: usize) {
    let _ = CALL.try_with(|cx| cx.output.fetch_add(bytes, Ordering::Relaxed));
}

impl CallCx {
    /// The id of trace `index` of the call.
    pub(crate) fn trace(&self, index: usize) -> Option<&str> {
        self.traces.get(index).map(String::as_str)
    }
}

/// The slots a call holds while it runs: one of its plugin's share, one of the pool.
struct Slots {
    _share: Option<OwnedSemaphorePermit>,
    _pool: Option<OwnedSemaphorePermit>,
}

/// Wait up to `wait` for a permit of `semaphore`; `None` when none came in time.
async fn acquire(
    semaphore: &Option<Arc<Semaphore>>,
    wait: Duration,
) -> Result<Option<OwnedSemaphorePermit>, ()> {
    let Some(semaphore) = semaphore else {
        return Ok(None);
    };
    if let Ok(permit) = semaphore.clone().try_acquire_owned() {
        return Ok(Some(permit));
    }
    tracing::debug!(target: "flowtrace::plugin", "waiting for an instance slot");
    match tokio::time::timeout(wait, semaphore.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(Some(permit)),
        // Never closed; treated as no slot.
        Ok(Err(_)) | Err(_) => Err(()),
    }
}

impl Plugin {
    /// A call that returns `Result<T, CallError>`, observed.
    pub(super) async fn observe_call<T>(
        &self,
        function: &'static str,
        traces: &[PreparedTrace],
        call: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        self.observed(
            function,
            traces,
            call,
            |error| Err(error),
            |result| result.as_ref().err().map(|e| &e.reason),
        )
        .await
    }

    /// [`Plugin::observe_call`] of a call that also returns the lines it logged.
    pub(super) async fn observe_logged<T>(
        &self,
        function: &'static str,
        traces: &[PreparedTrace],
        call: impl Future<Output = Logged<Result<T, CallError>>>,
    ) -> Logged<Result<T, CallError>> {
        self.observed(
            function,
            traces,
            call,
            |error| Logged {
                value: Err(error),
                log: CallLog::default(),
            },
            |logged| logged.value.as_ref().err().map(|e| &e.reason),
        )
        .await
    }

    /// Run `call` once a slot is free, inside its span and task-local, and tell the
    /// observer. `refused` makes the call's output when no slot came in time; `failure`
    /// says whether an output is a failed call.
    pub(super) async fn observed<T>(
        &self,
        function: &'static str,
        traces: &[PreparedTrace],
        call: impl Future<Output = T>,
        refused: impl FnOnce(CallError) -> T,
        failure: impl Fn(&T) -> Option<&CallFailure>,
    ) -> T {
        let runtime = &self.inner.runtime.inner;
        let cx = Arc::new(CallCx {
            id: CallId::next(),
            traces: traces.iter().map(|t| t.trace().id.clone()).collect(),
            instantiate_ns: AtomicU64::new(0),
            memory: AtomicUsize::new(0),
            memory_peak: AtomicUsize::new(0),
            output: AtomicUsize::new(0),
        });
        let manifest = &self.inner.manifest;
        let span = tracing::info_span!(
            target: "flowtrace::plugin",
            "flowtrace.plugin.call",
            "otel.name" = format_args!("{} {}", function, manifest.plugin.id),
            "otel.status_code" = tracing::field::Empty,
            "flowtrace.plugin.id" = %manifest.plugin.id,
            "flowtrace.plugin.version" = %manifest.plugin.version,
            "flowtrace.plugin.kind" = manifest.plugin.kind.as_str(),
            "flowtrace.plugin.function" = function,
            "flowtrace.plugin.cache" = self.inner.cache.as_str(),
            "flowtrace.call.id" = cx.id.0,
            "flowtrace.trace.id" = cx.traces.first().map(String::as_str),
            "flowtrace.trace.count" = cx.traces.len(),
            "flowtrace.call.outcome" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            "flowtrace.call.queued_us" = tracing::field::Empty,
            "flowtrace.call.instantiate_us" = tracing::field::Empty,
            "flowtrace.call.run_us" = tracing::field::Empty,
            "flowtrace.call.epochs" = tracing::field::Empty,
            "flowtrace.call.memory_peak_bytes" = tracing::field::Empty,
            "flowtrace.call.output_bytes" = tracing::field::Empty,
        );
        let waited = Instant::now();
        let ticks_before = runtime.ticks.load(Ordering::Relaxed);
        let slots = async {
            let share = acquire(&self.inner.share, runtime.pool_wait).await?;
            let pool = acquire(&runtime.pool, runtime.pool_wait).await?;
            Ok::<_, ()>(Slots {
                _share: share,
                _pool: pool,
            })
        }
        .instrument(span.clone())
        .await;
        let queued = waited.elapsed();
        let started = Instant::now();
        let (output, slots) = match slots {
            Ok(slots) => {
                let out = CALL.scope(cx.clone(), call.instrument(span.clone())).await;
                (out, Some(slots))
            }
            Err(()) => (
                refused(self.fail(CallFailure::PoolExhausted(format!(
                    "no instance slot came free within {:?}",
                    runtime.pool_wait
                )))),
                None,
            ),
        };
        drop(slots);
        let took = started.elapsed();
        let instantiate = Duration::from_nanos(cx.instantiate_ns.load(Ordering::Relaxed));
        let outcome = match failure(&output) {
            None => CallOutcome::Ok,
            Some(reason) => CallOutcome::Failed(reason.name()),
        };
        let run = took.saturating_sub(instantiate);
        let epochs = runtime
            .ticks
            .load(Ordering::Relaxed)
            .saturating_sub(ticks_before);
        let memory_peak = cx.memory_peak.load(Ordering::Relaxed);
        let output_bytes = cx.output.load(Ordering::Relaxed);
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        span.record("flowtrace.call.outcome", outcome.as_str());
        match outcome {
            CallOutcome::Ok => span.record("otel.status_code", "OK"),
            CallOutcome::Failed(name) => {
                span.record("error.type", name);
                span.record("otel.status_code", "ERROR")
            }
        };
        span.record("flowtrace.call.queued_us", micros(queued));
        span.record("flowtrace.call.instantiate_us", micros(instantiate));
        span.record("flowtrace.call.run_us", micros(run));
        span.record("flowtrace.call.epochs", epochs);
        span.record("flowtrace.call.memory_peak_bytes", memory_peak);
        span.record("flowtrace.call.output_bytes", output_bytes);
        drop(span);
        // The record (and its copy of the trace ids) only for a host that observes.
        if let Some(observer) = &runtime.observer {
            observer.call_finished(&CallRecord {
                call: cx.id,
                plugin: manifest.plugin.id.clone(),
                kind: manifest.plugin.kind,
                function,
                traces: cx.traces.clone(),
                queued,
                instantiate,
                run,
                epochs,
                memory_peak,
                output_bytes,
                cache: self.inner.cache,
                outcome,
            });
        }
        output
    }
}
