//! Errors of loading and calling plugins.

use std::time::Duration;

use crate::capability::CapabilityReport;
use crate::failure::GuestFailure;
use crate::host::Denial;
use crate::inspect::InspectError;
use crate::manifest::{PluginId, PluginKind};
use crate::results::PluginError;

/// A boxed error from wasmtime, kept as the `source` of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a usable component.
    #[error("plugin `{plugin}` is not a valid component")]
    Inspect {
        /// The plugin.
        plugin: PluginId,
        /// What inspection found.
        #[source]
        source: InspectError,
    },
    /// Its imports or exports break the capability policy.
    #[error("plugin `{plugin}` breaks the capability policy:\n{report}")]
    Policy {
        /// The plugin.
        plugin: PluginId,
        /// Every verdict, the failing ones included.
        report: Box<CapabilityReport>,
    },
    /// The contract version the plugin asks for is not this host's.
    #[error("plugin `{plugin}` needs contract `flowtrace:plugin` {required}, this host implements {host}")]
    Contract {
        /// The plugin.
        plugin: PluginId,
        /// The manifest's `flowtrace` requirement.
        required: semver::VersionReq,
        /// [`crate::CONTRACT_VERSION`].
        host: semver::Version,
    },
    /// A `[limits]` entry asks for more than the host allows.
    #[error("plugin `{plugin}` asks for {what} of {asked} but this host allows at most {cap}")]
    LimitAboveCap {
        /// The plugin.
        plugin: PluginId,
        /// `memory`, `timeout` or `output`.
        what: &'static str,
        /// What the manifest asks, rendered.
        asked: String,
        /// The host's cap, rendered.
        cap: String,
    },
    /// Config overrides that do not fit the manifest's `[config]`.
    #[error("invalid config for plugin `{plugin}`:\n  {}", problems.join("\n  "))]
    Config {
        /// The plugin.
        plugin: PluginId,
        /// One line per problem.
        problems: Vec<String>,
    },
    /// Cranelift could not compile it.
    #[error("failed to compile plugin `{plugin}`")]
    Compile {
        /// The plugin.
        plugin: PluginId,
        /// wasmtime's error.
        #[source]
        source: BoxError,
    },
    /// An import the linker does not provide (a capability not granted, or unknown).
    #[error("failed to link plugin `{plugin}`")]
    Link {
        /// The plugin.
        plugin: PluginId,
        /// wasmtime's error, naming the import.
        #[source]
        source: BoxError,
    },
    /// The installed component could not be read.
    #[error("failed to read the component of plugin `{plugin}`")]
    Read {
        /// The plugin.
        plugin: PluginId,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The installed component changed on disk while it was being loaded, after the
    /// registry had checked it.
    #[error(
        "the component of plugin `{plugin}` changed while it was being loaded: it was checked \
         as sha256:{expected}, it now hashes to sha256:{found}"
    )]
    Changed {
        /// The plugin.
        plugin: PluginId,
        /// The sha256 it was checked against.
        expected: String,
        /// The sha256 of the bytes read.
        found: String,
    },
    /// The precompiled cache could not be written (reading problems only cause a recompile).
    #[error("failed to write the compiled cache entry `{}`", path.display())]
    Cache {
        /// The entry.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why one call into a plugin failed. The plugin stays usable: the next call gets a fresh
/// instance.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}` {}", match reason {
    CallFailure::Guest(_) => reason.to_string(),
    _ => format!("failed: {reason}"),
})]
pub struct CallError {
    /// The plugin.
    pub plugin: PluginId,
    /// What went wrong.
    #[source]
    pub reason: CallFailure,
}

/// What went wrong in a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallFailure {
    /// The plugin ran past its wall-clock deadline.
    #[error("timed out after {limit:?}")]
    Timeout {
        /// The deadline.
        limit: Duration,
    },
    /// The host cancelled the call ([`CancelHandle`](crate::CancelHandle)).
    #[error("cancelled by the host")]
    Cancelled,
    /// The plugin tried to grow its memory past the limit.
    #[error("memory limit of {limit} bytes reached (it asked for {desired})")]
    MemoryLimit {
        /// The limit, bytes.
        limit: usize,
        /// What it asked for, bytes.
        desired: usize,
    },
    /// The plugin trapped (`unreachable`, an out-of-bounds access, ...) and the host cannot
    /// tell it in the plugin's terms (a Rust panic or a stack overflow is
    /// [`CallFailure::Guest`]).
    #[error("trapped: {message}")]
    Trap {
        /// wasmtime's trap description with the guest backtrace when there is one.
        message: String,
    },
    /// The plugin panicked, raised an exception it did not catch, or overflowed its stack,
    /// told in its own terms (message, location in its sources, backtrace).
    #[error("{0}")]
    Guest(Box<GuestFailure>),
    /// What it returned is over the output limit.
    #[error("output of {size} bytes is over the {limit}-byte limit")]
    OutputTooLarge {
        /// Size of the output, bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The plugin tried something its capabilities do not allow, and failed because of it.
    #[error("capability denied: {}", denials.iter().map(|d| format!("{} ({})", d.what, d.reason)).collect::<Vec<_>>().join("; "))]
    CapabilityDenied {
        /// Each refused request.
        denials: Vec<Denial>,
        /// The error the plugin reported after the refusal, if it reported one.
        plugin_error: Option<PluginError>,
    },
    /// The plugin reported an error.
    #[error("{0}")]
    Plugin(#[from] PluginError),
    /// It returned something the contract forbids (a score outside 0..1, wrong vector count).
    #[error("returned an invalid result: {0}")]
    InvalidResult(String),
    /// The key-value store refused the writes a batch call held back (its quota, say); the
    /// call's traces are evaluated again one per call, where the guest sees the refusal.
    #[error("the key-value store refused the writes of the batch: {reason}")]
    KvCommit {
        /// The store's reason.
        reason: String,
    },
    /// The plugin is of another kind than the call needs.
    #[error("is {actual} `{kind}` plugin, not {expected}", actual = crate::diag::article(kind.as_str()))]
    WrongKind {
        /// Its kind.
        kind: PluginKind,
        /// What the call needs.
        expected: &'static str,
    },
    /// Too many calls at once for the instance pool; retry later.
    #[error("the host's instance pool is exhausted ({0}); retry when other calls finish")]
    PoolExhausted(String),
    /// Instantiation failed for another reason.
    #[error("failed to instantiate")]
    Instantiate(#[source] BoxError),
}

impl CallFailure {
    /// A stable, kebab-case name of the failure (`timeout`, `memory-limit`, `trap`, ...):
    /// the `outcome` of a [`CallRecord`](crate::CallRecord) and the `error.type` of the
    /// call's span.
    pub fn name(&self) -> &'static str {
        match self {
            CallFailure::Timeout { .. } => "timeout",
            CallFailure::MemoryLimit { .. } => "memory-limit",
            CallFailure::Trap { .. } => "trap",
            CallFailure::OutputTooLarge { .. } => "output-too-large",
            CallFailure::CapabilityDenied { .. } => "capability-denied",
            CallFailure::Plugin(_) => "plugin-error",
            CallFailure::InvalidResult(_) => "invalid-result",
            CallFailure::KvCommit { .. } => "kv-commit",
            CallFailure::WrongKind { .. } => "wrong-kind",
            CallFailure::PoolExhausted(_) => "pool-exhausted",
            CallFailure::Instantiate(_) => "instantiate",
            CallFailure::Cancelled => "cancelled",
            CallFailure::Guest(failure) => match failure.kind {
                crate::failure::GuestFailureKind::Panic => "panic",
                crate::failure::GuestFailureKind::Exception => "exception",
                crate::failure::GuestFailureKind::StackOverflow => "stack-overflow",
            },
        }
    }
}

/// A plugin is not of the kind a typed handle needs
/// ([`Plugin::as_evaluator`](crate::Plugin::as_evaluator) and the like).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "plugin `{plugin}` is {a} {kind}, not {an} {expected}",
    a = crate::diag::article(kind.as_str()),
    an = crate::diag::article(expected.as_str())
)]
pub struct KindMismatch {
    /// The plugin.
    pub plugin: PluginId,
    /// Its kind.
    pub kind: PluginKind,
    /// The kind the handle needs.
    pub expected: PluginKind,
}

/// Why a trace could not be prepared for plugins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// The trace has more spans than the host's cap
    /// ([`HostCaps::spans`](crate::HostCaps::spans)).
    #[error("trace `{trace}` has {spans} spans, more than the cap of {cap}")]
    TooManySpans {
        /// The trace id.
        trace: String,
        /// Its number of spans.
        spans: usize,
        /// The cap.
        cap: usize,
    },
}
