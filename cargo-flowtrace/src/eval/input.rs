//! Reading trace files as a stream of work items, with memory flat in the number of traces.
//!
//! The encoding is told from the first bytes ([`Encoding::detect`], which keeps JSON text and
//! protobuf apart): OTLP/protobuf is cut into records ([`ProtobufRecords`], one bare message or
//! the collector's length-prefixed ones), one item per record, decoded by the workers
//! ([`parse_protobuf_record`]); a bad record is an error naming its byte offset, and the next
//! one is read, unless the framing is lost (a record cut short), which ends the file.
//!
//! JSON's layout is told from the content too ([`Layout::detect`]): a file whose first
//! non-blank line is a JSON object or array on its own is JSON lines (each line a Flowtrace
//! trace, an array of them, or an OTLP/JSON export), read one line at a time; the lines are
//! parsed by the workers ([`parse_json_line`]), so parsing runs on every core. Anything else
//! is one JSON document (a pretty-printed trace, array or OTLP/JSON export), read as a stream
//! of its `resourceSpans` entries or array elements ([`parse_document`]), never held whole.
//! A line or a document over its cap (`--max-trace-bytes`, counted decompressed) is an error
//! naming it; a long line is skipped without being held.
//!
//! A file that starts with the gzip magic is decompressed as it is read (`traces.jsonl.gz`,
//! several gzip members one after the other included); `-` is standard input, read once.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use flowtrace_plugins::diag::error_chain;
use flowtrace_plugins::trace::{
    parse_json_line, parse_protobuf_record, read_document as parse_document, read_line, Encoding,
    Framing, LineRead, ProtobufRecords, ReadOptions, Trace, TraceError,
};

use crate::error::ResultExt;

/// The name that reads standard input.
pub const STDIN: &str = "-";

/// One trace file, opened.
pub struct TraceFile {
    /// As the user wrote it, for messages and results (`<stdin>` for `-`).
    pub shown: String,
    /// Its path (`-` for standard input).
    pub path: PathBuf,
    /// Its size in bytes on disk (for the progress bar); `None` for standard input.
    pub size: Option<u64>,
    /// Whether it is gzip-compressed.
    pub gzip: bool,
    /// The decompressed content.
    source: Box<dyn Read + Send>,
    /// Bytes read from the file itself (compressed ones for gzip): the progress.
    consumed: Arc<AtomicU64>,
    /// The caps on a line and a document (`--max-trace-bytes`).
    options: ReadOptions,
}

impl std::fmt::Debug for TraceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFile")
            .field("shown", &self.shown)
            .field("size", &self.size)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn open_one(path: &PathBuf, options: ReadOptions) -> std::io::Result<TraceFile> {
    let consumed = Arc::new(AtomicU64::new(0));
    if path.as_os_str() == STDIN {
        let mut stdin = BufReader::new(std::io::stdin());
        let gzip = stdin.fill_buf()?.starts_with(&GZIP_MAGIC);
        return Ok(TraceFile {
            shown: "<stdin>".into(),
            path: path.clone(),
            size: None,
            gzip,
            source: decoded(stdin, gzip, &consumed),
            consumed,
            options,
        });
    }
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC;
    file.rewind()?;
    Ok(TraceFile {
        shown: path.display().to_string(),
        path: path.clone(),
        size: Some(meta.len()),
        gzip,
        source: decoded(file, gzip, &consumed),
        consumed,
        options,
    })
}

/// `raw`'s content, decompressed when `gzip`, with the bytes read from `raw` counted in
/// `consumed`.
fn decoded(
    raw: impl Read + Send + 'static,
    gzip: bool,
    consumed: &Arc<AtomicU64>,
) -> Box<dyn Read + Send> {
    let counted = Counting {
        inner: raw,
        count: consumed.clone(),
    };
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(counted)))
    } else {
        Box::new(counted)
    }
}

const FORMATS_HELP: &str =
    "pass files of traces: Flowtrace JSON, JSON lines, OTLP/JSON or OTLP/protobuf";

/// `--max-trace-bytes`, shared by the commands that read trace files.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReadArgs {
    /// Refuse a line of JSON lines, or a JSON document, of more than SIZE bytes once
    /// decompressed (`64MiB`, `2GiB`, or bytes): each is an error in the results, a long line
    /// is skipped without being held, and the run goes on [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_trace_bytes)]
    pub max_trace_bytes: Option<u64>,
}

impl ReadArgs {
    /// The reader's options these flags ask for.
    pub fn options(&self) -> ReadOptions {
        let mut read = ReadOptions::default();
        if let Some(bytes) = self.max_trace_bytes {
            read.max_line_bytes = bytes;
            read.max_document_bytes = bytes;
        }
        read
    }
}

/// `--max-trace-bytes`: a size as the manifest's limits write it.
fn parse_trace_bytes(text: &str) -> Result<u64, String> {
    flowtrace_plugins::manifest::parse_size(text)
}

/// Open every file before anything runs, so a typo fails the command at once; every file
/// that cannot be opened is named. `-` is standard input, at most once. Each is read under
/// `options`.
pub fn open_all(paths: &[PathBuf], options: ReadOptions) -> Result<Vec<TraceFile>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    if paths.iter().filter(|p| p.as_os_str() == STDIN).count() > 1 {
        return Err(anyhow!("standard input (`-`) is named more than once"))
            .help("pass `-` once: standard input can be read only once");
    }
    for path in paths {
        match open_one(path, options) {
            Ok(file) => files.push(file),
            Err(e) => problems.push(format!("`{}`: {e}", path.display())),
        }
    }
    match problems.len() {
        0 => Ok(files),
        1 => Err(anyhow!("failed to open trace file {}", problems[0])).help(FORMATS_HELP),
        n => Err(anyhow!(
            "failed to open {n} trace files:\n  {}",
            problems.join("\n  ")
        ))
        .help(FORMATS_HELP),
    }
}

/// What a work item holds.
#[derive(Debug)]
pub enum Payload {
    /// One line of JSON lines, not parsed yet: it may hold several traces.
    Line(Vec<u8>),
    /// One OTLP/protobuf record, not decoded yet, and its byte offset in the (decompressed)
    /// file.
    Record {
        /// Where the record starts, from 0.
        offset: u64,
        /// The `ExportTraceServiceRequest`'s bytes.
        bytes: Vec<u8>,
    },
    /// One trace of a whole document.
    Trace(Box<Trace>),
    /// One line of a text file ([`Reading::Texts`]), without its line ending; not checked
    /// for UTF-8 yet.
    Text(Vec<u8>),
    /// The input could not be read here: the error, for the results.
    Unreadable(String),
}

/// One work item: a line or a trace, and where it came from.
#[derive(Debug)]
pub struct Item {
    /// Index of the file in the command line's list.
    pub file: usize,
    /// Line number (from 1) for JSON lines and for errors that know theirs.
    pub line: Option<usize>,
    /// Bytes of all input read up to the end of this item (progress).
    pub progress: u64,
    /// What to evaluate.
    pub payload: Payload,
}

/// What the files hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Traces, in any of the formats, told from the content.
    Traces,
    /// Texts, one per line (an embedder's input); blank lines are skipped.
    Texts,
}

/// How a file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// JSON lines: one value per line.
    Lines,
    /// One JSON document.
    Document,
}

impl Layout {
    /// JSON lines when the first non-blank line is an object or an array on its own, or when
    /// it is not, the second is, and the first does not open a document (it does not end
    /// with `{`, `[` or `,`): a JSON lines file whose first line is broken. A document
    /// otherwise.
    pub fn detect<'a>(first_lines: impl IntoIterator<Item = &'a [u8]>) -> Layout {
        // Checked without building the value: one line may be a whole export.
        let is_value = |l: &[u8]| {
            matches!(l.trim_ascii_start().first(), Some(b'{' | b'['))
                && serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok()
        };
        let mut lines = first_lines
            .into_iter()
            .map(|l| l.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(l))
            .filter(|l| !is_blank(l));
        let Some(first) = lines.next() else {
            return Layout::Document;
        };
        if is_value(first) {
            return Layout::Lines;
        }
        let opens_document = matches!(first.trim_ascii().last(), Some(b'{' | b'[' | b','));
        match lines.next() {
            Some(second) if !opens_document && is_value(second) => Layout::Lines,
            _ => Layout::Document,
        }
    }
}

/// Read `file` (the `index`-th) as `reading` says, giving each item to `send`, which returns
/// `false` to stop (the run was cancelled). `offset` is the bytes of the files before this
/// one. Returns the bytes read.
pub fn read(
    index: usize,
    file: TraceFile,
    reading: Reading,
    offset: u64,
    send: &mut dyn FnMut(Item) -> bool,
) -> u64 {
    let consumed = file.consumed.clone();
    let options = file.options;
    let progress = move || offset + consumed.load(Ordering::Relaxed);
    let mut reader = BufReader::with_capacity(1 << 16, file.source);
    if reading == Reading::Texts {
        read_lines(
            index,
            &mut reader,
            options,
            None,
            &progress,
            &mut |mut item| {
                if let Payload::Line(line) = item.payload {
                    item.payload = Payload::Text(without_line_ending(line));
                }
                send(item)
            },
        );
        return progress() - offset;
    }
    // The first bytes decide the encoding; they are kept to be read again.
    let mut start = Vec::new();
    if let Err(e) = (&mut reader)
        .take(Encoding::HEAD_BYTES as u64)
        .read_to_end(&mut start)
    {
        send(read_failure(index, progress(), &e));
        return progress() - offset;
    }
    let encoding = Encoding::detect(&start);
    let mut reader = Cursor::new(start).chain(reader);
    if let Encoding::Protobuf(framing) = encoding {
        read_records(index, &mut reader, framing, &progress, send);
        return progress() - offset;
    }
    // The first two non-blank lines decide the layout; they are kept to be read again.
    let mut head = Vec::new();
    let mut bounds = Vec::new();
    let mut line = Vec::new();
    // A line over the cap among the first ones: its number (it was skipped).
    let mut long_line = None;
    let mut lines_read = 0;
    while bounds.len() < 2 {
        let start = head.len();
        match read_line(&mut reader, &mut line, options.max_line_bytes) {
            Ok(LineRead::End) => break,
            Ok(LineRead::Line(_)) => {
                lines_read += 1;
                head.extend_from_slice(&line);
                if !is_blank(&head[start..]) {
                    bounds.push(start..head.len());
                }
            }
            Ok(LineRead::TooLong(_)) => {
                long_line = Some(lines_read + 1);
                break;
            }
            Err(e) => {
                send(read_failure(index, progress(), &e));
                return progress() - offset;
            }
        }
    }
    let layout = match (&long_line, bounds.is_empty()) {
        // Too long for a line or, the caps being equal, for a document.
        (Some(_), true) => Layout::Lines,
        _ => Layout::detect(bounds.iter().map(|r| &head[r.clone()])),
    };
    let mut source = Cursor::new(head).chain(reader);
    match (layout, long_line) {
        (Layout::Lines, _) => read_lines(index, &mut source, options, long_line, &progress, send),
        (Layout::Document, None) => read_document(index, &mut source, options, &progress, send),
        (Layout::Document, Some(_)) => {
            let limit = options.max_document_bytes;
            send(Item {
                file: index,
                line: None,
                progress: progress(),
                payload: Payload::Unreadable(too_large(&TraceError::DocumentTooLarge { limit })),
            });
        }
    }
    progress() - offset
}

/// The item of a file that could not be read from its start.
fn read_failure(index: usize, progress: u64, error: &std::io::Error) -> Item {
    Item {
        file: index,
        line: None,
        progress,
        payload: Payload::Unreadable(format!("failed to read the file: {error}")),
    }
}

/// `skipped` is the number of a line over the cap that was read (and skipped) already.
fn read_lines(
    index: usize,
    source: &mut impl BufRead,
    options: ReadOptions,
    skipped: Option<usize>,
    progress: &dyn Fn() -> u64,
    send: &mut dyn FnMut(Item) -> bool,
) {
    let mut line = 0usize;
    // Each line moves to a worker in its own buffer; sizing it like the last one saves the
    // reallocations of growing it (lines of one file tend to be alike).
    let mut capacity = 0usize;
    loop {
        let mut buffer = Vec::with_capacity(capacity.min(1 << 20));
        let read = if skipped == Some(line + 1) {
            Ok(LineRead::TooLong(0))
        } else {
            read_line(source, &mut buffer, options.max_line_bytes)
        };
        match read {
            Ok(LineRead::End) => return,
            Ok(LineRead::Line(n)) => {
                line += 1;
                capacity = n + n / 8;
            }
            Ok(LineRead::TooLong(_)) => {
                line += 1;
                let limit = options.max_line_bytes;
                let item = Item {
                    file: index,
                    line: Some(line),
                    progress: progress(),
                    payload: Payload::Unreadable(too_large(&TraceError::LineTooLong { limit })),
                };
                if !send(item) {
                    return;
                }
                continue;
            }
            Err(e) => {
                // An I/O error may repeat forever: report it once and stop reading the file.
                send(Item {
                    file: index,
                    line: Some(line + 1),
                    progress: progress(),
                    payload: Payload::Unreadable(format!("failed to read the file: {e}")),
                });
                return;
            }
        }
        if is_blank(&buffer) {
            continue;
        }
        let item = Item {
            file: index,
            line: Some(line),
            progress: progress(),
            payload: Payload::Line(buffer),
        };
        if !send(item) {
            return;
        }
    }
}

fn read_records(
    index: usize,
    source: &mut impl Read,
    framing: Framing,
    progress: &dyn Fn() -> u64,
    send: &mut dyn FnMut(Item) -> bool,
) {
    for record in ProtobufRecords::new(source, framing) {
        let payload = match record {
            Ok(record) => Payload::Record {
                offset: record.offset,
                bytes: record.bytes,
            },
            Err(e) => Payload::Unreadable(error_chain(&e)),
        };
        let item = Item {
            file: index,
            line: None,
            progress: progress(),
            payload,
        };
        if !send(item) {
            return;
        }
    }
}

fn read_document(
    index: usize,
    source: &mut impl Read,
    options: ReadOptions,
    progress: &dyn Fn() -> u64,
    send: &mut dyn FnMut(Item) -> bool,
) {
    let traces = match parse_document(BufReader::new(source), &options) {
        Ok(traces) => traces,
        Err(e) => {
            let line = e.line().or_else(|| match &e {
                TraceError::InvalidJson { line, .. } => Some(*line),
                _ => None,
            });
            send(Item {
                file: index,
                line,
                progress: progress(),
                payload: Payload::Unreadable(too_large(&e)),
            });
            return;
        }
    };
    for trace in traces {
        let item = Item {
            file: index,
            line: None,
            progress: progress(),
            payload: Payload::Trace(Box::new(trace)),
        };
        if !send(item) {
            return;
        }
    }
}

/// The error's chain, and for a line or document over its cap the flag that raises it.
fn too_large(error: &TraceError) -> String {
    let chain = error_chain(error);
    match error {
        TraceError::LineTooLong { .. } => {
            format!("{chain}; raise the limit with `--max-trace-bytes`")
        }
        TraceError::DocumentTooLarge { .. } => {
            format!("{chain}, or raise the limit with `--max-trace-bytes`")
        }
        _ => chain,
    }
}

/// The traces of one item, or why there are none.
pub fn traces_of(payload: Payload) -> Result<Vec<Trace>, String> {
    match payload {
        // The parser counts lines within the line: its `line 1` would contradict the line
        // number the record gives.
        Payload::Line(bytes) => parse_json_line(&bytes).map_err(|e| {
            error_chain(&e).replace("not JSON at line 1, column ", "not JSON at column ")
        }),
        Payload::Record { offset, bytes } => parse_protobuf_record(&bytes).map_err(|e| {
            let source = Box::new(e);
            error_chain(&TraceError::Record { offset, source })
        }),
        Payload::Trace(trace) => Ok(vec![*trace]),
        Payload::Unreadable(error) => Err(error),
        Payload::Text(_) => Err("a line of text, not a trace".into()),
    }
}

/// `line` without its `\n` or `\r\n`.
fn without_line_ending(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    line
}

/// The text of an item of [`Reading::Texts`], or why there is none.
pub fn text_of(payload: Payload) -> Result<String, String> {
    match payload {
        Payload::Text(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "the line is not UTF-8 text (invalid byte at column {})",
                e.utf8_error().valid_up_to() + 1
            )
        }),
        Payload::Unreadable(error) => Err(error),
        _ => Err("not a line of text".into()),
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_the_first_two_lines() {
        let lines = |text: &'static str| Layout::detect(text.lines().map(str::as_bytes));
        assert_eq!(
            lines("{\"id\":\"a\",\"spans\":[]}\n{\"id\":\"b\"}"),
            Layout::Lines
        );
        assert_eq!(
            lines("not json\n{\"id\":\"b\",\"spans\":[]}"),
            Layout::Lines
        );
        assert_eq!(
            lines("{\n  \"id\": \"a\",\n  \"spans\": []\n}"),
            Layout::Document
        );
        assert_eq!(lines("[\n{\"id\":\"a\",\"spans\":[]}\n]"), Layout::Document);
        assert_eq!(
            lines("{\"resourceSpans\": [\n{\"resource\": {}, \"scopeSpans\": []}\n]}"),
            Layout::Document
        );
        assert_eq!(lines("\u{feff}{\"resourceSpans\":[]}"), Layout::Lines);
        assert_eq!(lines(""), Layout::Document);
    }

    fn items(text: &str) -> Vec<Item> {
        items_as(text.as_bytes(), Reading::Traces)
    }

    fn items_as(bytes: &[u8], reading: Reading) -> Vec<Item> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        std::fs::write(&path, bytes).unwrap();
        let file = open_all(std::slice::from_ref(&path), ReadOptions::default())
            .unwrap()
            .remove(0);
        let mut out = Vec::new();
        read(0, file, reading, 0, &mut |item| {
            out.push(item);
            true
        });
        out
    }

    #[test]
    fn texts_come_one_per_non_blank_line_without_the_line_ending() {
        // Even a line that looks like a trace, or a file that looks like protobuf, is text.
        let got = items_as(b"{\"id\":\"a\"}\r\n\n  \nbad \xff\nlast", Reading::Texts);
        let lines: Vec<_> = got.iter().map(|i| i.line).collect();
        assert_eq!(lines, [Some(1), Some(4), Some(5)]);
        let texts: Vec<_> = got.into_iter().map(|i| text_of(i.payload)).collect();
        assert_eq!(texts[0].as_deref(), Ok("{\"id\":\"a\"}"));
        assert_eq!(
            texts[1].as_ref().unwrap_err(),
            "the line is not UTF-8 text (invalid byte at column 5)"
        );
        assert_eq!(texts[2].as_deref(), Ok("last"));
    }

    #[test]
    fn json_lines_come_one_item_per_non_blank_line_with_its_number() {
        let text = "{\"id\":\"a\",\"spans\":[]}\n\n{broken\n{\"id\":\"c\",\"spans\":[]}\n";
        let got = items(text);
        let lines: Vec<_> = got.iter().map(|i| i.line).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(4)]);
        assert_eq!(got.last().unwrap().progress, text.len() as u64);
        let parsed: Vec<_> = got.into_iter().map(|i| traces_of(i.payload)).collect();
        assert_eq!(parsed[0].as_ref().unwrap()[0].id, "a");
        assert_eq!(
            parsed[1].as_ref().unwrap_err(),
            "not JSON at column 2: an object's keys are strings in double quotes"
        );
        assert_eq!(parsed[2].as_ref().unwrap()[0].id, "c");
    }

    #[test]
    fn a_document_is_parsed_whole_and_a_broken_one_is_one_error() {
        let got = items("[\n {\"id\":\"a\",\"spans\":[]},\n {\"id\":\"b\",\"spans\":[]}\n]\n");
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|i| i.line.is_none()));
        let got = items("{\n \"id\": \"a\",\n");
        assert_eq!(got.len(), 1);
        let Payload::Unreadable(error) = &got[0].payload else {
            panic!("{:?}", got[0]);
        };
        assert_eq!(
            error,
            "not JSON at line 3, column 1: the text ends where a value should be"
        );
    }

    #[test]
    fn missing_files_are_all_named() {
        let error = open_all(
            &[PathBuf::from("nope-1.jsonl"), PathBuf::from("nope-2.jsonl")],
            ReadOptions::default(),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("failed to open 2 trace files:"), "{text}");
        assert!(
            text.contains("`nope-1.jsonl`") && text.contains("`nope-2.jsonl`"),
            "{text}"
        );
    }
}
