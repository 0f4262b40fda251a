//! What a plugin returns, measured in guest memory before the host copies any of it.
//!
//! `bindgen!`'s calls lift a result whole (every string, list and vector copied into host
//! memory) and only then could the output limit be checked: a 100 MB explanation was copied
//! in full to be refused for being over 1 MiB. Here the plugin exports are called through
//! [`TypedFunc`](wasmtime::component::TypedFunc)s whose result types are mirrors of the WIT
//! types ([`mirrors`]) holding only where each string and list lies in guest memory
//! ([`memory::GuestStr`], [`GuestList`]), bounds-checked as they are lifted. The result is measured there, the way the output limit has always counted it
//! (the bytes of every string, four per vector element, and a fixed part per record), and
//! copied into host types only when it fits.
//!
//! Everything happens inside the lift, before wasmtime calls the guest's `post-return`
//! (which frees what the guest returned: reading guest memory after it, as a
//! [`WasmStr`](wasmtime::component::WasmStr) returned from a call would, can read bytes the
//! guest's allocator has already reused). The lift has no way to the call's limits, so
//! [`with_budget`] hands them over in a thread-local for each poll of the call.
//!
//! The mirrors implement wasmtime's `ComponentType` and `Lift` traits, whose canonical-ABI
//! methods are hidden in its documentation: this relies on wasmtime `=48.0.8` (pinned in
//! the workspace), and a wasmtime upgrade must revisit [`memory`]. What
//! they do is what wasmtime's own `WasmStr` and `WasmList` do in their `new`.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;

use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentNamedList, ComponentType, Instance, Lift, Lower, Resource};
use wasmtime::Store;

use crate::bindings::exporter::ExportFormat;
use crate::bindings::types as wit;
use crate::host::trace::TraceHandle;
use crate::host::HostState;

mod memory;
mod mirrors;

use memory::GuestList;
use mirrors::{EvalResultM, ExportFormatM, PluginErrorM, TraceDataM};

/// A result that fits the output limit, copied out of the guest, or its size.
pub(super) enum Lifted<T> {
    /// It fits: the host's copy.
    Fits(T),
    /// It is over the limit: its size, bytes. Nothing was copied.
    TooLarge(usize),
}

impl<T, E> Lifted<Result<T, E>> {
    /// Either arm of a `result` counts towards the limit; an error that fits is the call's.
    pub(super) fn transpose(self) -> Result<Lifted<T>, E> {
        match self {
            Lifted::Fits(Ok(value)) => Ok(Lifted::Fits(value)),
            Lifted::Fits(Err(e)) => Err(e),
            Lifted::TooLarge(size) => Ok(Lifted::TooLarge(size)),
        }
    }
}

/// A list result of as many items as the host asked for (`evaluate-batch`, `embed`).
pub(super) struct Listed<T> {
    /// How many items the guest returned.
    pub(super) len: usize,
    /// The items; empty when `len` is not the number the host asked for (nothing of them is
    /// copied then).
    pub(super) items: Vec<T>,
}

/// What one call may return: read by the lift, on the thread polling the call.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// The output limit, bytes.
    output: usize,
    /// The number of items a list result must have ([`Listed`]).
    items: usize,
}

thread_local! {
    static BUDGET: Cell<Option<Budget>> = const { Cell::new(None) };
}

/// Poll `fut` with `budget` set for the lifts it makes. Set at every poll (a call's future
/// may be polled on another thread each time) and restored after it (a host import may run
/// another plugin's call inside this poll).
async fn with_budget<F: Future>(budget: Budget, fut: F) -> F::Output {
    struct Restore(Option<Budget>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.set(self.0);
        }
    }
    let mut fut = pin!(fut);
    std::future::poll_fn(move |cx| {
        let _restore = Restore(BUDGET.replace(Some(budget)));
        fut.as_mut().poll(cx)
    })
    .await
}

fn budget() -> wasmtime::Result<Budget> {
    BUDGET
        .get()
        .ok_or_else(|| wasmtime::format_err!("a plugin result was lifted outside a call's budget"))
}

/// Call export `func` of interface `iface` with the result type `R` under `budget`.
async fn call<P, R>(
    store: &mut Store<HostState>,
    instance: &Instance,
    iface: &str,
    func: &str,
    params: P,
    budget: Budget,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower + Send + Sync,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let missing = || wasmtime::format_err!("the component exports no `{iface}#{func}`");
    let at = instance
        .get_export_index(&mut *store, None, iface)
        .ok_or_else(missing)?;
    let export = instance
        .get_export_index(&mut *store, Some(&at), func)
        .ok_or_else(missing)?;
    let typed = instance.get_typed_func::<P, R>(&mut *store, &export)?;
    with_budget(budget, typed.call_async(&mut *store, params)).await
}

const EVALUATOR: &str = "flowtrace:plugin/evaluator@0.1.0";
const EXPORTER: &str = "flowtrace:plugin/exporter@0.1.0";
const EMBEDDER: &str = "flowtrace:plugin/embedder@0.1.0";
const TRANSFORMER: &str = "flowtrace:plugin/transformer@0.1.0";

fn single(output: usize) -> Budget {
    Budget { output, items: 0 }
}

type Out<T> = wasmtime::Result<Lifted<Result<T, wit::PluginError>>>;

/// `evaluator.evaluate`, its result within `output` bytes.
pub(super) async fn evaluate(
    store: &mut Store<HostState>,
    instance: &Instance,
    trace: Resource<TraceHandle>,
    output: usize,
) -> Out<wit::EvalResult> {
    let (Checked(out),) = call::<_, (Checked<Result<EvalResultM, PluginErrorM>>,)>(
        store,
        instance,
        EVALUATOR,
        "evaluate",
        (trace,),
        single(output),
    )
    .await?;
    Ok(out)
}

/// `evaluator.evaluate-batch`: one result per trace, each within `output` bytes.
pub(super) async fn evaluate_batch(
    store: &mut Store<HostState>,
    instance: &Instance,
    traces: &[Resource<TraceHandle>],
    output: usize,
) -> wasmtime::Result<Listed<Lifted<Result<wit::EvalResult, wit::PluginError>>>> {
    let budget = Budget {
        output,
        items: traces.len(),
    };
    let (Each(out),) = call::<_, (Each<Result<EvalResultM, PluginErrorM>>,)>(
        store,
        instance,
        EVALUATOR,
        "evaluate-batch",
        (traces,),
        budget,
    )
    .await?;
    Ok(out)
}

/// `exporter.formats`, within `output` bytes.
pub(super) async fn formats(
    store: &mut Store<HostState>,
    instance: &Instance,
    output: usize,
) -> wasmtime::Result<Lifted<Vec<ExportFormat>>> {
    let (Checked(out),) = call::<_, (Checked<GuestList<ExportFormatM>>,)>(
        store,
        instance,
        EXPORTER,
        "formats",
        (),
        single(output),
    )
    .await?;
    Ok(out)
}

/// `exporter.export-traces`, within `output` bytes.
pub(super) async fn export_traces(
    store: &mut Store<HostState>,
    instance: &Instance,
    format: &str,
    traces: &[Resource<TraceHandle>],
    output: usize,
) -> Out<Vec<u8>> {
    let (Checked(out),) = call::<_, (Checked<Result<GuestList<u8>, PluginErrorM>>,)>(
        store,
        instance,
        EXPORTER,
        "export-traces",
        (format, traces),
        single(output),
    )
    .await?;
    Ok(out)
}

/// `embedder.embed`, within `output` bytes: the vectors are copied only when there is one
/// per text (an empty vector counts nothing towards the limit, and a host `Vec` is 24 bytes).
pub(super) async fn embed(
    store: &mut Store<HostState>,
    instance: &Instance,
    texts: &[String],
    output: usize,
) -> Out<Listed<Vec<f32>>> {
    let budget = Budget {
        output,
        items: texts.len(),
    };
    let (Checked(out),) = call::<_, (Checked<Result<Counted<GuestList<f32>>, PluginErrorM>>,)>(
        store,
        instance,
        EMBEDDER,
        "embed",
        (texts,),
        budget,
    )
    .await?;
    Ok(out)
}

/// `transformer.transform`, within `output` bytes.
pub(super) async fn transform(
    store: &mut Store<HostState>,
    instance: &Instance,
    traces: &[Resource<TraceHandle>],
    output: usize,
) -> Out<Vec<wit::TraceData>> {
    let (Checked(out),) = call::<_, (Checked<Result<GuestList<TraceDataM>, PluginErrorM>>,)>(
        store,
        instance,
        TRANSFORMER,
        "transform",
        (traces,),
        single(output),
    )
    .await?;
    Ok(out)
}

/// The size of a result as it is measured: stops counting once past `stop`.
struct Meter {
    size: usize,
    stop: usize,
}

impl Meter {
    /// A meter for a result of a call with this output limit. A result whose strings and
    /// lists do not overlap is no larger than the guest memory it lies in, so it is measured
    /// exactly; one that repeats its own bytes (1,000 findings pointing at one 1 MB string)
    /// is measured only until it passes both the limit and the memory size, so measuring
    /// costs at most that many bytes' worth of work, and its reported size is where the
    /// host stopped.
    fn new(cx: &LiftContext<'_>, output: usize) -> Self {
        Self {
            size: 0,
            stop: output.max(cx.memory().len()),
        }
    }

    fn add(&mut self, bytes: usize) {
        self.size = self.size.saturating_add(bytes);
    }

    fn done(&self) -> bool {
        self.size > self.stop
    }
}

/// A value lifted as where it lies in guest memory: its size, and its copy.
trait InGuest: Lift {
    /// The host's copy.
    type Owned: Send + Sync;

    /// Add this value's size to `meter`.
    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()>;

    /// Copy it out of guest memory.
    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Self::Owned>;
}

/// Measure `value`; copy it when it is within `output` bytes.
fn check<M: InGuest>(
    cx: &mut LiftContext<'_>,
    value: &M,
    output: usize,
) -> wasmtime::Result<Lifted<M::Owned>> {
    let mut meter = Meter::new(cx, output);
    value.measure(cx, &mut meter)?;
    crate::plugin::observe::output(meter.size);
    if meter.size > output {
        return Ok(Lifted::TooLarge(meter.size));
    }
    Ok(Lifted::Fits(value.copy(cx)?))
}

/// The result of a call, checked as a whole against the budget's output limit.
struct Checked<M: InGuest>(Lifted<M::Owned>);

// SAFETY: the canonical ABI of `Checked<M>` is `M`'s, and it is lifted by lifting an `M`.
unsafe impl<M: InGuest> ComponentType for Checked<M> {
    type Lower = M::Lower;
    const ABI: CanonicalAbiInfo = M::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        M::typecheck(ty, types)
    }
}

// SAFETY: as above.
unsafe impl<M: InGuest> Lift for Checked<M> {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let value = M::linear_lift_from_flat(cx, ty, src)?;
        Ok(Self(check(cx, &value, budget()?.output)?))
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let value = M::linear_lift_from_memory(cx, ty, bytes)?;
        Ok(Self(check(cx, &value, budget()?.output)?))
    }
}

/// A list result whose items are checked one by one against the budget's output limit,
/// after its length is checked against the budget's item count.
struct Each<M: InGuest>(Listed<Lifted<M::Owned>>);

// SAFETY: the canonical ABI of `Each<M>` is `list<M>`'s, and it is lifted by lifting one.
unsafe impl<M: InGuest> ComponentType for Each<M> {
    type Lower = <GuestList<M> as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <GuestList<M> as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <GuestList<M> as ComponentType>::typecheck(ty, types)
    }
}

impl<M: InGuest> Each<M> {
    fn check(cx: &mut LiftContext<'_>, list: GuestList<M>) -> wasmtime::Result<Self> {
        let budget = budget()?;
        let mut items = Vec::new();
        if list.len == budget.items {
            for i in 0..list.len {
                let item = list.get(cx, i)?;
                items.push(check(cx, &item, budget.output)?);
            }
        }
        Ok(Self(Listed {
            len: list.len,
            items,
        }))
    }
}

// SAFETY: as above.
unsafe impl<M: InGuest> Lift for Each<M> {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let list = GuestList::<M>::linear_lift_from_flat(cx, ty, src)?;
        Self::check(cx, list)
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let list = GuestList::<M>::linear_lift_from_memory(cx, ty, bytes)?;
        Self::check(cx, list)
    }
}

/// A list that must have the budget's item count: measured whole, copied only when it has.
struct Counted<M>(GuestList<M>);

// SAFETY: the canonical ABI of `Counted<M>` is `list<M>`'s, and it is lifted as one.
unsafe impl<M: ComponentType> ComponentType for Counted<M> {
    type Lower = <GuestList<M> as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <GuestList<M> as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <GuestList<M> as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: as above.
unsafe impl<M: Lift> Lift for Counted<M> {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        GuestList::linear_lift_from_flat(cx, ty, src).map(Self)
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        GuestList::linear_lift_from_memory(cx, ty, bytes).map(Self)
    }
}

impl<M: InGuest> InGuest for Counted<M> {
    type Owned = Listed<M::Owned>;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        self.0.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Self::Owned> {
        let items = if self.0.len == budget()?.items {
            self.0.copy(cx)?
        } else {
            Vec::new()
        };
        Ok(Listed {
            len: self.0.len,
            items,
        })
    }
}
