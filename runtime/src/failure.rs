//! Guest failures told in the plugin's own terms: a Rust panic with its message and
//! location, a Python or JavaScript exception with its traceback, a stack overflow.
//!
//! The host learns them three ways:
//! - a Rust guest's panic message, which std's panic hook writes to stderr
//!   (`thread '...' panicked at src/lib.rs:20:57:` then the message): read off the guest's
//!   stderr as it is written (`PanicScanner`);
//! - a report the Python and TypeScript SDKs log when the plugin raises an exception they
//!   turn into the contract's `failed` error: one log line that starts with
//!   [`REPORT_MARKER`] followed by JSON (`Report`), kept off the plugin log;
//!   A TypeScript plugin's frames are positions in its bundle (`check@plugin.js:1805:9`):
//!   when the component carries the bundle's source map ([`SOURCE_MAP_SECTION`], written by
//!   the build), they are mapped back to the TypeScript sources (`src/index.ts:8:9 in check`);
//! - the trap itself: wasmtime's stack overflow, or an access just below address 0 of linear
//!   memory, where a Rust guest's stack (the first thing in its memory) runs out.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use wasm_encoder::Encode;
use wasmparser::{Parser, Payload};

/// The custom section of a component that holds the source map of its JavaScript bundle
/// (JSON, source map revision 3, `sources` relative to the plugin's directory).
pub const SOURCE_MAP_SECTION: &str = "flowtrace-source-map";

/// Most bytes of a source map read from a component.
const MAX_SOURCE_MAP: usize = 32 << 20;

/// The bundle's file name in a JavaScript stack frame.
const BUNDLE: &str = "plugin.js";

/// Where the SDK's own modules are, in a mapped frame.
const TS_SDK: &str = "@flowtrace/plugin-sdk/";

/// What a log line that reports a guest failure starts with (the rest is a JSON `Report`).
pub const REPORT_MARKER: &str = "\u{1e}flowtrace-failure ";

/// Most frames kept of a backtrace (the innermost ones).
const MAX_FRAMES: usize = 64;
/// Most bytes kept of a message, a location or a frame.
const MAX_TEXT: usize = 4096;
/// Longest `failed` message a report may pair with (the default output limit): a longer
/// report is dropped, and its error shown as the plugin gave it.
const MAX_SUMMARY: usize = 1 << 20;
/// Most reports one call keeps.
const MAX_REPORTS: usize = 64;
/// An access at or above this wasm address is a stack pointer that went below zero.
const WRAPPED_BELOW_ZERO: u64 = (1 << 32) - (16 << 20);

/// A plugin failure in the plugin's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuestFailure {
    /// What happened.
    pub kind: GuestFailureKind,
    /// The exception's type (`ValueError`, `TypeError`), for an exception.
    pub exception: Option<String>,
    /// The panic or exception message (empty when there is none).
    pub message: String,
    /// Where, in the plugin's sources: `src/lib.rs:20:57`, `app.py:12 in evaluate`,
    /// `src/index.ts:14:11 in check`.
    pub location: Option<String>,
    /// The frames, innermost first, as the guest or the host could name them.
    pub backtrace: Vec<String>,
}

/// The sort of a [`GuestFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuestFailureKind {
    /// A Rust panic.
    Panic,
    /// A Python or JavaScript exception the plugin did not catch.
    Exception,
    /// The guest ran out of stack (deep or unbounded recursion).
    StackOverflow,
}

impl fmt::Display for GuestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            GuestFailureKind::Panic => {
                f.write_str("panicked")?;
                if let Some(at) = &self.location {
                    write!(f, " at {at}")?;
                }
                write!(f, ": {}", self.message)
            }
            GuestFailureKind::Exception => {
                f.write_str("raised ")?;
                self.exception_and_place(f)
            }
            GuestFailureKind::StackOverflow => {
                f.write_str("overflowed its stack")?;
                if self.exception.is_some() || !self.message.is_empty() {
                    f.write_str(" (")?;
                    self.exception_and_place(f)?;
                    f.write_str(")")?;
                } else if let Some(at) = &self.location {
                    write!(f, " in {at}")?;
                }
                f.write_str(
                    "; is there a recursion without an end, or one as deep as the input? \
                     bound its depth or make it a loop",
                )
            }
        }
    }
}

impl GuestFailure {
    fn exception_and_place(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.exception, self.message.is_empty()) {
            (Some(e), true) => f.write_str(e)?,
            (Some(e), false) => write!(f, "{e}: {}", self.message)?,
            (None, _) => f.write_str(&self.message)?,
        }
        if let Some(at) = &self.location {
            write!(f, " (at {at})")?;
        }
        Ok(())
    }

    /// The backtrace as indented lines, innermost frame first; empty when there is none.
    pub fn backtrace_text(&self) -> String {
        let mut out = String::new();
        for (i, frame) in self.backtrace.iter().enumerate() {
            out.push_str(&format!("{i:>4}: {frame}\n"));
        }
        out
    }
}

/// The JSON an SDK logs after [`REPORT_MARKER`] when the plugin raised an exception.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Report {
    /// The `failed` message the SDK returns for it (how the host pairs the two).
    summary: String,
    exception: Option<String>,
    #[serde(default)]
    message: String,
    location: Option<String>,
    #[serde(default)]
    backtrace: Vec<String>,
    #[serde(default)]
    stack_overflow: bool,
}

/// The bytes of a [`SOURCE_MAP_SECTION`] custom section holding `map`, to append to a
/// component (after its last section).
pub fn source_map_section(map: &[u8]) -> Vec<u8> {
    let mut out = vec![0]; // custom section id, the same in components and core modules
    wasm_encoder::CustomSection {
        name: Cow::Borrowed(SOURCE_MAP_SECTION),
        data: Cow::Borrowed(map),
    }
    .encode(&mut out);
    out
}

/// A component's bundle source map, parsed on the first failure that needs it.
pub(crate) struct SourceMapper {
    raw: Vec<u8>,
    parsed: OnceLock<Option<sourcemap::SourceMap>>,
}

impl SourceMapper {
    /// The source map `raw` (a [`Preload`](crate::Preload)'s), if it is not too large.
    pub(crate) fn new(raw: Vec<u8>) -> Option<Self> {
        (raw.len() <= MAX_SOURCE_MAP).then(|| Self {
            raw,
            parsed: OnceLock::new(),
        })
    }

    /// The source map in `component`'s top-level [`SOURCE_MAP_SECTION`], if it has one.
    pub(crate) fn find(component: &[u8]) -> Option<Self> {
        let mut offset = 0;
        let mut parser = Parser::new(0);
        loop {
            let chunk = parser.parse(component.get(offset..)?, true).ok()?;
            let wasmparser::Chunk::Parsed { consumed, payload } = chunk else {
                return None;
            };
            offset += consumed;
            match payload {
                Payload::CustomSection(reader) if reader.name() == SOURCE_MAP_SECTION => {
                    let data = reader.data();
                    return (data.len() <= MAX_SOURCE_MAP)
                        .then(|| data.to_vec())
                        .and_then(Self::new);
                }
                Payload::ModuleSection {
                    unchecked_range, ..
                }
                | Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    // The parser leaves the nested module or component to its own parser:
                    // step over its bytes.
                    offset = unchecked_range.end;
                }
                Payload::End(_) => return None,
                _ => {}
            }
        }
    }

    /// [`find`](SourceMapper::find) in an open component file, reading only the top-level
    /// section headers and the source map: the nested modules (the megabytes of an
    /// interpreter) are skipped unread.
    pub(crate) fn find_in_file(file: &std::fs::File) -> Option<Self> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        let len = file.metadata().ok()?.len();
        file.seek(SeekFrom::Start(0)).ok()?;
        // `buf[start..]` holds the file from `pos + start` on.
        let (mut pos, mut start, mut buf) = (0u64, 0usize, Vec::new());
        let mut parser = Parser::new(0);
        loop {
            let eof = pos + buf.len() as u64 >= len;
            let (consumed, skip_to) = match parser.parse(&buf[start..], eof).ok()? {
                wasmparser::Chunk::NeedMoreData(hint) => {
                    if eof {
                        return None;
                    }
                    buf.drain(..start);
                    pos += start as u64;
                    start = 0;
                    let want = hint.max(4096);
                    if file.take(want).read_to_end(&mut buf).ok()? == 0 {
                        return None;
                    }
                    continue;
                }
                wasmparser::Chunk::Parsed { consumed, payload } => match payload {
                    Payload::CustomSection(reader) if reader.name() == SOURCE_MAP_SECTION => {
                        let data = reader.data();
                        return (data.len() <= MAX_SOURCE_MAP).then(|| Self {
                            raw: data.to_vec(),
                            parsed: OnceLock::new(),
                        });
                    }
                    Payload::ModuleSection {
                        unchecked_range, ..
                    }
                    | Payload::ComponentSection {
                        unchecked_range, ..
                    } => (consumed, Some(unchecked_range.end as u64)),
                    Payload::End(_) => return None,
                    _ => (consumed, None),
                },
            };
            match skip_to {
                // Step over the nested module or component without reading it.
                Some(end) => {
                    file.seek(SeekFrom::Start(end)).ok()?;
                    (pos, start) = (end, 0);
                    buf.clear();
                }
                None => start += consumed,
            }
        }
    }

    fn map(&self) -> Option<&sourcemap::SourceMap> {
        self.parsed
            .get_or_init(|| sourcemap::SourceMap::from_slice(&self.raw).ok())
            .as_ref()
    }

    /// `check@plugin.js:1805:9` -> `src/index.ts:8:9 in check`; `None` when the frame is not
    /// in the bundle or the map has no position for it.
    fn frame(&self, frame: &str) -> Option<String> {
        let (name, place) = frame.rsplit_once('@')?;
        let mut parts = place.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line: u32 = parts.next()?.parse().ok()?;
        if parts.next()? != BUNDLE {
            return None;
        }
        let token = self
            .map()?
            .lookup_token(line.checked_sub(1)?, column.checked_sub(1)?)?;
        let source = token.get_source()?;
        let at = format!(
            "{source}:{}:{}",
            token.get_src_line() + 1,
            token.get_src_col() + 1
        );
        Some(if name.is_empty() {
            at
        } else {
            format!("{at} in {name}")
        })
    }

    /// `frames` mapped to the sources, without the SDK's own frames (unless nothing else
    /// is left); `None` when none maps.
    fn frames(&self, frames: &[String]) -> Option<Vec<String>> {
        let mapped: Vec<String> = frames
            .iter()
            .map(|f| self.frame(f).unwrap_or_else(|| f.clone()))
            .collect();
        if mapped == frames {
            return None;
        }
        let own: Vec<String> = mapped
            .iter()
            .filter(|f| !f.starts_with(TS_SDK))
            .cloned()
            .collect();
        Some(if own.is_empty() { mapped } else { own })
    }
}

/// What one call learned of the guest's failures.
#[derive(Debug, Default)]
pub(crate) struct FailureNotes {
    /// The last panic read off stderr.
    panic: Option<Panic>,
    /// Reports logged by the SDK, each with the `failed` message it goes with.
    reports: Vec<(String, GuestFailure)>,
    /// Reading a panic's message: the lines after its header.
    reading: bool,
}

#[derive(Debug)]
struct Panic {
    location: Option<String>,
    message: String,
}

impl FailureNotes {
    /// Take in one line of the guest's stderr.
    pub(crate) fn stderr_line(&mut self, line: &str) {
        if let Some(location) = panic_header(line) {
            self.panic = Some(Panic {
                location: location.map(|l| cut(l.to_string())),
                message: String::new(),
            });
            self.reading = true;
            return;
        }
        if !self.reading {
            return;
        }
        let Some(panic) = self.panic.as_mut() else {
            return;
        };
        if line.starts_with("note: run with `RUST_BACKTRACE")
            || line.starts_with("stack backtrace:")
        {
            self.reading = false;
        } else if panic.message.len() < MAX_TEXT {
            if !panic.message.is_empty() {
                panic.message.push('\n');
            }
            panic.message.push_str(line);
            panic.message = cut(std::mem::take(&mut panic.message));
        }
    }

    /// Take in a log line; false when it is not a report (and so belongs in the log). A
    /// report's frames are mapped through `sources` when the component has a source map.
    pub(crate) fn log_line(&mut self, line: &str, sources: Option<&SourceMapper>) -> bool {
        let Some(json) = line.strip_prefix(REPORT_MARKER) else {
            return false;
        };
        let report = serde_json::from_str::<Report>(json).ok();
        if let Some(report) = report.filter(|r| r.summary.len() <= MAX_SUMMARY) {
            if self.reports.len() == MAX_REPORTS {
                self.reports.remove(0);
            }
            let mut backtrace = report.backtrace;
            let mut location = report.location;
            if let Some(mapped) = sources.and_then(|m| m.frames(&backtrace)) {
                location = mapped.first().cloned();
                backtrace = mapped;
            }
            let kind = if report.stack_overflow {
                GuestFailureKind::StackOverflow
            } else {
                GuestFailureKind::Exception
            };
            let failure = GuestFailure {
                kind,
                exception: report.exception.map(cut),
                message: cut(report.message),
                location: location.map(cut),
                backtrace: collapse(backtrace.into_iter().map(cut)),
            };
            self.reports.push((report.summary, failure));
        }
        // A malformed report is dropped too: it is not the plugin's log text.
        true
    }

    /// The report that goes with a `failed` error whose message is `summary`.
    pub(crate) fn take_report(&mut self, summary: &str) -> Option<GuestFailure> {
        let at = self.reports.iter().position(|(s, _)| s == summary)?;
        Some(self.reports.remove(at).1)
    }

    /// What a trap was, in the guest's terms, if the host can tell.
    pub(crate) fn of_trap(&self, err: &wasmtime::Error) -> Option<GuestFailure> {
        let mut backtrace = err
            .downcast_ref::<wasmtime::WasmBacktrace>()
            .map(frames)
            .unwrap_or_default();
        let trap = err.downcast_ref::<wasmtime::Trap>();
        let overflow = trap == Some(&wasmtime::Trap::StackOverflow)
            || (trap == Some(&wasmtime::Trap::MemoryOutOfBounds)
                && fault_address(err).is_some_and(|a| a >= WRAPPED_BELOW_ZERO));
        if overflow {
            return Some(GuestFailure {
                kind: GuestFailureKind::StackOverflow,
                exception: None,
                message: String::new(),
                location: backtrace.first().cloned(),
                backtrace,
            });
        }
        let Some(panic) = self.panic.as_ref() else {
            // An exception the SDK reported before the guest trapped on it.
            return self.reports.last().map(|(_, report)| report.clone());
        };
        // The panic machinery (std's hook, the abort) is not where the plugin went wrong.
        let machinery = backtrace
            .iter()
            .take_while(|f| is_panic_machinery(f))
            .count();
        if machinery < backtrace.len() {
            backtrace.drain(..machinery);
        }
        Some(GuestFailure {
            kind: GuestFailureKind::Panic,
            exception: None,
            message: panic.message.clone(),
            location: panic.location.clone(),
            backtrace,
        })
    }
}

/// `Some(location)` when `line` is std's panic header:
/// `thread '<unnamed>' (1) panicked at src/lib.rs:16:30:` (Rust 1.73 and later).
fn panic_header(line: &str) -> Option<Option<&str>> {
    let rest = line.strip_prefix("thread '")?;
    let (_, after) = rest.split_once("' ")?;
    let at = after.find("panicked at ")?;
    // Between the name and `panicked` there is at most the thread id, `(1) `.
    if at > 0 && !after[..at].trim_end().starts_with('(') {
        return None;
    }
    let location = after[at + "panicked at ".len()..].strip_suffix(':')?;
    Some((!location.is_empty()).then_some(location))
}

/// Whether a frame is Rust's panic machinery rather than the code that panicked.
fn is_panic_machinery(frame: &str) -> bool {
    frame == "abort"
        || ["std::", "core::panicking::", "__rustc::"]
            .iter()
            .any(|p| frame.starts_with(p))
}

/// The wasm address of a memory fault, from the trap's context.
fn fault_address(err: &wasmtime::Error) -> Option<u64> {
    err.chain().find_map(|cause| {
        let text = cause.to_string();
        let hex = text.strip_prefix("memory fault at wasm address 0x")?;
        let end = hex
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(hex.len());
        u64::from_str_radix(&hex[..end], 16).ok()
    })
}

/// A backtrace's frames, innermost first, each named by its demangled function (without
/// Rust's hashes) and, when the component carries DWARF and the engine reads it, its file and
/// line.
fn frames(trace: &wasmtime::WasmBacktrace) -> Vec<String> {
    let mut out = Vec::new();
    for frame in trace.frames() {
        let name = frame
            .func_name()
            .map(|n| format!("{:#}", rustc_demangle::demangle(n)))
            .unwrap_or_else(|| format!("<function {}>", frame.func_index()));
        let place = frame.symbols().first().and_then(|s| {
            let file = s.file()?;
            Some(match (s.line(), s.column()) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                (Some(l), None) => format!("{file}:{l}"),
                _ => file.to_string(),
            })
        });
        out.push(cut(match place {
            Some(place) => format!("{name} at {place}"),
            None => name,
        }));
    }
    collapse(out)
}

/// A recursion's repeated frames as one line each, then at most [`MAX_FRAMES`] lines.
fn collapse(frames: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut repeats = 0_usize;
    let mut total = 0_usize;
    let mut push = |out: &mut Vec<String>, line: String| {
        total += 1;
        if out.len() < MAX_FRAMES {
            out.push(line);
        }
    };
    let mut last: Option<String> = None;
    for frame in frames {
        if last.as_deref() == Some(frame.as_str()) {
            repeats += 1;
            continue;
        }
        if repeats > 0 {
            push(
                &mut out,
                format!("... the frame above {repeats} more times"),
            );
            repeats = 0;
        }
        push(&mut out, frame.clone());
        last = Some(frame);
    }
    if repeats > 0 {
        push(
            &mut out,
            format!("... the frame above {repeats} more times"),
        );
    }
    if total > out.len() {
        let more = total - out.len();
        out.push(format!("... {more} more frames"));
    }
    out
}

/// `text` cut to [`MAX_TEXT`] bytes at a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_headers_of_every_rust_since_1_73() {
        assert_eq!(
            panic_header("thread '<unnamed>' (1) panicked at src/lib.rs:16:30:"),
            Some(Some("src/lib.rs:16:30"))
        );
        assert_eq!(
            panic_header("thread 'main' panicked at src/lib.rs:1:2:"),
            Some(Some("src/lib.rs:1:2"))
        );
        assert_eq!(panic_header("thread 'main' said it panicked at x:"), None);
        assert_eq!(panic_header("panicked at src/lib.rs:1:2:"), None);
    }

    #[test]
    fn a_panic_message_is_every_line_up_to_the_note() {
        let mut notes = FailureNotes::default();
        for line in [
            "",
            "thread '<unnamed>' (1) panicked at src/lib.rs:16:30:",
            "first line",
            "second line",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "printed later",
        ] {
            notes.stderr_line(line);
        }
        let panic = notes.panic.unwrap();
        assert_eq!(panic.location.as_deref(), Some("src/lib.rs:16:30"));
        assert_eq!(panic.message, "first line\nsecond line");
    }

    #[test]
    fn reports_pair_with_their_summary_and_stay_off_the_log() {
        let mut notes = FailureNotes::default();
        assert!(!notes.log_line("an ordinary line", None));
        let line = format!(
            "{REPORT_MARKER}{}",
            r#"{"summary":"ValueError: x (at app.py:3, in f)","exception":"ValueError","message":"x","location":"app.py:3 in f","backtrace":["app.py:3 in f"]}"#
        );
        assert!(notes.log_line(&line, None));
        assert!(notes.log_line(&format!("{REPORT_MARKER}not json"), None));
        assert!(notes.take_report("another").is_none());
        let failure = notes
            .take_report("ValueError: x (at app.py:3, in f)")
            .unwrap();
        assert_eq!(
            failure.to_string(),
            "raised ValueError: x (at app.py:3 in f)"
        );
        assert!(notes
            .take_report("ValueError: x (at app.py:3, in f)")
            .is_none());
    }

    #[test]
    fn a_recursion_is_one_line_and_a_count() {
        let frames = ["a", "deep", "deep", "deep", "main"].map(String::from);
        assert_eq!(
            collapse(frames),
            ["a", "deep", "... the frame above 2 more times", "main"]
        );
        let many = (0..100).map(|i| format!("f{i}"));
        let out = collapse(many);
        assert_eq!(out.len(), MAX_FRAMES + 1);
        assert_eq!(out[MAX_FRAMES], "... 36 more frames");
    }

    #[test]
    fn bundle_frames_map_to_the_typescript_sources() {
        // One line of bundle, `check` at column 1 and `evaluate` at column 10 of line 1,
        // mapped to src/index.ts lines 8 and 15, and the SDK's bridge at line 2.
        let map = br#"{"version":3,"sources":["src/index.ts","@flowtrace/plugin-sdk/bridge.ts"],"names":[],"mappings":"AAOA,SAOA;ACPA"}"#;
        let component = {
            let mut c = wasm_encoder::Component::new().finish();
            c.extend(source_map_section(map));
            c
        };
        let mapper = SourceMapper::find(&component).expect("the section is found");
        assert_eq!(
            mapper.frame("check@plugin.js:1:1").as_deref(),
            Some("src/index.ts:8:1 in check")
        );
        assert_eq!(
            mapper.frame("evaluate@plugin.js:1:12").as_deref(),
            Some("src/index.ts:15:1 in evaluate")
        );
        assert_eq!(mapper.frame("f@other.js:1:1"), None);
        let frames = [
            "check@plugin.js:1:1",
            "settle@plugin.js:2:1",
            "evaluate@plugin.js:1:10",
        ]
        .map(String::from);
        assert_eq!(
            mapper.frames(&frames).unwrap(),
            ["src/index.ts:8:1 in check", "src/index.ts:15:1 in evaluate"]
        );
        assert!(SourceMapper::find(&wasm_encoder::Component::new().finish()).is_none());
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT);
        let cut = cut(long);
        assert!(cut.len() <= MAX_TEXT + 3 && cut.ends_with("..."));
    }
}
