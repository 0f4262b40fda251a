//! Per-call options: a tighter deadline or memory cap than the plugin's, and cancellation.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::EffectiveLimits;

/// Options for the calls made through one [`Plugin`](crate::Plugin) handle: set them with
/// [`Plugin::with_options`](crate::Plugin::with_options), which returns a handle to the same
/// loaded plugin (nothing is loaded or compiled again).
///
/// An option only ever tightens a limit: a call runs under the tighter of the option and the
/// plugin's own limit ([`Plugin::limits`](crate::Plugin::limits) says which is in force), and
/// the plugin's limits are never above the host's caps ([`HostCaps`](crate::HostCaps)). An
/// option looser than the plugin's limit is not an error, it has no effect, so a host can
/// give every plugin the time a request has left whatever their own limits are.
///
/// ```
/// use std::time::Duration;
/// use flowtrace_plugins::{CallFailure, CallOptions, CancelHandle, LoadOptions, Runtime};
/// # use flowtrace_plugins::{manifest::PluginKind, testing, PreparedTrace};
/// # let component = testing::evaluator(&testing::guest_wat("behaviors"));
/// # let manifest = testing::manifest("behaviors", PluginKind::Evaluator);
/// # let trace = PreparedTrace::new(testing::trace_with_spans(0));
///
/// let runtime = Runtime::new()?;
/// let plugin = runtime.load(&component, &manifest, LoadOptions::default())?;
/// let cancel = CancelHandle::new();
/// let request = plugin.with_options(CallOptions {
///     timeout: Some(Duration::from_millis(250)),
///     memory: Some(32 << 20),
///     cancel: Some(cancel.clone()),
/// });
/// assert_eq!(request.limits().timeout, Duration::from_millis(250));
/// assert!(request.evaluate(&trace).is_ok());
///
/// cancel.cancel(); // from any thread or task: running calls stop, later ones do not run
/// let err = request.evaluate(&trace).unwrap_err();
/// assert!(matches!(err.reason, CallFailure::Cancelled));
/// assert!(plugin.evaluate(&trace).is_ok()); // other handles are unaffected
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Wall-clock time per call (per trace in an `evaluate-batch` call, as the plugin's own
    /// `timeout`); a call past it fails with [`CallFailure::Timeout`](crate::CallFailure).
    pub timeout: Option<Duration>,
    /// Linear memory per instance, bytes; a call that grows past it fails with
    /// [`CallFailure::MemoryLimit`](crate::CallFailure).
    pub memory: Option<u64>,
    /// Cancels the calls made with these options, the ones running and the ones to come.
    pub cancel: Option<CancelHandle>,
}

impl CallOptions {
    /// `limits` tightened by these options.
    pub(crate) fn tighten(&self, limits: EffectiveLimits) -> EffectiveLimits {
        let memory = self.memory.map_or(limits.memory, |m| {
            limits.memory.min(usize::try_from(m).unwrap_or(usize::MAX))
        });
        EffectiveLimits {
            memory,
            timeout: self
                .timeout
                .map_or(limits.timeout, |t| limits.timeout.min(t)),
            output: limits.output,
        }
    }

    /// Whether the calls are cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelHandle::is_cancelled)
    }
}

/// Cancels plugin calls: give a clone to [`CallOptions::cancel`], keep one, and call
/// [`cancel`](CancelHandle::cancel) from any thread or task.
///
/// A call running guest code is interrupted at the engine's next epoch tick (within
/// [`EPOCH_TICK`](crate::EPOCH_TICK)), and one waiting on the host (an HTTP request, an
/// embedder) stops waiting at once; it fails with
/// [`CallFailure::Cancelled`](crate::CallFailure::Cancelled), and its instance is dropped
/// (the plugin stays usable with other options). A call made with a cancelled handle fails
/// the same way without running. For [`Plugin::evaluate_each`](crate::Plugin::evaluate_each),
/// every trace not evaluated yet fails with `Cancelled`; the ones evaluated before keep their
/// results. A handle stays cancelled: use a new one for new calls.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    token: CancellationToken,
}

impl CancelHandle {
    /// A handle that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel every call made with this handle (or a clone of it), running or to come.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`cancel`](CancelHandle::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes when the handle is cancelled.
    pub(crate) async fn cancelled(&self) {
        self.token.cancelled().await;
    }
}
