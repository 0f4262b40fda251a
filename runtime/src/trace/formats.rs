//! Finding traces in bytes: format detection, whole documents, JSON lines, protobuf streams.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use serde_json::Value;

use super::error::{Path, TraceError};
use super::model::Trace;
use super::otlp::OtlpTraces;
use super::otlp_value::object;
use super::protobuf::{
    inflate, parse_protobuf_record, read_protobuf, unsupported_compression, Encoding, Framer,
};
use super::stream::{parse_slice, parse_slice_into, ReadOptions};

pub(crate) const ANY_FORMAT: &str = "a Flowtrace trace object (with `id` and `spans`), a JSON array or \
                          JSON lines of them, or an OTLP/JSON export (an object with `resourceSpans`)";
const OTLP_FORMAT: &str =
    "an OTLP/JSON export (an object with `resourceSpans`) or JSON lines of them";

/// Reads every trace in `bytes`, whatever the format, gzip-compressed or not; see the
/// [module docs](super). The same as [`parse_traces_with`] with the default [`ReadOptions`].
///
/// Spans of one trace spread over several OTLP exports (as a batching exporter writes them)
/// are merged into one trace. Any error fails the whole input; to skip bad lines of JSON
/// lines or bad protobuf records instead, use [`TraceReader`].
pub fn parse_traces(bytes: &[u8]) -> Result<Vec<Trace>, TraceError> {
    parse_traces_with(bytes, &ReadOptions::default())
}

/// [`parse_traces`] under `options`: gzip input inflates to at most
/// `max_document_bytes`, a JSON document holds at most that many bytes, and a line of JSON
/// lines at most `max_line_bytes`. A document is read as a stream of its `resourceSpans`
/// entries ([`read_document`](super::read_document)), never as one JSON tree.
pub fn parse_traces_with(bytes: &[u8], options: &ReadOptions) -> Result<Vec<Trace>, TraceError> {
    let inflated;
    let mut bytes = bytes;
    let mut encoding = Encoding::detect(bytes);
    if encoding == Encoding::Gzip {
        inflated = inflate(bytes, options.max_document_bytes)?;
        bytes = &inflated;
        encoding = match Encoding::detect(bytes) {
            Encoding::Gzip => return Err(unsupported_compression(Encoding::Gzip)),
            encoding => encoding,
        };
    }
    match encoding {
        Encoding::Json => {}
        Encoding::Protobuf(framing) => return read_protobuf(bytes, framing),
        other => return Err(unsupported_compression(other)),
    }
    if bytes.len() as u64 > options.max_document_bytes {
        return Err(TraceError::DocumentTooLarge {
            limit: options.max_document_bytes,
        });
    }
    let mut whole = None;
    let mut lines = TraceSet::default();
    read_document(
        bytes,
        ANY_FORMAT,
        options,
        |bytes| {
            whole = Some(parse_slice(bytes)?);
            Ok(())
        },
        |line| parse_slice_into(line, &mut lines),
    )?;
    Ok(whole.unwrap_or_else(|| lines.finish()))
}

/// Reads an OTLP/JSON export, or JSON lines of them (as the OpenTelemetry collector's file
/// exporter writes), grouping spans by trace id. See [`from_otlp_value`].
pub fn from_otlp_json(bytes: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let mut traces = OtlpTraces::default();
    let mut add = |value: &Value, path: Path<'_>| {
        if !is_otlp(value) {
            return Err(unknown_format(value, path, OTLP_FORMAT));
        }
        traces.add_export(value, path)
    };
    let mut whole = None;
    read_document(
        bytes,
        OTLP_FORMAT,
        &ReadOptions::default(),
        |bytes| {
            let value = serde_json::from_slice::<Value>(bytes)
                .map_err(|error| TraceError::invalid_json(&error, 1))?;
            whole = Some(value);
            Ok(())
        },
        |line| {
            let value = serde_json::from_slice::<Value>(line)
                .map_err(|error| TraceError::invalid_json(&error, 1))?;
            add(&value, Path::Root)
        },
    )?;
    if let Some(value) = whole {
        add(&value, Path::Root)?;
    }
    Ok(traces.finish())
}

/// Reads one parsed OTLP/JSON export (`{"resourceSpans": [...]}`). An export may hold several
/// traces: they come back in order of first appearance, each span's ids as lowercase hex.
pub fn from_otlp_value(export: &Value) -> Result<Vec<Trace>, TraceError> {
    if !is_otlp(export) {
        return Err(unknown_format(export, Path::Root, OTLP_FORMAT));
    }
    let mut traces = OtlpTraces::default();
    traces.add_export(export, Path::Root)?;
    Ok(traces.finish())
}

/// A streaming reader of JSON lines, each line a Flowtrace trace (or an array of them) or an
/// OTLP/JSON export, or of OTLP/protobuf records, gzip-compressed or not: one item per trace,
/// and one error per bad line or record, after which it goes on.
///
/// The encoding is told from the first bytes the reader holds ([`Encoding::detect`]), so
/// [`TraceReader::new`] waits for them. Memory stays flat in the number of traces: one line or
/// record is held at a time. So, unlike [`parse_traces`], a trace whose spans are split over
/// several OTLP lines or records comes back as one trace per line or record. Errors about a
/// record give its byte offset ([`TraceError::offset`]) instead of a line; after one that
/// loses the framing (a cut or oversized record), reading stops.
///
/// ```
/// use flowtrace_plugins::trace::TraceReader;
///
/// let lines = "{\"id\":\"a\",\"spans\":[]}\nnot json\n{\"id\":\"b\",\"spans\":[]}\n";
/// let results: Vec<_> = TraceReader::new(lines.as_bytes()).collect();
/// assert_eq!(results.len(), 3);
/// assert_eq!(results[1].as_ref().unwrap_err().line(), Some(2));
/// assert_eq!(results[2].as_ref().unwrap().id, "b");
/// ```
#[derive(Debug)]
pub struct TraceReader<R: BufRead> {
    reader: Source<R>,
    options: ReadOptions,
    mode: Mode,
    buffer: Vec<u8>,
    line: usize,
    pending: VecDeque<Trace>,
    failed: bool,
}

/// The input, decompressed.
#[derive(Debug)]
enum Source<R> {
    Plain(R),
    Gzip(BufReader<MultiGzDecoder<R>>),
}

#[derive(Debug)]
enum Mode {
    Lines,
    Protobuf(Framer),
    /// Nothing can be read: the error, reported once.
    Broken(Option<TraceError>),
}

impl<R: BufRead> TraceReader<R> {
    /// Reads traces from `reader`, once its first bytes have told the encoding, under the
    /// default [`ReadOptions`].
    pub fn new(reader: R) -> Self {
        Self::with_options(reader, ReadOptions::default())
    }

    /// Reads traces from `reader` under `options`: a line longer than
    /// `options.max_line_bytes` (counted decompressed) is an error about that line, skipped
    /// without being held, and reading goes on.
    pub fn with_options(mut reader: R, options: ReadOptions) -> Self {
        let (reader, mode) = match reader.fill_buf().map(Encoding::detect) {
            Ok(Encoding::Gzip) => {
                let mut reader = BufReader::new(MultiGzDecoder::new(reader));
                let mode = match reader.fill_buf().map(Encoding::detect) {
                    Ok(Encoding::Gzip) => Mode::broken(unsupported_compression(Encoding::Gzip)),
                    Ok(encoding) => Mode::of(encoding),
                    Err(source) => Mode::broken(TraceError::Decompress { source }),
                };
                (Source::Gzip(reader), mode)
            }
            Ok(encoding) => (Source::Plain(reader), Mode::of(encoding)),
            Err(source) => (
                Source::Plain(reader),
                Mode::broken(TraceError::Read { line: 1, source }),
            ),
        };
        TraceReader {
            reader,
            options,
            mode,
            buffer: Vec::new(),
            line: 0,
            pending: VecDeque::new(),
            failed: false,
        }
    }

    /// The number of the last line read, from 1 (0 before the first, and for protobuf).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        match self.reader {
            Source::Plain(reader) => reader,
            Source::Gzip(reader) => reader.into_inner().into_inner(),
        }
    }

    fn next_record(&mut self) -> Option<Result<Vec<Trace>, TraceError>> {
        let Mode::Protobuf(framer) = &mut self.mode else {
            return None;
        };
        Some(framer.next(&mut self.reader)?.and_then(|record| {
            parse_protobuf_record(&record.bytes).map_err(|error| TraceError::Record {
                offset: record.offset,
                source: Box::new(error),
            })
        }))
    }
}

impl Mode {
    fn of(encoding: Encoding) -> Mode {
        match encoding {
            Encoding::Json => Mode::Lines,
            Encoding::Protobuf(framing) => Mode::Protobuf(Framer::new(framing)),
            other => Mode::broken(unsupported_compression(other)),
        }
    }

    fn broken(error: TraceError) -> Mode {
        Mode::Broken(Some(error))
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(reader) => reader.read(buf),
            Source::Gzip(reader) => reader.read(buf),
        }
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Source::Plain(reader) => reader.fill_buf(),
            Source::Gzip(reader) => reader.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            Source::Plain(reader) => reader.consume(amount),
            Source::Gzip(reader) => reader.consume(amount),
        }
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<Trace, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        const KEEP_CAPACITY: usize = 1 << 20;
        loop {
            if let Some(trace) = self.pending.pop_front() {
                return Some(Ok(trace));
            }
            match &mut self.mode {
                Mode::Lines => {}
                Mode::Broken(error) => return error.take().map(Err),
                Mode::Protobuf(_) => match self.next_record()? {
                    Ok(traces) => {
                        self.pending.extend(traces);
                        continue;
                    }
                    Err(error) => return Some(Err(error)),
                },
            }
            if self.failed {
                return None;
            }
            if self.buffer.capacity() > KEEP_CAPACITY {
                self.buffer = Vec::new();
            }
            self.buffer.clear();
            match read_line(
                &mut self.reader,
                &mut self.buffer,
                self.options.max_line_bytes,
            ) {
                Ok(LineRead::End) => return None,
                Ok(LineRead::Line(_)) => self.line += 1,
                Ok(LineRead::TooLong(_)) => {
                    self.line += 1;
                    let limit = self.options.max_line_bytes;
                    return Some(Err(TraceError::Line {
                        line: self.line,
                        source: Box::new(TraceError::LineTooLong { limit }),
                    }));
                }
                Err(source) => {
                    // An I/O error may repeat forever: report it once and stop.
                    self.failed = true;
                    let line = self.line + 1;
                    return Some(Err(TraceError::Read { line, source }));
                }
            }
            let text = if self.line == 1 {
                strip_bom(&self.buffer)
            } else {
                &self.buffer
            };
            if is_blank(text) {
                continue;
            }
            match parse_line(text) {
                Ok(traces) => self.pending.extend(traces),
                Err(error) => {
                    let source = Box::new(error.starting_on_line(self.line));
                    return Some(Err(TraceError::Line {
                        line: self.line,
                        source,
                    }));
                }
            }
        }
    }
}

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// The input ended before another byte.
    End,
    /// A line of this many bytes (its line feed included, if it has one) is in the buffer.
    Line(usize),
    /// A line longer than the limit was skipped, to its line feed: this many bytes were
    /// consumed, and the buffer holds none of them.
    TooLong(u64),
}

/// Reads one line (up to and including a line feed, or to the end) into `buffer` (cleared
/// first), unless it is longer than `max` bytes without its line feed: then the rest of it
/// is consumed without being held ([`LineRead::TooLong`]), so a line of any length costs
/// `max` bytes at most. What [`TraceReader`] reads its lines with, for callers that read
/// lines themselves.
///
/// ```
/// use flowtrace_plugins::trace::{read_line, LineRead};
///
/// let mut input = &b"short\nmuch too long\nok"[..];
/// let mut buffer = Vec::new();
/// assert_eq!(read_line(&mut input, &mut buffer, 8).unwrap(), LineRead::Line(6));
/// assert_eq!(read_line(&mut input, &mut buffer, 8).unwrap(), LineRead::TooLong(14));
/// assert!(buffer.is_empty());
/// assert_eq!(read_line(&mut input, &mut buffer, 8).unwrap(), LineRead::Line(2));
/// assert_eq!(buffer, b"ok");
/// assert_eq!(read_line(&mut input, &mut buffer, 8).unwrap(), LineRead::End);
/// ```
pub fn read_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    max: u64,
) -> std::io::Result<LineRead> {
    buffer.clear();
    let mut consumed = 0u64;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (used, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let content = consumed + used as u64 - u64::from(ended);
        if !too_long && content > max {
            too_long = true;
            *buffer = Vec::new();
        }
        if !too_long {
            buffer.extend_from_slice(&available[..used]);
        }
        reader.consume(used);
        consumed += used as u64;
        if ended {
            break;
        }
    }
    Ok(match (consumed, too_long) {
        (0, _) => LineRead::End,
        (n, true) => LineRead::TooLong(n),
        (n, false) => LineRead::Line(n as usize),
    })
}

/// Reads one line of JSON lines the way [`TraceReader`] reads each of its lines: a Flowtrace
/// trace, an array of them, or an OTLP/JSON export (every trace in it, spans merged by trace
/// id). A blank line holds no traces; a leading byte-order mark is ignored.
///
/// For callers that split the lines themselves, e.g. to parse them on several threads. The
/// error says what is wrong with the line, not where: the caller knows its number.
///
/// ```
/// use flowtrace_plugins::trace::parse_json_line;
///
/// let traces = parse_json_line(br#"[{"id":"a","spans":[]},{"id":"b","spans":[]}]"#).unwrap();
/// assert_eq!(traces.len(), 2);
/// assert!(parse_json_line(b"  \n").unwrap().is_empty());
/// assert!(parse_json_line(b"{\"id\": ").is_err());
/// ```
pub fn parse_json_line(line: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let text = strip_bom(line);
    if is_blank(text) {
        return Ok(Vec::new());
    }
    parse_line(text)
}

fn parse_line(text: &[u8]) -> Result<Vec<Trace>, TraceError> {
    // Without its line end, a line cut short ends on its own line (`line 1, column 24`), not
    // at the start of the next.
    let text = text
        .strip_suffix(b"\n")
        .map_or(text, |t| t.strip_suffix(b"\r").unwrap_or(t));
    // A Flowtrace trace object goes straight into the model, without the `Value` in between
    // (most of the cost of a line). `id` is required and unknown fields are refused, so this
    // accepts only what the general path accepts, with the same result; anything else (an
    // OTLP export fails at its first key) and every error take the general path, which also
    // words the errors.
    if text.trim_ascii_start().first() == Some(&b'{') {
        if let Ok(trace) = serde_json::from_slice::<Trace>(text) {
            return Ok(vec![trace]);
        }
    }
    // An OTLP export is read as a stream of its `resourceSpans`: a line may be a whole
    // export of hundreds of megabytes.
    parse_slice(text)
}

/// A Flowtrace trace object as the model. Its `$schema` (the JSON Schema an editor checks it
/// against, [`JSON_SCHEMA`](super::JSON_SCHEMA)) is left out; an error names the field, as
/// a path inside the trace (`spans[1].attributes[0].value`).
fn flowtrace_trace(
    value: &Value,
    obj: &serde_json::Map<String, Value>,
    path: Path<'_>,
) -> Result<Trace, TraceError> {
    let invalid = |field: String, source| TraceError::InvalidFlowtrace {
        path: path.to_string(),
        field,
        source,
    };
    let without_schema;
    let value = match obj.get("$schema") {
        None => value,
        Some(Value::String(_)) => {
            let mut obj = obj.clone();
            obj.remove("$schema");
            without_schema = Value::Object(obj);
            &without_schema
        }
        Some(other) => {
            return Err(invalid(
                "$schema".to_string(),
                <serde_json::Error as serde::de::Error>::custom(format!(
                    "expected the schema's URL or path as a string, found {}",
                    super::error::describe(other)
                )),
            ))
        }
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        invalid(
            if field == "." { String::new() } else { field },
            e.into_inner(),
        )
    })
}

/// Traces in input order, Flowtrace ones as they are, OTLP ones merged by trace id.
#[derive(Default)]
pub(crate) struct TraceSet {
    slots: Vec<Slot>,
    otlp: OtlpTraces,
}

enum Slot {
    Flowtrace(Box<Trace>),
    Otlp(usize),
}

impl TraceSet {
    /// Adds one entry of an OTLP export's `resourceSpans`.
    pub(crate) fn add_resource_spans(
        &mut self,
        entry: &Value,
        path: Path<'_>,
    ) -> Result<(), TraceError> {
        let before = self.otlp.len();
        self.otlp.add_resource_spans(object(entry, path)?, path)?;
        self.slots.extend((before..self.otlp.len()).map(Slot::Otlp));
        Ok(())
    }

    pub(crate) fn add(
        &mut self,
        value: &Value,
        path: Path<'_>,
        allow_array: bool,
    ) -> Result<(), TraceError> {
        match value {
            Value::Object(_) if is_otlp(value) => {
                let before = self.otlp.len();
                self.otlp.add_export(value, path)?;
                self.slots.extend((before..self.otlp.len()).map(Slot::Otlp));
            }
            Value::Object(obj) if obj.contains_key("id") || obj.contains_key("spans") => {
                let trace = flowtrace_trace(value, obj, path)?;
                self.slots.push(Slot::Flowtrace(Box::new(trace)));
            }
            Value::Array(items) if allow_array => {
                for (i, item) in items.iter().enumerate() {
                    self.add(item, path.index(i), false)?;
                }
            }
            _ => return Err(unknown_format(value, path, ANY_FORMAT)),
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<Trace> {
        let mut otlp: Vec<Option<Trace>> = self.otlp.finish().into_iter().map(Some).collect();
        self.slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Flowtrace(trace) => Some(*trace),
                Slot::Otlp(index) => otlp.get_mut(index).and_then(Option::take),
            })
            .collect()
    }
}

/// Reads the document whole with `whole`, or, for JSON lines, each line with `add` (errors
/// then name the line). A document is JSON lines when it is not one JSON value
/// (`whole` fails with [`TraceError::InvalidJson`]) but its first or second non-blank line is
/// an object or array on its own (a pretty-printed document's lines never are, so its syntax
/// errors are reported as such). A line over `options.max_line_bytes` is an error.
fn read_document(
    bytes: &[u8],
    expected: &'static str,
    options: &ReadOptions,
    whole: impl FnOnce(&[u8]) -> Result<(), TraceError>,
    mut add: impl FnMut(&[u8]) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let bytes = strip_bom(bytes);
    if is_blank(bytes) {
        return Err(TraceError::Empty { expected });
    }
    let whole_error = match whole(bytes) {
        Ok(()) => return Ok(()),
        Err(error @ TraceError::InvalidJson { .. }) => error,
        Err(other) => return Err(other),
    };
    // A one-line document failed to parse above: parsing its line again would say the same.
    let multi_line = bytes.trim_ascii_end().contains(&b'\n');
    let looks_like_lines = multi_line
        && bytes
            .split(|&b| b == b'\n')
            .filter(|line| !is_blank(line))
            .take(2)
            .any(is_container);
    if !looks_like_lines {
        return Err(whole_error);
    }
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if is_blank(line) {
            continue;
        }
        let at_line = |error| TraceError::Line {
            line: index + 1,
            source: Box::new(error),
        };
        if line.len() as u64 > options.max_line_bytes {
            return Err(at_line(TraceError::LineTooLong {
                limit: options.max_line_bytes,
            }));
        }
        add(line).map_err(|error| at_line(error.starting_on_line(index + 1)))?;
    }
    Ok(())
}

/// Whether `line` is one JSON object or array, checked without building it (a line may be
/// a whole export).
pub(crate) fn is_container(line: &[u8]) -> bool {
    matches!(line.trim_ascii_start().first(), Some(b'{' | b'['))
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

fn is_otlp(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|obj| obj.contains_key("resourceSpans") || obj.contains_key("resource_spans"))
}

fn unknown_format(value: &Value, path: Path<'_>, expected: &'static str) -> TraceError {
    let found = match value {
        Value::Object(obj) if obj.contains_key("resourceLogs") => {
            "an OTLP logs export (`resourceLogs`)".to_owned()
        }
        Value::Object(obj) if obj.contains_key("resourceMetrics") => {
            "an OTLP metrics export (`resourceMetrics`)".to_owned()
        }
        Value::Object(obj) if obj.is_empty() => "an empty object".to_owned(),
        Value::Object(obj) => {
            let mut keys: Vec<String> = obj.keys().take(5).map(|k| format!("`{k}`")).collect();
            if obj.len() > keys.len() {
                keys.push("...".to_owned());
            }
            format!("an object with keys {}", keys.join(", "))
        }
        Value::Array(_) => "an array".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Null => "null".to_owned(),
    };
    TraceError::UnknownFormat {
        path: path.to_string(),
        expected,
        found,
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}
