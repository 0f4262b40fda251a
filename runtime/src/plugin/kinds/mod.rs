//! The plugin kinds: the one list of them (`plugin_kinds!` below), and one module each with
//! the calls of its interface.
//!
//! A kind is what a plugin does; it decides the interface the component exports and the world
//! it targets. Adding one: its interface and world in `wit/plugins.wit`, a line in the list
//! below, and a module here with its calls (`impl Plugin { pub async fn ..._async }`).

use wasmtime::component::{InstancePre, Resource};
use wasmtime::Store;

use crate::host::trace::{PreparedTrace, TraceHandle};
use crate::host::HostState;

mod embedder;
pub(crate) mod evaluator;
mod exporter;
mod transformer;

/// Defines [`PluginKind`] and the exports of a loaded plugin from one list of kinds:
/// `Variant = "manifest spelling" in module,` where `module` is both this folder's module of
/// the kind and the bindings' module of its interface.
macro_rules! plugin_kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal in $module:ident,)+) => {
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
    };
}

plugin_kinds! {
    /// Scores a trace.
    Evaluator = "evaluator" in evaluator,
    /// Sends traces somewhere else.
    Exporter = "exporter" in exporter,
    /// Turns texts into vectors.
    Embedder = "embedder" in embedder,
    /// Rewrites traces.
    Transformer = "transformer" in transformer,
}

impl PluginKind {
    /// Parse the manifest spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
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
