//! One JSON document read as a stream: each `resourceSpans` entry of an OTLP/JSON export (and
//! each element of a top-level array) is parsed, converted and dropped before the next is
//! read, so the document's JSON tree is never held whole: the memory is the traces the
//! document holds, plus its largest `resourceSpans` entry.
//!
//! Spans of one trace may sit in several `resourceSpans` entries, so a trace is complete only
//! at the end of the document: the traces come out then, grouped by trace id as before.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::{Path, TraceError};
use super::formats::{TraceSet, ANY_FORMAT};
use super::model::Trace;

/// Limits on what a reader of trace files holds at once, counted in decompressed bytes (a
/// gzip file is checked as it inflates, so a small file that inflates to gigabytes costs no
/// more than the limit).
///
/// ```
/// use flowtrace_plugins::trace::{parse_traces_with, ReadOptions, TraceError};
///
/// let options = ReadOptions { max_document_bytes: 16, ..ReadOptions::default() };
/// let error = parse_traces_with(br#"{"resourceSpans": []}"#, &options).unwrap_err();
/// assert!(matches!(error, TraceError::DocumentTooLarge { limit: 16 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The longest line of JSON lines, in bytes (default [`ReadOptions::DEFAULT_MAX_BYTES`]):
    /// a longer one is an error about that line, skipped without being held, and reading
    /// goes on. (An exporter that writes a whole export on one line makes a line as large as
    /// the document.)
    pub max_line_bytes: u64,
    /// The largest JSON document (a trace, an array, an OTLP/JSON export that is not JSON
    /// lines) or decompressed input, in bytes (default [`ReadOptions::DEFAULT_MAX_BYTES`]).
    pub max_document_bytes: u64,
}

impl ReadOptions {
    /// The default cap on a line and on a document: 256 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_line_bytes: Self::DEFAULT_MAX_BYTES,
            max_document_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// Reads one JSON document from `reader` as a stream, one `resourceSpans` entry (or array
/// element) at a time, never as one JSON tree; spans of a trace spread over several entries
/// are merged, and the traces come out at the document's end. The document is a
/// Flowtrace trace, an array of them or of OTLP/JSON exports, or one OTLP/JSON export. At
/// most `options.max_document_bytes` are read; a larger document is
/// [`TraceError::DocumentTooLarge`]. A leading byte-order mark is skipped. For JSON lines,
/// use [`TraceReader`](super::TraceReader).
///
/// ```
/// use flowtrace_plugins::trace::{read_document, ReadOptions};
///
/// let doc = br#"[{"id": "a", "spans": []}, {"id": "b", "spans": []}]"#;
/// let traces = read_document(&doc[..], &ReadOptions::default()).unwrap();
/// assert_eq!(traces.len(), 2);
/// ```
pub fn read_document(
    reader: impl BufRead,
    options: &ReadOptions,
) -> Result<Vec<Trace>, TraceError> {
    let mut reader = reader;
    skip_blank_start(&mut reader)?;
    let over = Rc::new(Cell::new(false));
    let capped = Capped {
        inner: reader,
        left: options.max_document_bytes,
        over: over.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(capped);
    let limit = options.max_document_bytes;
    parse(&mut de).map_err(|error| match error {
        TraceError::InvalidJson { .. } | TraceError::Read { .. } if over.get() => {
            TraceError::DocumentTooLarge { limit }
        }
        other => other,
    })
}

/// [`read_document`] over bytes in memory (no cap: the caller holds them already).
pub(crate) fn parse_slice(bytes: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let mut traces = TraceSet::default();
    parse_slice_into(bytes, &mut traces)?;
    Ok(traces.finish())
}

/// [`parse_slice`], adding to `traces` (spans of a trace already there are merged in).
pub(crate) fn parse_slice_into(bytes: &[u8], traces: &mut TraceSet) -> Result<(), TraceError> {
    parse_into(&mut serde_json::Deserializer::from_slice(bytes), traces)
}

fn parse<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
) -> Result<Vec<Trace>, TraceError> {
    let mut traces = TraceSet::default();
    parse_into(de, &mut traces)?;
    Ok(traces.finish())
}

fn parse_into<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    traces: &mut TraceSet,
) -> Result<(), TraceError> {
    let mut state = State {
        traces,
        error: None,
    };
    let parsed = (Document { state: &mut state }).deserialize(&mut *de);
    // A conversion error is carried past serde, which only sees that something failed.
    if let Some(error) = state.error.take() {
        return Err(error);
    }
    parsed.and_then(|()| de.end()).map_err(|source| {
        if source.is_io() {
            TraceError::Read {
                line: source.line(),
                source: source.into(),
            }
        } else {
            TraceError::invalid_json(&source, 1)
        }
    })
}

/// Skip a byte-order mark and leading whitespace; an input with nothing else is
/// [`TraceError::Empty`].
fn skip_blank_start(reader: &mut impl BufRead) -> Result<(), TraceError> {
    let read_error = |source| TraceError::Read { line: 1, source };
    let head = reader.fill_buf().map_err(read_error)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    loop {
        let buf = reader.fill_buf().map_err(read_error)?;
        if buf.is_empty() {
            return Err(TraceError::Empty {
                expected: ANY_FORMAT,
            });
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let done = blank < buf.len();
        reader.consume(blank);
        if done {
            return Ok(());
        }
    }
}

/// A reader that fails once more than `left` bytes are asked of it.
struct Capped<R> {
    inner: R,
    left: u64,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // At the cap: over it only if there is more.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.over.set(true);
            return Err(std::io::Error::other("the document is over its size limit"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

struct State<'t> {
    traces: &'t mut TraceSet,
    error: Option<TraceError>,
}

impl State<'_> {
    /// Keep `error` for the caller, and give serde something to stop with.
    fn fail<E: de::Error>(&mut self, error: TraceError) -> E {
        let message = error.to_string();
        self.error = Some(error);
        E::custom(message)
    }
}

/// The whole document.
struct Document<'s, 't> {
    state: &'s mut State<'t>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Top {
            state: self.state,
            index: None,
        })
    }
}

/// The document's top value (`index: None`), or an element of a top-level array.
struct Top<'s, 't> {
    state: &'s mut State<'t>,
    index: Option<usize>,
}

impl Top<'_, '_> {
    fn add<E: de::Error>(self, value: &Value) -> Result<(), E> {
        let root = Path::Root;
        let (path, allow_array) = match &self.index {
            None => (root, true),
            Some(i) => (root.index(*i), false),
        };
        match self.state.traces.add(value, path, allow_array) {
            Ok(()) => Ok(()),
            Err(error) => Err(self.state.fail(error)),
        }
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ANY_FORMAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut others = Map::new();
        let mut streamed = false;
        let root = Path::Root;
        let export_path = match &self.index {
            None => root,
            Some(i) => root.index(*i),
        };
        let list_path = export_path.key("resourceSpans");
        while let Some(key) = map.next_key::<String>()? {
            if key != "resourceSpans" && key != "resource_spans" {
                let value = map.next_value::<Value>()?;
                others.insert(key, value);
                continue;
            }
            if streamed {
                let error = TraceError::DuplicateKey {
                    path: export_path.to_string(),
                    key,
                };
                return Err(self.state.fail(error));
            }
            streamed = true;
            map.next_value_seed(ResourceSpansList {
                state: self.state,
                path: list_path,
            })?;
        }
        if streamed {
            // The rest of an export (none is defined besides `resourceSpans`) is not read,
            // as in a line.
            return Ok(());
        }
        self.add(&Value::Object(others))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.index.is_some() {
            // An array in an array: the error the general path gives.
            let value: Vec<Value> =
                std::iter::from_fn(|| seq.next_element().transpose()).collect::<Result<_, _>>()?;
            return self.add(&Value::Array(value));
        }
        let mut i = 0;
        while seq
            .next_element_seed(TopSeed {
                state: &mut *self.state,
                index: i,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.add(&Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.add(&Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.add(&Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.add(&Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.add(&Value::from(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.add(&Value::Null)
    }
}

/// An element of a top-level array.
struct TopSeed<'s, 't> {
    state: &'s mut State<'t>,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Top {
            state: self.state,
            index: Some(self.index),
        })
    }
}

/// The value of `resourceSpans`: each entry converted as soon as it is read.
struct ResourceSpansList<'s, 't, 'p> {
    state: &'s mut State<'t>,
    path: Path<'p>,
}

impl<'de> DeserializeSeed<'de> for ResourceSpansList<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ResourceSpansList<'_, '_, '_> {
    fn wrong<E: de::Error>(self, found: &Value) -> E {
        let error = match found {
            Value::Null => TraceError::MissingField {
                path: self.path.to_string(),
            },
            other => TraceError::wrong_type(self.path, "an array", other),
        };
        self.state.fail(error)
    }
}

impl<'de> Visitor<'de> for ResourceSpansList<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of `resourceSpans`")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(entry) = seq.next_element::<Value>()? {
            let path = self.path.index(i);
            if let Err(error) = self.state.traces.add_resource_spans(&entry, path) {
                return Err(self.state.fail(error));
            }
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Err(self.wrong(&Value::Object(Map::new())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.wrong(&Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.wrong(&Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.wrong(&Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.wrong(&Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.wrong(&Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.wrong(&Value::Null))
    }
}
