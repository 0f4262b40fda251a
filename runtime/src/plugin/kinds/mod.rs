//! The plugin kinds: the one list of them (`plugin_kinds!` below), and one module each with
//! the calls of its interface.
//!
//! A kind is what a plugin does; it decides the interface the component exports and the world
//! it targets. Adding one: its interface and world in `wit/plugins.wit`, a line in the list
//! below, and a module here with its calls (`impl Plugin { pub async fn ..._async }`) and
//! those of its typed handle (`impl Evaluator { ... }`), which the list defines.

use wasmtime::component::{InstancePre, Resource};
use wasmtime::Store;

use crate::error::KindMismatch;
use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::HostState;
use crate::manifest::PluginId;
use crate::plugin::Plugin;

mod embedder;
pub(crate) mod evaluator;
mod exporter;
mod transformer;

/// A typed handle of a loaded plugin: [`Evaluator`], [`Exporter`], [`Embedder`] or
/// [`Transformer`], each with only its kind's calls, so a host cannot call the wrong export.
/// Get one with [`Plugin::as_evaluator`] (and the like), `Evaluator::try_from(plugin)`,
/// [`Plugin::typed`] or [`Registry::load_enabled_as`](crate::registry::Registry::load_enabled_as).
/// Cheap to clone, `Send + Sync`, as [`Plugin`] is.
///
/// ```
/// use flowtrace_plugins::manifest::PluginKind;
/// use flowtrace_plugins::{testing, Evaluator, LoadOptions, PreparedTrace, Runtime};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::new()?;
/// # let component = testing::evaluator(&testing::guest_wat("scan-infos"));
/// # let manifest = testing::manifest("scan-infos", PluginKind::Evaluator);
/// let plugin = runtime.load(&component, &manifest, LoadOptions::default())?;
///
/// // Checked once: an evaluator, so `evaluate` is there, and `export` is not.
/// let evaluator: Evaluator = plugin.as_evaluator()?;
/// let result = evaluator.evaluate(&PreparedTrace::new(testing::trace_with_spans(2)))?;
/// assert!((0.0..=1.0).contains(&result.score));
///
/// // A plugin of another kind gives no handle, and says why.
/// let err = plugin.as_exporter().unwrap_err();
/// assert_eq!(err.to_string(), "plugin `scan-infos` is an evaluator, not an exporter");
/// # Ok(())
/// # }
/// ```
pub trait KindHandle: Clone + Send + Sync + std::fmt::Debug + sealed::Sealed + 'static {
    /// The kind of the plugins it handles.
    const KIND: PluginKind;

    /// The plugin behind it.
    fn plugin(&self) -> &Plugin;

    /// The handle of `plugin`, when it is of [`KIND`](KindHandle::KIND).
    fn from_plugin(plugin: Plugin) -> Result<Self, KindMismatch>;
}

mod sealed {
    pub trait Sealed {}
}

/// The error of a handle asked of a plugin of another kind.
fn mismatch(plugin: &Plugin, expected: PluginKind) -> KindMismatch {
    KindMismatch {
        plugin: plugin.id().clone(),
        kind: plugin.kind(),
        expected,
    }
}

/// Defines [`PluginKind`], the exports of a loaded plugin, and a typed handle per kind from
/// one list of kinds: `Variant = "manifest spelling" in module via as_variant,` where
/// `module` is both this folder's module of the kind and the bindings' module of its
/// interface, `Variant` also names the handle, and `as_variant` is the [`Plugin`] method
/// that makes one.
macro_rules! plugin_kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal in $module:ident via $as:ident,)+) => {
        /// What a plugin does; decides which interface it exports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PluginKind {
            $($(#[$doc])* $variant,)+
        }

        impl PluginKind {
            /// Every kind, in contract order.
            pub const ALL: [PluginKind; [$($name),+].len()] = [$(PluginKind::$variant),+];

            /// The manifest spelling, also the exported interface name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(PluginKind::$variant => $name,)+
                }
            }

            /// The WIT world a plugin of this kind targets.
            pub fn world(self) -> &'static str {
                match self {
                    $(PluginKind::$variant => concat!($name, "-plugin"),)+
                }
            }
        }

        /// The export of a loaded plugin: its kind's interface. Looking it up checks at load
        /// that the component exports it with the contract's types; the calls that return
        /// variable-size data look their functions up themselves (`lift`), so some indices go
        /// unread.
        pub(crate) enum Exports {
            $($variant(#[allow(dead_code)] crate::bindings::$module::GuestIndices),)+
        }

        impl Exports {
            /// Look up the interface of `kind` in the component `pre` instantiates.
            pub(crate) fn new(kind: PluginKind, pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
                Ok(match kind {
                    $(PluginKind::$variant => {
                        Exports::$variant(crate::bindings::$module::GuestIndices::new(pre)?)
                    })+
                })
            }
        }

        $(
            #[doc = concat!("A loaded ", $name, " plugin: its kind checked once, when the handle ")]
            #[doc = concat!("is made ([`Plugin::", stringify!($as), "`]), so only its kind's calls")]
            /// exist. Cheap to clone and safe to call from many threads at once, like
            /// [`Plugin`].
            #[derive(Clone)]
            pub struct $variant {
                plugin: Plugin,
            }

            impl $variant {
                /// The plugin id.
                pub fn id(&self) -> &PluginId {
                    self.plugin.id()
                }

                /// The plugin behind the handle (its manifest, limits, capability report).
                pub fn plugin(&self) -> &Plugin {
                    &self.plugin
                }

                /// The plugin behind the handle.
                pub fn into_plugin(self) -> Plugin {
                    self.plugin
                }
            }

            impl std::fmt::Debug for $variant {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_tuple(stringify!($variant)).field(&self.plugin).finish()
                }
            }

            impl sealed::Sealed for $variant {}

            impl KindHandle for $variant {
                const KIND: PluginKind = PluginKind::$variant;

                fn plugin(&self) -> &Plugin {
                    &self.plugin
                }

                fn from_plugin(plugin: Plugin) -> Result<Self, KindMismatch> {
                    match &plugin.inner.exports {
                        Exports::$variant(_) => Ok($variant { plugin }),
                        #[allow(unreachable_patterns)]
                        _ => Err(mismatch(&plugin, PluginKind::$variant)),
                    }
                }
            }

            impl TryFrom<Plugin> for $variant {
                type Error = KindMismatch;

                fn try_from(plugin: Plugin) -> Result<Self, KindMismatch> {
                    <$variant as KindHandle>::from_plugin(plugin)
                }
            }

            impl From<$variant> for Plugin {
                fn from(handle: $variant) -> Plugin {
                    handle.plugin
                }
            }
        )+

        impl Plugin {
            $(
                #[doc = concat!("This plugin as [`", stringify!($variant), "`], if its kind is `", $name, "`.")]
                pub fn $as(&self) -> Result<$variant, KindMismatch> {
                    <$variant as KindHandle>::from_plugin(self.clone())
                }
            )+
        }
    };
}

plugin_kinds! {
    /// Scores a trace.
    Evaluator = "evaluator" in evaluator via as_evaluator,
    /// Sends traces somewhere else.
    Exporter = "exporter" in exporter via as_exporter,
    /// Turns texts into vectors.
    Embedder = "embedder" in embedder via as_embedder,
    /// Rewrites traces.
    Transformer = "transformer" in transformer via as_transformer,
}

impl PluginKind {
    /// Parse the manifest spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Plugin {
    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.inner.manifest.plugin.kind
    }

    /// This plugin as the typed handle `H` (`plugin.typed::<Evaluator>()`), if it is of
    /// `H`'s kind.
    pub fn typed<H: KindHandle>(&self) -> Result<H, KindMismatch> {
        H::from_plugin(self.clone())
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lend `traces` to the guest for one call: a handle each.
fn push_traces(
    store: &mut Store<HostState>,
    traces: &[PreparedTrace],
) -> wasmtime::Result<Vec<Resource<TraceHandle>>> {
    traces
        .iter()
        .map(|t| {
            Ok(store
                .data_mut()
                .table
                .push(TraceHandle::new(t.clone(), None))?)
        })
        .collect()
}
