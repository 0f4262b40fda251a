//! Many traces, each evaluated once: `evaluate-batch` calls where sharing an instance cannot
//! change what a trace's evaluation does, and a way back when a batch call fails as a whole.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::bindings::evaluator::GuestIndices;
use crate::bindings::types as wit;
use crate::capability::Capability;
use crate::engine::EPOCH_TICK;
use crate::error::{CallError, CallFailure};
use crate::host::batch::{BatchScope, HeldLine, KvStage, StageFull};
use crate::host::services::LogLevel;
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::{convert, CallScope, HostState};
use crate::plugin::kinds::Exports;
use crate::plugin::lift::{self, Lifted};
use crate::plugin::run::block_on;
use crate::plugin::Plugin;
use crate::results::EvalResult;

/// Traces per `evaluate-batch` call at most in [`Plugin::evaluate_each`]. One instance serves
/// the whole call, and making one is most of the cost of a trace for Python and JavaScript
/// plugins (their instances hold megabytes of interpreter state): over 1,000 traces on one
/// worker, batching took a template evaluator from 306 to 2,588 traces/s in Python, 801 to
/// 2,988 in TypeScript.
pub const TRACES_PER_CALL: usize = 16;

/// One trace's outcome from [`Plugin::evaluate_each`].
#[derive(Debug)]
pub struct Evaluation {
    /// The plugin's result, or why there is none.
    pub result: Result<EvalResult, CallError>,
    /// Wall-clock time spent on this trace: its part of every call it was in (the time the
    /// guest spent on it, as far as the host can tell, and an even share of the rest), so a
    /// trace evaluated again after a batch call failed counts both, and the times of all the
    /// traces add up to the time the calls took.
    pub exec_time: Duration,
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One batch call, done.
struct Attempt {
    outcome: Result<Vec<Result<EvalResult, CallError>>, Failure>,
    /// The time spent on each trace.
    shares: Vec<Duration>,
    /// The log lines held back.
    lines: Vec<HeldLine>,
    /// The `kv` writes held back by a call that failed.
    stage: Option<KvStage>,
    elapsed: Duration,
}

/// A batch call that failed as a whole.
struct Failure {
    error: CallError,
    /// The trace the guest was on (the last whose handle it read) when the failure is the
    /// guest's; none when it read none, or the host refused something (a commit, a full
    /// stage) that is no trace's doing.
    on: Option<usize>,
}

/// What [`Plugin::evaluate_each`] has found so far.
struct Each<'t> {
    traces: &'t [PreparedTrace],
    results: Vec<Option<Result<EvalResult, CallError>>>,
    spent: Vec<Duration>,
}

impl Plugin {
    /// Score each trace once (evaluator plugins): one evaluation per trace, in order, each
    /// with its own result or error and the time spent on it.
    ///
    /// Traces go to the plugin [`TRACES_PER_CALL`] per `evaluate-batch` call, in one
    /// instance, when that cannot change what a trace's evaluation does: when the plugin is
    /// granted no capability whose effects the host cannot hold back
    /// ([`Capability::is_repeatable`]); otherwise one per call. In a batch call, each trace
    /// has the plugin's deadline (time counts to the trace whose handle the guest read
    /// last), and the call's `kv` writes and log lines are held back until it succeeds.
    ///
    /// When a batch call fails as a whole (a trap, a deadline, the memory cap), its results
    /// are lost (the contract returns them at the end), so the traces before the one the
    /// guest was on are evaluated again, that one alone, and the rest in a new batch call. A
    /// trace that ran out of its deadline is not run again when the traces before it, run
    /// again, show that the failed call's time went to it: a looping trace costs one
    /// deadline. Each trace's effects (`kv` writes, log lines) happen once and in trace
    /// order, as if each had been evaluated alone with [`Plugin::evaluate`] (the host tells
    /// a trace's effects from the others' by the handle the guest read last).
    pub async fn evaluate_each_async(&self, traces: &[PreparedTrace]) -> Vec<Evaluation> {
        let mut each = Each {
            traces,
            results: (0..traces.len()).map(|_| None).collect(),
            spent: vec![Duration::ZERO; traces.len()],
        };
        match &self.inner.exports {
            Exports::Evaluator(indices) if self.batches_are_safe() => {
                for start in (0..traces.len()).step_by(TRACES_PER_CALL) {
                    let end = (start + TRACES_PER_CALL).min(traces.len());
                    self.settle(indices, start..end, &mut each).await;
                }
            }
            // Another kind fails each call with its own error.
            _ => {
                for i in 0..traces.len() {
                    self.lone(i, &mut each).await;
                }
            }
        }
        each.results
            .into_iter()
            .zip(each.spent)
            .map(|(result, exec_time)| Evaluation {
                result: result.expect("every trace is settled"),
                exec_time,
            })
            .collect()
    }

    /// [`Plugin::evaluate_each_async`] for synchronous callers.
    pub fn evaluate_each(&self, traces: &[PreparedTrace]) -> Vec<Evaluation> {
        block_on(self.evaluate_each_async(traces))
    }

    /// Score several traces in one `evaluate-batch` call, in one instance (evaluator
    /// plugins). One result per trace; a trap or limit fails the whole call. Each trace has
    /// the plugin's deadline (time counts to the trace whose handle the guest read last). The
    /// call's `kv` writes are committed only when it succeeds, so the traces of a failed call
    /// can be evaluated again without writing twice; its log lines reach the log sink when it
    /// ends. [`Plugin::evaluate_each`] does that for you.
    pub async fn evaluate_batch_async(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        let Exports::Evaluator(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an evaluator"));
        };
        let attempt = self.attempt(indices, traces).await;
        self.pass_on(&attempt.lines);
        match attempt.outcome {
            Ok(results) => Ok(results
                .into_iter()
                .map(|r| r.map_err(|e| e.reason))
                .collect()),
            Err(failure) => Err(failure.error),
        }
    }

    /// [`Plugin::evaluate_batch_async`] for synchronous callers.
    pub fn evaluate_batch(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<Result<EvalResult, CallFailure>>, CallError> {
        block_on(self.evaluate_batch_async(traces))
    }

    /// Whether a call may be made again without its effects happening twice.
    fn batches_are_safe(&self) -> bool {
        let grants = &self.inner.ctx.grants;
        Capability::ALL
            .iter()
            .all(|c| c.is_repeatable() || !c.is_granted(grants))
    }

    /// Evaluate the traces of `range` in batch calls, with the way back when one fails.
    fn settle<'a>(
        &'a self,
        indices: &'a GuestIndices,
        range: Range<usize>,
        each: &'a mut Each<'_>,
    ) -> BoxFuture<'a> {
        Box::pin(async move {
            if range.len() < 2 {
                for i in range {
                    self.lone(i, each).await;
                }
                return;
            }
            let traces = each.traces;
            let attempt = self.attempt(indices, &traces[range.clone()]).await;
            self.resolve(indices, range, attempt, each).await;
        })
    }

    /// Take in the batch call over `range`, or recover from its failure.
    fn resolve<'a>(
        &'a self,
        indices: &'a GuestIndices,
        range: Range<usize>,
        attempt: Attempt,
        each: &'a mut Each<'_>,
    ) -> BoxFuture<'a> {
        Box::pin(async move {
            let Attempt {
                outcome,
                shares,
                lines,
                stage,
                elapsed,
            } = attempt;
            for (i, share) in range.clone().zip(shares) {
                each.spent[i] += share;
            }
            match outcome {
                Ok(results) => {
                    self.pass_on(&lines);
                    for (i, result) in range.zip(results) {
                        each.results[i] = Some(result);
                    }
                }
                // No telling which trace failed: each alone (what the call held back is
                // dropped; the calls make it again).
                Err(Failure { on: None, .. }) => {
                    for i in range {
                        self.lone(i, each).await;
                    }
                }
                Err(Failure {
                    error,
                    on: Some(on),
                }) => {
                    let k = range.start + on;
                    // The guest got past the traces before `k`: evaluate them again.
                    let before = range.start..k;
                    let before_took = match before.len() {
                        0 => Some(Duration::ZERO),
                        1 => {
                            let took = self.lone(before.start, each).await;
                            let timed_out = matches!(
                                &each.results[before.start],
                                Some(Err(CallError {
                                    reason: CallFailure::Timeout { .. },
                                    ..
                                }))
                            );
                            (!timed_out).then_some(took)
                        }
                        _ => {
                            let traces = each.traces;
                            let again = self.attempt(indices, &traces[before.clone()]).await;
                            let took = again.outcome.is_ok().then_some(again.elapsed);
                            self.resolve(indices, before, again, each).await;
                            took
                        }
                    };
                    // A deadline is trace `k`'s own when the traces before it, run again in
                    // one call without a deadline passing, took at least half a deadline less
                    // than the failed call: the time went to `k` (whatever the guest's order
                    // of reading handles), and running it alone would only spend another
                    // deadline. (Half, not all: two runs of the same work differ in time.)
                    let limit = self.inner.limits.timeout;
                    let its_own =
                        before_took.is_some_and(|d| elapsed.saturating_sub(d) >= limit / 2);
                    if matches!(error.reason, CallFailure::Timeout { .. }) && its_own {
                        // What it did before the deadline stays, as a single call's would.
                        let lines: Vec<HeldLine> =
                            lines.into_iter().filter(|l| l.trace == on).collect();
                        self.pass_on(&lines);
                        if let Some(stage) = stage {
                            self.commit(stage.into_writes_of(on))
                                .unwrap_or_else(|e| self.pass_on(&[refused_writes(on, e)]));
                        }
                        each.results[k] = Some(Err(error));
                    } else {
                        self.lone(k, each).await;
                    }
                    self.settle(indices, k + 1..range.end, each).await;
                }
            }
        })
    }

    /// Evaluate trace `i` alone; the time it took.
    async fn lone(&self, i: usize, each: &mut Each<'_>) -> Duration {
        let started = Instant::now();
        let result = self.evaluate_async(&each.traces[i]).await;
        let took = started.elapsed();
        each.spent[i] += took;
        each.results[i] = Some(result);
        took
    }

    /// One `evaluate-batch` call over `traces` with everything it held back.
    async fn attempt(&self, indices: &GuestIndices, traces: &[PreparedTrace]) -> Attempt {
        let started = Instant::now();
        let limits = self.inner.limits;
        let state = HostState::for_batch(
            &self.inner.ctx,
            limits.memory,
            BatchScope::new(traces.len(), limits.timeout),
        );
        let scope = state.scope.clone();
        let (outcome, stage) = self.call_batch(indices, traces, state).await;
        // The store is gone, so the guest's last unfinished output line is held too.
        let report = scope.batch.as_ref().expect("a batch call").report();
        let elapsed = started.elapsed();
        let counted: Duration = report.spent.iter().sum();
        let rest = elapsed.saturating_sub(counted) / traces.len().max(1) as u32;
        Attempt {
            outcome: outcome.map_err(|(error, guests)| Failure {
                error,
                on: (guests && report.current_touched).then_some(report.current),
            }),
            shares: report.spent.iter().map(|s| *s + rest).collect(),
            lines: report.lines,
            stage,
            elapsed,
        }
    }

    /// The call itself: each result checked on its own, and the `kv` writes committed when
    /// the call succeeded. A failure says whether it is the guest's doing, and comes with the
    /// writes the call held back.
    async fn call_batch(
        &self,
        _indices: &GuestIndices,
        traces: &[PreparedTrace],
        state: HostState,
    ) -> (
        Result<Vec<Result<EvalResult, CallError>>, (CallError, bool)>,
        Option<KvStage>,
    ) {
        let scope = state.scope.clone();
        let batch = scope.batch.as_ref().expect("a batch call");
        let (mut store, instance) = match self.instantiate_with(state).await {
            Ok(instantiated) => instantiated,
            Err(e) => return (Err((e, false)), None),
        };
        let called = {
            let body = async {
                let handles = traces
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let handle = TraceHandle::new(t.clone(), Some(i as u32));
                        Ok(store.data_mut().table.push(handle)?)
                    })
                    .collect::<wasmtime::Result<Vec<_>>>()?;
                let output = self.inner.limits.output;
                lift::evaluate_batch(&mut store, &instance, &handles, output).await
            };
            let mut body = std::pin::pin!(body);
            // The epoch deadline stops guest code; this stops a guest waiting on the host.
            loop {
                let left = batch.remaining() + EPOCH_TICK * 2;
                match tokio::time::timeout(left, body.as_mut()).await {
                    Ok(out) => break Some(out),
                    Err(_) if batch.remaining().is_zero() => break None,
                    Err(_) => {}
                }
            }
        };
        let stage = store.data_mut().kv_stage.take();
        let raw = match called {
            None => {
                let limit = self.inner.limits.timeout;
                return (
                    Err((self.fail(CallFailure::Timeout { limit }), true)),
                    stage,
                );
            }
            Some(Err(err)) => {
                let hosts = err.downcast_ref::<StageFull>().is_some();
                return (Err((self.classify(&store, err), !hosts)), stage);
            }
            Some(Ok(raw)) => raw,
        };
        if raw.len != traces.len() {
            let reason = CallFailure::InvalidResult(format!(
                "{} results for {} traces",
                raw.len,
                traces.len()
            ));
            return (Err((self.fail(reason), false)), stage);
        }
        let results = raw
            .items
            .into_iter()
            .map(|r| self.batch_result(&scope, r))
            .collect();
        if let Some(stage) = stage {
            if let Err(reason) = self.commit(stage.into_writes()) {
                return (
                    Err((self.fail(CallFailure::KvCommit { reason }), false)),
                    None,
                );
            }
        }
        (Ok(results), None)
    }

    /// Commit held-back `kv` writes.
    fn commit(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), String> {
        if writes.is_empty() {
            return Ok(());
        }
        let ctx = &self.inner.ctx;
        ctx.services.kv.commit(&ctx.id, writes)
    }

    /// One trace's result in a batch, checked as a single call's would be.
    fn batch_result(
        &self,
        scope: &CallScope,
        result: Lifted<Result<wit::EvalResult, wit::PluginError>>,
    ) -> Result<EvalResult, CallError> {
        match self.fits(result)? {
            Ok(r) => self.validate_eval(convert::eval_result(r)),
            Err(e) => Err(self.fail(self.plugin_failure(scope, convert::plugin_error(e)))),
        }
    }

    /// Pass held-back log lines on to the log sink.
    fn pass_on(&self, lines: &[HeldLine]) {
        let ctx = &self.inner.ctx;
        for line in lines {
            ctx.services.log.log(&ctx.id, line.level, &line.message);
        }
    }
}

/// The log line saying the store refused a timed-out trace's writes (they would have been
/// refused one by one had it run alone; the trace failed anyway).
fn refused_writes(trace: usize, reason: String) -> HeldLine {
    HeldLine {
        trace,
        level: LogLevel::Warn,
        message: format!("the key-value store refused the writes of this trace: {reason}"),
    }
}
