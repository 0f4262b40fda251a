//! One call: a fresh instance under the deadline and limits, and what went wrong mapped to a
//! typed failure.

use std::cell::Cell;
use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use wasmtime::component::Instance;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::lift::Lifted;
use super::{CancelHandle, Plugin};
use crate::engine::EPOCH_TICK;
use crate::error::{CallError, CallFailure};
use crate::host::batch::BatchScope;
use crate::host::services::CallLog;
use crate::host::{CallScope, HostState, LimitHit};
use crate::results::PluginError;

/// The runtime whose drivers (timers, I/O) serve the futures of blocking calls: created at the
/// first blocking call, one worker thread for the whole process.
static BLOCKING: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("flowtrace-io")
        .enable_all()
        .build()
        .expect("a tokio runtime for blocking plugin calls")
});

/// Run `fut` to completion on the calling thread, wherever it is called from: a plain thread,
/// a `spawn_blocking` thread, or a tokio worker (which it blocks, as any blocking call does).
/// The future is polled here, with its timers and I/O registered with [`BLOCKING`], whose
/// worker drives them; nothing is spawned per call. (`Handle::block_on` would panic inside an
/// async context, and blocking on a current-thread runtime's handle would leave its timers
/// undriven while this thread waits.)
pub(super) fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    // A blocking call made inside another one's poll (a host service that calls a plugin
    // with the blocking API) cannot poll on this thread: the outer call is polling here.
    // That rare case alone gets a thread of its own.
    if futures_executor::enter().is_err() {
        return std::thread::scope(|s| {
            s.spawn(|| block_on(fut))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
    }
    let _runtime = BLOCKING.enter();
    let _blocking = BlockingPoll::enter();
    futures_executor::block_on(fut)
}

thread_local! {
    /// Whether this thread is polling a blocking call's future ([`block_on`]).
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as polling a blocking call's future, until dropped.
struct BlockingPoll {
    was: bool,
}

impl BlockingPoll {
    fn enter() -> Self {
        Self {
            was: IN_BLOCK_ON.replace(true),
        }
    }
}

impl Drop for BlockingPoll {
    fn drop(&mut self) {
        IN_BLOCK_ON.set(self.was);
    }
}

/// What a call does at an epoch tick that finds time left. A blocking call has no executor
/// to yield to, and `tokio::task::yield_now` inside one that runs on a tokio worker would
/// leave its wake-up with that worker's scheduler, which the call itself is blocking: it
/// goes on. An async call yields with `yield_now`, which lets a tokio runtime run its timers
/// and I/O before resuming the call (a plain self-wake would not).
fn on_tick() -> UpdateDeadline {
    if IN_BLOCK_ON.get() {
        UpdateDeadline::Continue(1)
    } else {
        UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
    }
}

/// How a guarded wait ended.
pub(super) enum Waited<T> {
    /// The future completed.
    Done(T),
    /// The time ran out first.
    Elapsed,
    /// The host cancelled the call first.
    Cancelled,
}

impl Plugin {
    pub(super) fn fail(&self, reason: CallFailure) -> CallError {
        CallError {
            plugin: self.inner.ctx.id.clone(),
            reason,
        }
    }

    pub(super) fn wrong_kind(&self, expected: &'static str) -> CallError {
        self.fail(CallFailure::WrongKind {
            kind: self.inner.manifest.plugin.kind,
            expected,
        })
    }

    /// A fresh store and instance for a single call, with the deadline and memory limit
    /// armed.
    async fn instantiate(&self) -> Result<(Store<HostState>, Instance), CallError> {
        self.instantiate_with(HostState::new(&self.inner.ctx, self.limits().memory))
            .await
    }

    /// A fresh store over `state` and an instance, with the memory limit and the deadline
    /// armed: the call's, or in a batch call the deadline of the trace the guest is on.
    pub(super) async fn instantiate_with(
        &self,
        state: HostState,
    ) -> Result<(Store<HostState>, Instance), CallError> {
        if self.call.is_cancelled() {
            return Err(self.fail(CallFailure::Cancelled));
        }
        let limits = self.limits();
        let batch = state.scope.batch.is_some();
        let mut store = Store::new(&self.inner.runtime.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        // What one host call may copy out of the guest (its arguments: log lines, `kv`
        // values, texts to embed, WASI buffers): no more than the guest's memory limit
        // (wasmtime's default is 128 MiB whatever the limit). Results are not counted here:
        // they are measured in guest memory against the output limit (`lift`).
        store.set_hostcall_fuel(limits.memory);
        // Deadlines are wall-clock time, not a count of ticks: the ticker sleeps between
        // ticks and falls behind when the CPUs are busy, so counting N ticks let calls run
        // 5-50% past their deadline. Each tick looks at the clock instead (a few ns every
        // 10 ms), so a call is stopped within one tick of its deadline however late the
        // ticks are; `run` (and a batch call, per trace) also refuses a result that came
        // back after it. A tick that finds time left yields to the executor, so a long call
        // never holds the thread of an async caller for more than a tick.
        store.set_epoch_deadline(1);
        // A batch call's deadline is the one left to the trace the guest is on.
        let deadline = (!batch).then(|| Instant::now() + limits.timeout);
        let cancel = self.call.cancel.clone();
        store.epoch_deadline_callback(move |cx| {
            if cancel.as_ref().is_some_and(CancelHandle::is_cancelled) {
                return Ok(UpdateDeadline::Interrupt);
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => cx
                    .data()
                    .scope
                    .batch
                    .as_ref()
                    .map_or(Duration::ZERO, BatchScope::remaining),
            };
            Ok(if left.is_zero() {
                UpdateDeadline::Interrupt
            } else {
                on_tick()
            })
        });
        let instantiating = Instant::now();
        let instance = self.inner.pre.instantiate_async(&mut store).await;
        let instance = match instance {
            Ok(instance) => instance,
            Err(err) => {
                super::observe::instantiated(instantiating.elapsed());
                return Err(self.classify(&store, err));
            }
        };
        // A preloaded instance is ready for its call once it has evaluated the code.
        if let Some(preload) = &self.inner.preload {
            let preloading = Instant::now();
            let preloaded = self.preload(&mut store, &instance, preload).await;
            tracing::debug!(
                target: "flowtrace::plugin",
                elapsed = ?preloading.elapsed(),
                "preloaded the plugin's code"
            );
            super::observe::instantiated(instantiating.elapsed());
            preloaded?;
        } else {
            super::observe::instantiated(instantiating.elapsed());
        }
        Ok((store, instance))
    }

    /// Hand the preload's code to a new instance ([`Preload`](crate::Preload)).
    async fn preload(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        preload: &super::preload::Bound,
    ) -> Result<(), CallError> {
        let loaded = match instance
            .get_typed_func::<(&str,), (Result<(), String>,)>(&mut *store, preload.func)
        {
            Ok(load) => load.call_async(&mut *store, (&preload.source,)).await,
            Err(err) => Err(err),
        };
        match loaded {
            Ok((Ok(()),)) => Ok(()),
            Ok((Err(message),)) => {
                Err(self
                    .fail(self.plugin_failure(&store.data().scope, PluginError::Failed(message))))
            }
            Err(err) => Err(self.classify(store, err)),
        }
    }

    /// Wait for `fut` at most `limit`, or until the call is cancelled: what stops a guest
    /// waiting on the host (the epoch stops guest code).
    pub(super) async fn guard<F: Future>(&self, limit: Duration, fut: F) -> Waited<F::Output> {
        let cancelled = async {
            match &self.call.cancel {
                Some(cancel) => cancel.cancelled().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            out = fut => Waited::Done(out),
            () = cancelled => Waited::Cancelled,
            () = tokio::time::sleep(limit) => Waited::Elapsed,
        }
    }

    /// Map a wasmtime error to what went wrong, looking at what the store recorded.
    pub(super) fn classify(&self, store: &Store<HostState>, err: wasmtime::Error) -> CallError {
        let state = store.data();
        if let Some(LimitHit::Memory { limit, desired }) = state.limiter.hit {
            return self.fail(CallFailure::MemoryLimit { limit, desired });
        }
        if let Some(trap) = err.downcast_ref::<Trap>() {
            if *trap == Trap::Interrupt {
                // The epoch callback interrupts for a cancellation or a deadline.
                if self.call.is_cancelled() {
                    return self.fail(CallFailure::Cancelled);
                }
                return self.fail(CallFailure::Timeout {
                    limit: self.limits().timeout,
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
        if let Some(guest) = state.scope.failures().of_trap(&err) {
            return self.fail(CallFailure::Guest(Box::new(guest)));
        }
        self.fail(CallFailure::Trap {
            message: crate::diag::error_chain(&*err),
        })
    }

    /// The failure for an error the plugin returned: the exception it raised when its SDK
    /// reported one with this message, else the error as the plugin gave it.
    pub(super) fn plugin_failure(&self, scope: &CallScope, error: PluginError) -> CallFailure {
        if let PluginError::Failed(message) = &error {
            if let Some(guest) = scope.failures().take_report(message) {
                return CallFailure::Guest(Box::new(guest));
            }
        }
        CallFailure::Plugin(error)
    }

    /// Run one call: `body` gets the store and instance; the whole call (instantiation
    /// included) runs under the deadline.
    pub(super) async fn run<T, F>(&self, body: F) -> Result<T, CallError>
    where
        F: AsyncFnOnce(
            &mut Store<HostState>,
            &Instance,
        ) -> wasmtime::Result<Result<T, PluginError>>,
    {
        self.run_logged(body).await.0
    }

    /// [`run`](Self::run), and the last lines the call logged.
    pub(super) async fn run_logged<T, F>(&self, body: F) -> (Result<T, CallError>, CallLog)
    where
        F: AsyncFnOnce(
            &mut Store<HostState>,
            &Instance,
        ) -> wasmtime::Result<Result<T, PluginError>>,
    {
        let started = Instant::now();
        let (mut store, instance) = match self.instantiate().await {
            Ok(instantiated) => instantiated,
            Err(e) => return (Err(e), CallLog::default()),
        };
        let scope = store.data().scope.clone();
        let result = self.finish(started, &mut store, &instance, body).await;
        // Dropping the store flushes the guest's last unfinished stdout or stderr line.
        drop(store);
        (result, scope.take_log())
    }

    /// The body of a call that started (instantiation included) at `started`.
    async fn finish<T, F>(
        &self,
        started: Instant,
        store: &mut Store<HostState>,
        instance: &Instance,
        body: F,
    ) -> Result<T, CallError>
    where
        F: AsyncFnOnce(
            &mut Store<HostState>,
            &Instance,
        ) -> wasmtime::Result<Result<T, PluginError>>,
    {
        let limit = self.limits().timeout;
        let outcome = self
            .guard(limit + EPOCH_TICK * 2, body(store, instance))
            .await;
        // A call that finished between its deadline and the next tick is still late.
        let late = started.elapsed() > limit;
        let store = &*store;
        match outcome {
            Waited::Cancelled => Err(self.fail(CallFailure::Cancelled)),
            Waited::Elapsed => Err(self.fail(CallFailure::Timeout { limit })),
            Waited::Done(_) if late && !self.call.is_cancelled() => {
                Err(self.fail(CallFailure::Timeout { limit }))
            }
            Waited::Done(Err(err)) => Err(self.classify(store, err)),
            Waited::Done(Ok(Err(plugin_error))) => {
                let denials = store
                    .data()
                    .scope
                    .denials
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                if denials.is_empty() {
                    Err(self.fail(self.plugin_failure(&store.data().scope, plugin_error)))
                } else {
                    Err(self.fail(CallFailure::CapabilityDenied {
                        denials,
                        plugin_error: Some(plugin_error),
                    }))
                }
            }
            Waited::Done(Ok(Ok(value))) => Ok(value),
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
        drop(HostState::new(&self.inner.ctx, self.limits().memory));
    }

    /// What a call returned, if it fit the output limit ([`Lifted`]: it was measured in
    /// guest memory, and copied only if it fit).
    pub(super) fn fits<T>(&self, lifted: Lifted<T>) -> Result<T, CallError> {
        match lifted {
            Lifted::Fits(value) => Ok(value),
            Lifted::TooLarge(size) => Err(self.fail(CallFailure::OutputTooLarge {
                size,
                limit: self.inner.limits.output,
            })),
        }
    }
}
