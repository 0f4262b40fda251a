//! Code a test harness hands to every new instance of a plugin, for the edit loop of
//! languages whose component is an interpreter: the component is an engine built once, and
//! the plugin's code (a JavaScript bundle) is passed to it at instantiation.
//!
//! The host gives the code to the instance through an export of the component,
//! [`PRELOAD_INTERFACE`]`#`[`PRELOAD_FUNC`] (`load: func(source: string) -> result<_, string>`):
//! the host pushes it, the guest pulls nothing, so the component imports exactly what its
//! manifest grants and a plugin loaded without a [`Preload`] (every production load) has no
//! way to ask for one.

use std::sync::Arc;

use wasmtime::component::{ComponentExportIndex, InstancePre};

use crate::host::HostState;

/// The interface a preloading component exports.
pub const PRELOAD_INTERFACE: &str = "flowtrace:plugin/dev-loader@0.1.0";

/// Its function, called with [`Preload::source`] on every new instance, before the call.
pub const PRELOAD_FUNC: &str = "load";

/// Code to hand to every new instance of a plugin ([`LoadOptions::preload`](crate::LoadOptions::preload)):
/// what `cargo flowtrace test` gives a TypeScript plugin's prebuilt engine, its bundle.
///
/// A load with a preload fails with [`LoadError::Link`](crate::LoadError::Link) when the
/// component does not export [`PRELOAD_INTERFACE`]. An error the component returns from
/// `load` fails the call as a [`PluginError::Failed`](crate::results::PluginError) would
/// (with the exception its SDK reported, when it did).
#[derive(Debug, Clone)]
pub struct Preload {
    /// The code, as the component's `load` takes it.
    pub source: Arc<str>,
    /// The source map of `source`, for failures: used instead of the one the component
    /// carries ([`SOURCE_MAP_SECTION`](crate::failure::SOURCE_MAP_SECTION)).
    pub source_map: Option<Arc<[u8]>>,
}

/// A [`Preload`], with where its function is in the component.
pub(crate) struct Bound {
    pub(crate) source: Arc<str>,
    pub(crate) func: ComponentExportIndex,
}

impl Bound {
    /// `preload`, bound to the export of `pre`'s component; `None` when it has none.
    pub(crate) fn new(preload: &Preload, pre: &InstancePre<HostState>) -> Option<Self> {
        let component = pre.component();
        let (_, interface) = component.get_export(None, PRELOAD_INTERFACE)?;
        let (_, func) = component.get_export(Some(&interface), PRELOAD_FUNC)?;
        Some(Self {
            source: preload.source.clone(),
            func,
        })
    }
}
