//! The plugin kinds, one file each: the kind's trait (and the types only it uses), the
//! bridge from that trait to the bindings generated from `shim/sdk.wit`, and its
//! `export_*!` macro.
//!
//! A plugin is a type (usually a unit struct), one impl of its kind's trait, and the
//! matching export macro. Each call from the host runs in a fresh instance of the plugin,
//! so there is no state between calls: the trait methods take no `self`.
//!
//! Each macro defines the component's exported functions (the names of the contract's
//! plugin interface) and embeds the type of the kind's world from `wit/`, so only the
//! exports of the kind the plugin chose are required of it.
//!
//! A new kind is its file here, its two lines below, and its interface in `shim/sdk.wit`:
//! `build.rs` finds its world (`<kind>-plugin`) in `wit/` and checks the shim against it.

use crate::bindings::wit;
use crate::Trace;

mod embedder;
mod evaluator;
mod exporter;
mod transformer;

pub use embedder::Embedder;
pub use evaluator::Evaluator;
pub use exporter::{ExportFormat, Exporter};
pub use transformer::Transformer;

/// Call `f` with the traces of a `list<borrow<trace>>` argument (declared `list<u32>` in
/// the shim). Each borrowed handle is dropped when `f` returns, ending its borrow, as the
/// canonical ABI requires before the call returns: exactly what wit-bindgen does for one
/// `borrow<trace>`.
fn with_traces<R>(handles: Vec<u32>, f: impl FnOnce(&[Trace<'_>]) -> R) -> R {
    let raw: Vec<wit::Trace> = handles
        .into_iter()
        // SAFETY: each handle is a borrow of a `trace` the host lent for this call, and
        // is used and dropped once, within the call.
        .map(|h| unsafe { wit::Trace::from_handle(h) })
        .collect();
    let traces: Vec<Trace<'_>> = raw.iter().map(Trace::borrowed).collect();
    f(&traces)
}

/// What every `export_*!` macro expands to: `$ty` checked against the kind's trait, the
/// exported functions (which call the generated `$bindings` through `Bridge<$ty>`, named
/// `Bridge` and `e` for them), and the component type of the kind's world in `$section`.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_kind {
    (
        $ty:ty,
        $kind:ident,
        $bindings:ident,
        $component_type:ident,
        $section:literal;
        $($export:item)*
    ) => {
        const _: () = {
            type Bridge = $crate::__private::Bridge<$ty>;
            use $crate::__private::$bindings as e;

            const _: fn() = || {
                fn implements<T: $crate::$kind>() {}
                implements::<$ty>();
            };

            $($export)*

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = $section)]
            #[used]
            static COMPONENT_TYPE: [u8; $crate::__private::$component_type.len()] =
                $crate::__private::$component_type;
        };
    };
}
