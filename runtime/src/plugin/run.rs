//! One call: a fresh instance under the deadline and limits, and what went wrong mapped to a
//! typed failure.

use std::future::Future;
use std::time::{Duration, Instant};

use wasmtime::component::Instance;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::lift::Lifted;
use super::Plugin;
use crate::engine::EPOCH_TICK;
use crate::error::{CallError, CallFailure};
use crate::host::batch::BatchScope;
use crate::host::{CallScope, HostState, LimitHit};
use crate::results::PluginError;

/// Run `fut` on a runtime from synchronous code, wherever it is called from.
pub(super) fn block_on<F>(fut: F) -> F::Output
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
        self.instantiate_with(HostState::new(&self.inner.ctx, self.inner.limits.memory))
            .await
    }

    /// A fresh store over `state` and an instance, with the memory limit and the deadline
    /// armed: the call's, or in a batch call the deadline of the trace the guest is on.
    pub(super) async fn instantiate_with(
        &self,
        state: HostState,
    ) -> Result<(Store<HostState>, Instance), CallError> {
        let batch = state.scope.batch.is_some();
        let mut store = Store::new(&self.inner.runtime.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        // What one host call may copy out of the guest (its arguments: log lines, `kv`
        // values, texts to embed, WASI buffers): no more than the guest's memory limit
        // (wasmtime's default is 128 MiB whatever the limit). Results are not counted here:
        // they are measured in guest memory against the output limit (`lift`).
        store.set_hostcall_fuel(self.inner.limits.memory);
        // Deadlines are wall-clock time, not a count of ticks: the ticker sleeps between
        // ticks and falls behind when the CPUs are busy, so counting N ticks let calls run
        // 5-50% past their deadline. Each tick looks at the clock instead (a few ns every
        // 10 ms), so a call is stopped within one tick of its deadline however late the
        // ticks are; `run` also refuses a result that came back after it.
        store.set_epoch_deadline(1);
        if batch {
            // The guest may have moved on to another trace: its deadline is the one left.
            store.epoch_deadline_callback(|cx| {
                let left = cx
                    .data()
                    .scope
                    .batch
                    .as_ref()
                    .map_or(Duration::ZERO, BatchScope::remaining);
                Ok(if left.is_zero() {
                    UpdateDeadline::Interrupt
                } else {
                    UpdateDeadline::Continue(1)
                })
            });
        } else {
            let deadline = Instant::now() + self.inner.limits.timeout;
            store.epoch_deadline_callback(move |_| {
                Ok(if Instant::now() >= deadline {
                    UpdateDeadline::Interrupt
                } else {
                    UpdateDeadline::Continue(1)
                })
            });
        }
        match self.inner.pre.instantiate_async(&mut store).await {
            Ok(instance) => Ok((store, instance)),
            Err(err) => Err(self.classify(&store, err)),
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
        let limit = self.inner.limits.timeout;
        let started = Instant::now();
        let (mut store, instance) = self.instantiate().await?;
        let outcome =
            tokio::time::timeout(limit + EPOCH_TICK * 2, body(&mut store, &instance)).await;
        // A call that finished between its deadline and the next tick is still late.
        let late = started.elapsed() > limit;
        match outcome {
            Err(_elapsed) => Err(self.fail(CallFailure::Timeout { limit })),
            Ok(_) if late => Err(self.fail(CallFailure::Timeout { limit })),
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
                    Err(self.fail(self.plugin_failure(&store.data().scope, plugin_error)))
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
