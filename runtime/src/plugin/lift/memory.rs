//! Strings and lists where they lie in guest memory: bounds-checked when lifted, measured
//! without a copy, copied on demand.

use std::marker::PhantomData;

use wasmtime::component::__internal::wasmtime_environ::component::StringEncoding;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift, WasmList, WasmStr};
use wasmtime::ValRaw;

use super::{InGuest, Meter};

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
pub(super) struct GuestStr {
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

/// A list in guest memory: in bounds, its items lifted one at a time when read.
pub(super) struct GuestList<T> {
    ptr: usize,
    pub(super) len: usize,
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
    pub(super) fn get(&self, cx: &mut LiftContext<'_>, i: usize) -> wasmtime::Result<T> {
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
