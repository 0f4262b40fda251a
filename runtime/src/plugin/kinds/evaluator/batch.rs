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
use crate::host::services::{CallLog, LogLevel, LogRecord};
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::{convert, CallScope, HostState};
use crate::plugin::kinds::Exports;
use crate::plugin::lift::{self, Lifted};
use crate::plugin::run::{block_on, Waited};
use crate::plugin::{Logged, Plugin};
use crate::results::EvalResult;

/// Traces per `evaluate-batch` call at most in [`Plugin::evaluate_each`] for a plugin whose
/// manifest says `stateless = true`. One instance serves the whole call, and making one is
/// most of the cost of a trace for Python and JavaScript plugins (their instances hold
/// megabytes of interpreter state): over 1,000 traces on one worker, batching took a
/// template evaluator from 306 to 2,588 traces/s in Python, 801 to 2,988 in TypeScript.
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
    /// The last lines the plugin logged on this trace (in a batch call, while the guest was
    /// on it), as they went to the log sink: of the call that settled the trace.
    pub log: CallLog,
}

/// A trace that got another trace's result from `evaluate-batch`
/// ([`Plugin::check_batch_order`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisplacedResult {
    /// The trace's position in the batch.
    pub index: usize,
    /// The trace's id.
    pub trace: String,
    /// The position of the trace whose `evaluate` result it got instead of its own.
    pub like: usize,
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

impl Attempt {
    /// Why the call failed as a whole, if it did.
    fn failure(&self) -> Option<&CallFailure> {
        self.outcome.as_ref().err().map(|f| &f.error.reason)
    }
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
    logs: Vec<CallLog>,
}

impl Plugin {
    /// Score each trace once (evaluator plugins): one evaluation per trace, in order, each
    /// with its own result or error and the time spent on it.
    ///
    /// Each trace is evaluated in a fresh instance (one [`Plugin::evaluate`] call per trace):
    /// no trace can see state another trace left, which is the semantics of every call.
    /// Only a plugin whose manifest says `stateless = true` in `[plugin]` (its author's word
    /// that it keeps nothing from one trace to the next) has its traces go
    /// [`TRACES_PER_CALL`] per `evaluate-batch` call, in one instance, and then only when
    /// that cannot change what a trace's evaluation does: when it is granted no capability
    /// whose effects the host cannot hold back ([`Capability::is_repeatable`]). In a batch
    /// call, each trace has the plugin's deadline (time counts to the trace whose handle the
    /// guest read last), and the call's `kv` writes and log lines are held back until it
    /// succeeds.
    ///
    /// When a batch call fails as a whole (a trap, a deadline, the memory cap), its results
    /// are lost (the contract returns them at the end). After a trap or the memory cap, the
    /// traces before the one the guest was on are evaluated again in a batch call, that one
    /// alone, and the rest in a new batch call. After a deadline, every trace but that one is
    /// evaluated again one per call, and that one is not run again when the others show
    /// that the failed call's time went to it: a looping trace costs one deadline when the
    /// guest works through its traces in order (every SDK's default), two at most
    /// otherwise. A trace whose result came back after its deadline is a timeout, as in a
    /// single call. Each trace's effects (`kv` writes, log lines) happen once and in trace
    /// order, as if each had been evaluated alone with [`Plugin::evaluate`] (the host tells
    /// a trace's effects from the others' by the handle the guest read last).
    ///
    /// The results are bound to their traces by position: `evaluate-batch` must return one
    /// result per trace in the order it was given them (the contract; a plugin that returns
    /// them in another order gives each trace another's result, which the host cannot see
    /// in one call). [`Plugin::check_batch_order`] checks a plugin against it.
    ///
    /// With a [`CancelHandle`](crate::CancelHandle) in the handle's options, cancelling stops
    /// the call running and fails every trace not evaluated yet with
    /// [`CallFailure::Cancelled`], without running it.
    pub async fn evaluate_each_async(&self, traces: &[PreparedTrace]) -> Vec<Evaluation> {
        let mut each = Each {
            traces,
            results: (0..traces.len()).map(|_| None).collect(),
            spent: vec![Duration::ZERO; traces.len()],
            logs: vec![CallLog::default(); traces.len()],
        };
        match &self.inner.exports {
            Exports::Evaluator(indices) if self.may_share_instances() => {
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
            .zip(each.logs)
            .map(|((result, exec_time), log)| Evaluation {
                result: result.expect("every trace is settled"),
                exec_time,
                log,
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
    /// ends. [`Plugin::evaluate_each`] does that for you. The results are the plugin's, in
    /// its order: the contract says one per trace in trace order, which
    /// [`Plugin::check_batch_order`] checks.
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

    /// Check that the plugin's `evaluate-batch` binds each result to its trace: evaluate
    /// `traces` in one `evaluate-batch` call and each alone with `evaluate`, and return every
    /// trace whose batch result is not its own `evaluate` result but another trace's (a
    /// plugin that returns its batch results in another order than its traces). Only such
    /// definite swaps are reported, so a plugin whose results vary from call to call (its
    /// `kv` state, the clock) is not flagged for that; traces whose results are all alike
    /// cannot show a swap. For tests: it calls the plugin twice per trace, with their
    /// effects (`cargo flowtrace test` runs it over a fixture's traces).
    pub async fn check_batch_order_async(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<MisplacedResult>, CallError> {
        let batch = self.evaluate_batch_async(traces).await?;
        let mut alone = Vec::with_capacity(traces.len());
        for trace in traces {
            alone.push(self.evaluate_async(trace).await.map_err(|e| e.reason));
        }
        let same =
            |a: &Result<EvalResult, CallFailure>, b: &Result<EvalResult, CallFailure>| match (a, b)
            {
                (Ok(a), Ok(b)) => a == b,
                (Err(CallFailure::Plugin(a)), Err(CallFailure::Plugin(b))) => a == b,
                _ => false,
            };
        Ok(batch
            .iter()
            .enumerate()
            .filter(|(i, got)| !same(got, &alone[*i]))
            .filter_map(|(i, got)| {
                let like = (0..alone.len()).find(|&j| j != i && same(got, &alone[j]))?;
                Some(MisplacedResult {
                    index: i,
                    trace: traces[i].trace().id.clone(),
                    like,
                })
            })
            .collect())
    }

    /// [`Plugin::check_batch_order_async`] for synchronous callers.
    pub fn check_batch_order(
        &self,
        traces: &[PreparedTrace],
    ) -> Result<Vec<MisplacedResult>, CallError> {
        block_on(self.check_batch_order_async(traces))
    }

    /// Whether [`Plugin::evaluate_each`] may evaluate several traces in one instance: the
    /// manifest says the plugin is stateless, and a call may be made again without its
    /// effects happening twice.
    fn may_share_instances(&self) -> bool {
        self.inner.manifest.plugin.stateless && self.batches_are_safe()
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
                    keep(each, range.start, &lines);
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
                // A cancelled call: every trace not settled fails at once, unrun.
                Err(Failure { error, .. }) if matches!(error.reason, CallFailure::Cancelled) => {
                    for i in range {
                        self.lone(i, each).await;
                    }
                }
                Err(Failure {
                    error,
                    on: Some(on),
                }) if matches!(error.reason, CallFailure::Timeout { .. }) => {
                    self.after_deadline(range, on, error, elapsed, lines, stage, each)
                        .await;
                }
                Err(Failure { on: Some(on), .. }) => {
                    // The guest got past the traces before the one it was on: those again in
                    // a batch call, that one alone, the rest in a new batch call.
                    let k = range.start + on;
                    self.settle(indices, range.start..k, each).await;
                    self.lone(k, each).await;
                    self.settle(indices, k + 1..range.end, each).await;
                }
            }
        })
    }

    /// The way back from a batch call over `range` that ran out of the deadline of the trace
    /// the guest was on (`on`, in the range), after `elapsed`: the traces before it are
    /// evaluated again one per call, each with its own deadline, and so are the traces
    /// after it; no batch call is made again over them, so however the guest orders its
    /// work, no trace's deadline can be spent twice in batch calls.
    ///
    /// Trace `on` is not run again when the deadline was its own: when none of the traces
    /// before it timed out alone and, together, they took at least half a deadline less
    /// than the failed call (the time went to `on`, whatever order the guest read its
    /// handles in; half, not all, as two runs of the same work differ in time). It then
    /// keeps what it did before the deadline (its log lines and `kv` writes), as a single
    /// call's would. Otherwise it is run alone. A looping trace thus costs one deadline when
    /// the guest works through its traces in order, as every SDK's default
    /// `evaluate-batch` does, and two at most when it does not. (A guest that reads a trace
    /// after the looping one and then loops without reading the looping one's handle again
    /// gets the timeout on the trace it read last: the host sees only which handle it read.)
    #[allow(clippy::too_many_arguments)]
    async fn after_deadline(
        &self,
        range: Range<usize>,
        on: usize,
        error: CallError,
        elapsed: Duration,
        lines: Vec<HeldLine>,
        stage: Option<KvStage>,
        each: &mut Each<'_>,
    ) {
        let k = range.start + on;
        let mut before_took = Duration::ZERO;
        let mut before_timed_out = false;
        for i in range.start..k {
            before_took += self.lone(i, each).await;
            before_timed_out |= matches!(
                &each.results[i],
                Some(Err(CallError {
                    reason: CallFailure::Timeout { .. },
                    ..
                }))
            );
        }
        let limit = self.limits().timeout;
        let its_own = !before_timed_out && elapsed.saturating_sub(before_took) >= limit / 2;
        if its_own {
            // What it did before the deadline stays, as a single call's would.
            let mut lines: Vec<HeldLine> = lines.into_iter().filter(|l| l.trace == on).collect();
            if let Some(stage) = stage {
                if let Err(e) = self.commit(stage.into_writes_of(on)) {
                    lines.push(refused_writes(on, e));
                }
            }
            self.pass_on(&lines);
            each.logs[k] = CallLog::default();
            keep(each, range.start, &lines);
            each.results[k] = Some(Err(error));
        } else {
            self.lone(k, each).await;
        }
        for i in k + 1..range.end {
            self.lone(i, each).await;
        }
    }

    /// Evaluate trace `i` alone; the time it took.
    async fn lone(&self, i: usize, each: &mut Each<'_>) -> Duration {
        let started = Instant::now();
        let Logged { value, log } = self.evaluate_logged_async(&each.traces[i]).await;
        let took = started.elapsed();
        each.spent[i] += took;
        each.results[i] = Some(value);
        each.logs[i] = log;
        took
    }

    /// One `evaluate-batch` call over `traces` with everything it held back, observed.
    async fn attempt(&self, indices: &GuestIndices, traces: &[PreparedTrace]) -> Attempt {
        let refused = |error| Attempt {
            outcome: Err(Failure { error, on: None }),
            shares: vec![Duration::ZERO; traces.len()],
            lines: Vec::new(),
            stage: None,
            elapsed: Duration::ZERO,
        };
        let call = self.attempt_call(indices, traces);
        self.observed("evaluate-batch", traces, call, refused, Attempt::failure)
            .await
    }

    async fn attempt_call(&self, indices: &GuestIndices, traces: &[PreparedTrace]) -> Attempt {
        let started = Instant::now();
        let limits = self.limits();
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
        // A trace the guest finished after its deadline (between two ticks, or while the
        // ticker was held up) is late, as a single call would be: its result is refused; its
        // effects stand, as a single call's would.
        let outcome = outcome.map(|results| {
            results
                .into_iter()
                .zip(&report.spent)
                .map(|(result, spent)| match result {
                    Ok(_) if *spent > limits.timeout => Err(self.fail(CallFailure::Timeout {
                        limit: limits.timeout,
                    })),
                    other => other,
                })
                .collect()
        });
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
                let output = self.limits().output;
                lift::evaluate_batch(&mut store, &instance, &handles, output).await
            };
            let mut body = std::pin::pin!(body);
            // The epoch deadline stops guest code; this stops a guest waiting on the host.
            loop {
                let left = batch.remaining() + EPOCH_TICK * 2;
                match self.guard(left, body.as_mut()).await {
                    Waited::Done(out) => break Ok(out),
                    Waited::Cancelled => break Err(CallFailure::Cancelled),
                    Waited::Elapsed if batch.remaining().is_zero() => {
                        break Err(CallFailure::Timeout {
                            limit: self.limits().timeout,
                        })
                    }
                    Waited::Elapsed => {}
                }
            }
        };
        let stage = store.data_mut().kv_stage.take();
        let raw = match called {
            Err(reason) => {
                // A cancellation is no trace's doing.
                let guests = !matches!(reason, CallFailure::Cancelled);
                return (Err((self.fail(reason), guests)), stage);
            }
            Ok(Err(err)) => {
                let hosts = err.downcast_ref::<StageFull>().is_some();
                return (Err((self.classify(&store, err), !hosts)), stage);
            }
            Ok(Ok(raw)) => raw,
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
            ctx.services.log.record(&LogRecord {
                plugin: &ctx.id,
                call: line.call,
                trace: line.trace_id.as_deref(),
                level: line.level,
                message: &line.message,
            });
        }
    }
}

/// Keep the held-back `lines` of a batch call whose first trace is `start` in the logs of
/// their traces.
fn keep(each: &mut Each<'_>, start: usize, lines: &[HeldLine]) {
    for line in lines {
        if let Some(log) = each.logs.get_mut(start + line.trace) {
            log.push(line.level, &line.message);
        }
    }
}

/// The log line saying the store refused a timed-out trace's writes (they would have been
/// refused one by one had it run alone; the trace failed anyway).
fn refused_writes(trace: usize, reason: String) -> HeldLine {
    HeldLine {
        trace,
        call: None,
        trace_id: None,
        level: LogLevel::Warn,
        message: format!("the key-value store refused the writes of this trace: {reason}"),
    }
}
