//! What a plugin returns, measured in guest memory before the host copies any of it.
//!
//! `bindgen!`'s calls lift a result whole (every string, list and vector copied into host
//! memory) and only then could the output limit be checked: a 100 MB explanation was copied
//! in full to be refused for being over 1 MiB. Here the plugin exports are called through
//! [`TypedFunc`]s whose result types are mirrors of the WIT types holding only where each
//! string and list lies in guest memory ([`GuestStr`], [`GuestList`]), bounds-checked as they
//! are lifted. The result is measured there, the way the output limit has always counted it
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
//! the workspace), and a wasmtime upgrade must revisit [`GuestStr`] and [`GuestList`]. What
//! they do is what wasmtime's own `WasmStr` and `WasmList` do in their `new`.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::pin;

use wasmtime::component::__internal::wasmtime_environ::component::StringEncoding;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{
    ComponentNamedList, ComponentType, Instance, Lift, Lower, Resource, WasmList, WasmStr,
};
use wasmtime::{Store, ValRaw};

use crate::bindings::exporter::ExportFormat;
use crate::bindings::types as wit;
use crate::host::trace::TraceHandle;
use crate::host::HostState;

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

/// A `(pointer, length)` pair of the canonical ABI, from the flat form or from memory.
fn pair_from_flat(src: &[ValRaw; 2]) -> (usize, usize) {
    (src[0].get_u32() as usize, src[1].get_u32() as usize)
}

fn pair_from_memory(bytes: &[u8]) -> wasmtime::Result<(usize, usize)> {
    let word = |at: usize| -> wasmtime::Result<usize> {
        let b: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| wasmtime::format_err!("pointer pair out of bounds"))?;
        Ok(u32::from_le_bytes(b) as usize)
    };
    Ok((word(0)?, word(4)?))
}

/// The tag on a `latin1+utf16` string's length that says it is UTF-16.
const UTF16_TAG: usize = 1 << 31;

/// A string in guest memory: in bounds, not yet decoded.
#[derive(Debug, Clone, Copy)]
struct GuestStr {
    ptr: usize,
    /// The length as the canonical ABI gives it (code units, with the UTF-16 tag).
    len: usize,
}

impl GuestStr {
    /// What `WasmStr::new` checks: alignment, and the bytes within memory.
    fn new(cx: &LiftContext<'_>, (ptr, len): (usize, usize)) -> wasmtime::Result<Self> {
        let (bytes, align) = match cx.options().string_encoding {
            StringEncoding::Utf8 => (Some(len), 1),
            StringEncoding::Utf16 => (len.checked_mul(2), 2),
            StringEncoding::CompactUtf16 if len & UTF16_TAG == 0 => (Some(len), 2),
            StringEncoding::CompactUtf16 => ((len ^ UTF16_TAG).checked_mul(2), 2),
        };
        if ptr % align != 0 {
            wasmtime::bail!("string pointer not aligned to {align}");
        }
        match bytes.and_then(|n| ptr.checked_add(n)) {
            Some(end) if end <= cx.memory().len() => Ok(Self { ptr, len }),
            _ => wasmtime::bail!("string pointer/length out of bounds of memory"),
        }
    }

    /// The string's bytes in memory and how they are encoded.
    fn raw<'a>(&self, cx: &LiftContext<'a>) -> (&'a [u8], Encoding) {
        let memory = cx.memory();
        let (bytes, encoding) = match cx.options().string_encoding {
            StringEncoding::Utf8 => (self.len, Encoding::Utf8),
            StringEncoding::Utf16 => (self.len * 2, Encoding::Utf16),
            StringEncoding::CompactUtf16 if self.len & UTF16_TAG == 0 => {
                (self.len, Encoding::Latin1)
            }
            StringEncoding::CompactUtf16 => ((self.len ^ UTF16_TAG) * 2, Encoding::Utf16),
        };
        // In bounds: checked by `new` (and memory never shrinks).
        (&memory[self.ptr..self.ptr + bytes], encoding)
    }

    /// Its length in UTF-8, the host's encoding, without copying it. UTF-8 (what Rust,
    /// Python and JavaScript plugins use) costs nothing; UTF-16 and Latin-1 are scanned.
    fn utf8_len(&self, cx: &LiftContext<'_>) -> wasmtime::Result<usize> {
        let (bytes, encoding) = self.raw(cx);
        Ok(match encoding {
            Encoding::Utf8 => bytes.len(),
            Encoding::Latin1 => bytes.len() + bytes.iter().filter(|b| **b >= 0x80).count(),
            Encoding::Utf16 => {
                let mut n = 0;
                for c in char::decode_utf16(utf16_units(bytes)) {
                    n += c?.len_utf8();
                }
                n
            }
        })
    }

    fn to_string(self, cx: &LiftContext<'_>) -> wasmtime::Result<String> {
        let (bytes, encoding) = self.raw(cx);
        Ok(match encoding {
            Encoding::Utf8 => std::str::from_utf8(bytes)?.to_owned(),
            Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            Encoding::Utf16 => {
                char::decode_utf16(utf16_units(bytes)).collect::<Result<String, _>>()?
            }
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Utf16,
    Latin1,
}

fn utf16_units(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
}

// SAFETY: a `string` is a pointer pair; `typecheck` is `WasmStr`'s.
unsafe impl ComponentType for GuestStr {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <WasmStr as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: reads the pointer pair and checks it as `WasmStr` does.
unsafe impl Lift for GuestStr {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        Self::new(cx, pair_from_flat(src))
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        Self::new(cx, pair_from_memory(bytes)?)
    }
}

impl InGuest for GuestStr {
    type Owned = String;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(self.utf8_len(cx)?);
        Ok(())
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<String> {
        self.to_string(cx)
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

/// A list in guest memory: in bounds, its items lifted one at a time when read.
struct GuestList<T> {
    ptr: usize,
    len: usize,
    elem: InterfaceType,
    _items: PhantomData<fn() -> T>,
}

impl<T: Lift> GuestList<T> {
    /// What `WasmList::new` checks: the items within memory, and alignment.
    fn new(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
        (ptr, len): (usize, usize),
    ) -> wasmtime::Result<Self> {
        let elem = match ty {
            InterfaceType::List(i) => cx.types[i].element,
            _ => wasmtime::bail!("expected a list"),
        };
        match len.checked_mul(T::SIZE32).and_then(|n| ptr.checked_add(n)) {
            Some(end) if end <= cx.memory().len() => {}
            _ => wasmtime::bail!("list pointer/length out of bounds of memory"),
        }
        if ptr % T::ALIGN32 as usize != 0 {
            wasmtime::bail!("list pointer is not aligned");
        }
        Ok(Self {
            ptr,
            len,
            elem,
            _items: PhantomData,
        })
    }

    /// Item `i` (< `len`), lifted.
    fn get(&self, cx: &mut LiftContext<'_>, i: usize) -> wasmtime::Result<T> {
        let at = self.ptr + i * T::SIZE32;
        let bytes = &cx.memory()[at..at + T::SIZE32];
        T::linear_lift_from_memory(cx, self.elem, bytes)
    }

    /// The items' bytes (for lists of numbers).
    fn bytes<'a>(&self, cx: &LiftContext<'a>) -> &'a [u8] {
        &cx.memory()[self.ptr..self.ptr + self.len * T::SIZE32]
    }
}

// SAFETY: a `list` is a pointer pair; `typecheck` is `WasmList`'s.
unsafe impl<T: ComponentType> ComponentType for GuestList<T> {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <WasmList<T> as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: reads the pointer pair and checks it as `WasmList` does.
unsafe impl<T: Lift> Lift for GuestList<T> {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        Self::new(cx, ty, pair_from_flat(src))
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        Self::new(cx, ty, pair_from_memory(bytes)?)
    }
}

/// A list of records: each item measured (with its fixed part) and copied in turn.
impl<T: InGuest> InGuest for GuestList<T> {
    type Owned = Vec<T::Owned>;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        for i in 0..self.len {
            if meter.done() {
                break;
            }
            self.get(cx, i)?.measure(cx, meter)?;
        }
        Ok(())
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Self::Owned> {
        (0..self.len).map(|i| self.get(cx, i)?.copy(cx)).collect()
    }
}

/// `list<u8>`: its length.
impl InGuest for GuestList<u8> {
    type Owned = Vec<u8>;

    fn measure(&self, _cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(self.len);
        Ok(())
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.bytes(cx).to_vec())
    }
}

/// `list<f32>` (a vector): four bytes an element.
impl InGuest for GuestList<f32> {
    type Owned = Vec<f32>;

    fn measure(&self, _cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(self.len.saturating_mul(4));
        Ok(())
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Vec<f32>> {
        Ok(self
            .bytes(cx)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

impl<T: InGuest> InGuest for Option<T> {
    type Owned = Option<T::Owned>;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        match self {
            Some(v) => v.measure(cx, meter),
            None => Ok(()),
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Self::Owned> {
        self.as_ref().map(|v| v.copy(cx)).transpose()
    }
}

impl<T: InGuest, E: InGuest> InGuest for Result<T, E> {
    type Owned = Result<T::Owned, E::Owned>;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        match self {
            Ok(v) => v.measure(cx, meter),
            Err(e) => e.measure(cx, meter),
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<Self::Owned> {
        Ok(match self {
            Ok(v) => Ok(v.copy(cx)?),
            Err(e) => Err(e.copy(cx)?),
        })
    }
}

// The mirrors of the WIT types plugins return: the same fields, in the same order, with
// strings and lists left in guest memory. The fixed part each adds to the size is the one
// the output limit has always counted.

/// `types.plugin-error`: its message.
#[derive(ComponentType, Lift)]
#[component(variant)]
enum PluginErrorM {
    #[component(name = "invalid-input")]
    InvalidInput(GuestStr),
    #[component(name = "invalid-config")]
    InvalidConfig(GuestStr),
    #[component(name = "unavailable")]
    Unavailable(GuestStr),
    #[component(name = "failed")]
    Failed(GuestStr),
}

impl PluginErrorM {
    fn message(&self) -> &GuestStr {
        match self {
            Self::InvalidInput(m)
            | Self::InvalidConfig(m)
            | Self::Unavailable(m)
            | Self::Failed(m) => m,
        }
    }
}

impl InGuest for PluginErrorM {
    type Owned = wit::PluginError;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        self.message().measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::PluginError> {
        let m = self.message().copy(cx)?;
        Ok(match self {
            Self::InvalidInput(_) => wit::PluginError::InvalidInput(m),
            Self::InvalidConfig(_) => wit::PluginError::InvalidConfig(m),
            Self::Unavailable(_) => wit::PluginError::Unavailable(m),
            Self::Failed(_) => wit::PluginError::Failed(m),
        })
    }
}

/// `types.metric-value`.
#[derive(ComponentType, Lift)]
#[component(variant)]
enum MetricValueM {
    #[component(name = "float")]
    Float(f64),
    #[component(name = "integer")]
    Integer(i64),
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "text")]
    Text(GuestStr),
}

/// `types.metric`: 16 bytes, its name, and its text or 8 bytes for a number.
#[derive(ComponentType, Lift)]
#[component(record)]
struct MetricM {
    name: GuestStr,
    value: MetricValueM,
}

impl InGuest for MetricM {
    type Owned = wit::Metric;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.name.measure(cx, meter)?;
        match &self.value {
            MetricValueM::Text(s) => s.measure(cx, meter),
            _ => {
                meter.add(8);
                Ok(())
            }
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Metric> {
        Ok(wit::Metric {
            name: self.name.copy(cx)?,
            value: match &self.value {
                MetricValueM::Float(f) => wit::MetricValue::Float(*f),
                MetricValueM::Integer(i) => wit::MetricValue::Integer(*i),
                MetricValueM::Boolean(b) => wit::MetricValue::Boolean(*b),
                MetricValueM::Text(s) => wit::MetricValue::Text(s.copy(cx)?),
            },
        })
    }
}

/// `types.finding`: 16 bytes and its strings.
#[derive(ComponentType, Lift)]
#[component(record)]
struct FindingM {
    #[component(name = "span-id")]
    span_id: Option<GuestStr>,
    message: GuestStr,
}

impl InGuest for FindingM {
    type Owned = wit::Finding;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.span_id.measure(cx, meter)?;
        self.message.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Finding> {
        Ok(wit::Finding {
            span_id: self.span_id.copy(cx)?,
            message: self.message.copy(cx)?,
        })
    }
}

/// `types.eval-result`: 32 bytes, its strings, metrics and findings.
#[derive(ComponentType, Lift)]
#[component(record)]
struct EvalResultM {
    score: f64,
    passed: bool,
    label: Option<GuestStr>,
    explanation: Option<GuestStr>,
    metrics: GuestList<MetricM>,
    findings: GuestList<FindingM>,
}

impl InGuest for EvalResultM {
    type Owned = wit::EvalResult;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(32);
        self.label.measure(cx, meter)?;
        self.explanation.measure(cx, meter)?;
        self.metrics.measure(cx, meter)?;
        self.findings.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::EvalResult> {
        Ok(wit::EvalResult {
            score: self.score,
            passed: self.passed,
            label: self.label.copy(cx)?,
            explanation: self.explanation.copy(cx)?,
            metrics: self.metrics.copy(cx)?,
            findings: self.findings.copy(cx)?,
        })
    }
}

/// `exporter.export-format`: 16 bytes and its strings.
#[derive(ComponentType, Lift)]
#[component(record)]
struct ExportFormatM {
    name: GuestStr,
    #[component(name = "media-type")]
    media_type: GuestStr,
    #[component(name = "file-extension")]
    file_extension: GuestStr,
}

impl InGuest for ExportFormatM {
    type Owned = ExportFormat;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.name.measure(cx, meter)?;
        self.media_type.measure(cx, meter)?;
        self.file_extension.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<ExportFormat> {
        Ok(ExportFormat {
            name: self.name.copy(cx)?,
            media_type: self.media_type.copy(cx)?,
            file_extension: self.file_extension.copy(cx)?,
        })
    }
}

/// `types.attribute-value`.
#[derive(ComponentType, Lift)]
#[component(variant)]
enum AttributeValueM {
    #[component(name = "text")]
    Text(GuestStr),
    #[component(name = "integer")]
    Integer(i64),
    #[component(name = "float")]
    Float(f64),
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "json")]
    Json(GuestStr),
}

/// `types.attribute`: 16 bytes, its key, and its text or 8 bytes for a number.
#[derive(ComponentType, Lift)]
#[component(record)]
struct AttributeM {
    key: GuestStr,
    value: AttributeValueM,
}

impl InGuest for AttributeM {
    type Owned = wit::Attribute;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(16);
        self.key.measure(cx, meter)?;
        match &self.value {
            AttributeValueM::Text(s) | AttributeValueM::Json(s) => s.measure(cx, meter),
            _ => {
                meter.add(8);
                Ok(())
            }
        }
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Attribute> {
        Ok(wit::Attribute {
            key: self.key.copy(cx)?,
            value: match &self.value {
                AttributeValueM::Text(s) => wit::AttributeValue::Text(s.copy(cx)?),
                AttributeValueM::Integer(i) => wit::AttributeValue::Integer(*i),
                AttributeValueM::Float(f) => wit::AttributeValue::Float(*f),
                AttributeValueM::Boolean(b) => wit::AttributeValue::Boolean(*b),
                AttributeValueM::Json(s) => wit::AttributeValue::Json(s.copy(cx)?),
            },
        })
    }
}

/// `types.span`: 96 bytes, its strings and attributes.
#[derive(ComponentType, Lift)]
#[component(record)]
struct SpanM {
    id: GuestStr,
    #[component(name = "parent-id")]
    parent_id: Option<GuestStr>,
    name: GuestStr,
    kind: wit::SpanKind,
    status: wit::SpanStatus,
    #[component(name = "status-message")]
    status_message: Option<GuestStr>,
    input: Option<GuestStr>,
    output: Option<GuestStr>,
    model: Option<GuestStr>,
    #[component(name = "start-time-ns")]
    start_time_ns: u64,
    #[component(name = "end-time-ns")]
    end_time_ns: Option<u64>,
    usage: wit::TokenUsage,
    #[component(name = "cost-usd")]
    cost_usd: Option<f64>,
    attributes: GuestList<AttributeM>,
}

impl InGuest for SpanM {
    type Owned = wit::Span;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(96);
        self.id.measure(cx, meter)?;
        self.parent_id.measure(cx, meter)?;
        self.name.measure(cx, meter)?;
        self.status_message.measure(cx, meter)?;
        self.input.measure(cx, meter)?;
        self.output.measure(cx, meter)?;
        self.model.measure(cx, meter)?;
        self.attributes.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::Span> {
        Ok(wit::Span {
            id: self.id.copy(cx)?,
            parent_id: self.parent_id.copy(cx)?,
            name: self.name.copy(cx)?,
            kind: self.kind,
            status: self.status,
            status_message: self.status_message.copy(cx)?,
            input: self.input.copy(cx)?,
            output: self.output.copy(cx)?,
            model: self.model.copy(cx)?,
            start_time_ns: self.start_time_ns,
            end_time_ns: self.end_time_ns,
            usage: self.usage,
            cost_usd: self.cost_usd,
            attributes: self.attributes.copy(cx)?,
        })
    }
}

/// `types.trace-data`: 32 bytes, its strings, attributes and spans.
#[derive(ComponentType, Lift)]
#[component(record)]
struct TraceDataM {
    id: GuestStr,
    input: Option<GuestStr>,
    output: Option<GuestStr>,
    attributes: GuestList<AttributeM>,
    spans: GuestList<SpanM>,
}

impl InGuest for TraceDataM {
    type Owned = wit::TraceData;

    fn measure(&self, cx: &mut LiftContext<'_>, meter: &mut Meter) -> wasmtime::Result<()> {
        meter.add(32);
        self.id.measure(cx, meter)?;
        self.input.measure(cx, meter)?;
        self.output.measure(cx, meter)?;
        self.attributes.measure(cx, meter)?;
        self.spans.measure(cx, meter)
    }

    fn copy(&self, cx: &mut LiftContext<'_>) -> wasmtime::Result<wit::TraceData> {
        Ok(wit::TraceData {
            id: self.id.copy(cx)?,
            input: self.input.copy(cx)?,
            output: self.output.copy(cx)?,
            attributes: self.attributes.copy(cx)?,
            spans: self.spans.copy(cx)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::bindings::types as wit;
    use crate::{results, trace};

    /// How many times what the limit counts of a result the host's copy of it may take: the
    /// bindings' structures and the host's, both alive while one is converted into the other,
    /// are larger than the fixed part counted for each record (strings and bytes are copied
    /// once, as counted; vectors add 24 bytes each, one per text the host passed).
    const COPY_FACTOR: usize = 10;

    #[test]
    fn a_copy_takes_at_most_copy_factor_times_what_the_limit_counts() {
        // (record, fixed part counted, bytes of its structures on the host while copied)
        let records = [
            (
                "eval-result",
                32,
                size_of::<wit::EvalResult>() + size_of::<results::EvalResult>(),
            ),
            (
                "metric",
                16,
                size_of::<wit::Metric>() + size_of::<results::Metric>(),
            ),
            (
                "finding",
                16,
                size_of::<wit::Finding>() + size_of::<results::Finding>(),
            ),
            (
                "export-format",
                16,
                size_of::<crate::bindings::exporter::ExportFormat>()
                    + size_of::<results::ExportFormat>(),
            ),
            (
                "attribute",
                16,
                size_of::<wit::Attribute>() + size_of::<trace::Attribute>(),
            ),
            (
                "span",
                96,
                size_of::<wit::Span>() + size_of::<trace::Span>(),
            ),
            (
                "trace-data",
                32,
                size_of::<wit::TraceData>() + size_of::<trace::Trace>(),
            ),
        ];
        for (record, counted, host) in records {
            assert!(
                host <= COPY_FACTOR * counted,
                "{record}: {host} bytes on the host for {counted} counted"
            );
        }
    }
}
