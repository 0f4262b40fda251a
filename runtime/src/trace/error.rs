//! Errors from reading traces, and the JSON paths they name.

use std::fmt;

use serde_json::Value;

/// An error reading traces: what is wrong, and where (a line of JSON lines, the byte offset of
/// a protobuf record, a JSON path).
///
/// Errors about one line of JSON lines are a [`TraceError::Line`], and errors about one record
/// of OTLP/protobuf a [`TraceError::Record`], whose source says what is wrong there, so a
/// reader can report the place and go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The input holds nothing but whitespace.
    #[error("input is empty: expected {expected}")]
    Empty {
        /// What was expected instead.
        expected: &'static str,
    },

    /// The input (or one line of it) is not JSON: where, and what is wrong in plain words
    /// (see [`TraceError::invalid_json`]).
    #[error("not JSON at line {line}, column {column}: {problem}")]
    InvalidJson {
        /// The line of the input, from 1.
        line: usize,
        /// The column in that line, from 1, counted in bytes as the parser counts.
        column: usize,
        /// What is wrong, in plain words.
        problem: String,
    },

    /// JSON that is none of the accepted formats.
    #[error("{} is not a trace: expected {expected}, found {found}", place(.path))]
    UnknownFormat {
        /// JSON path of the value (empty for the whole input).
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },

    /// An object that looks like a Flowtrace trace but does not match the model.
    #[error(
        "{} is not a valid flowtrace trace{}",
        place(.path),
        if .field.is_empty() { String::new() } else { format!(": at `{}`", .field) }
    )]
    InvalidFlowtrace {
        /// JSON path of the trace object (empty for the whole input).
        path: String,
        /// The field in the trace that is wrong, as a path inside it
        /// (`spans[1].attributes[0].value`); empty for the trace object itself.
        field: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },

    /// A field OTLP requires is absent or empty.
    #[error("missing required field `{path}`")]
    MissingField {
        /// JSON path of the missing field.
        path: String,
    },

    /// A trace or span id that is neither hex nor base64 of the right length.
    #[error("invalid id {value} at `{path}`: {reason}")]
    InvalidId {
        /// JSON path of the id.
        path: String,
        /// The id as found (shortened when long).
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A time or count that is not an integer in range.
    #[error("`{path}` is not an integer: expected {expected}, found {found}")]
    InvalidInteger {
        /// JSON path of the value.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },

    /// A value of the wrong JSON type.
    #[error("`{path}` has the wrong type: expected {expected}, found {found}")]
    WrongType {
        /// JSON path of the value.
        path: String,
        /// The JSON type expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },

    /// An enum (span kind, status code) with an unknown value.
    #[error("unknown value {found} at `{path}`: expected {expected}")]
    UnknownEnum {
        /// JSON path of the value.
        path: String,
        /// The accepted values.
        expected: &'static str,
        /// What was found.
        found: String,
    },

    /// One line of JSON lines is not a valid trace.
    #[error("invalid trace on line {line}")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with that line.
        #[source]
        source: Box<TraceError>,
    },

    /// One record of OTLP/protobuf (the whole input, when it is one bare message) is not a
    /// valid trace export; `offset` is where the record starts (its length prefix, if any),
    /// counted in decompressed bytes for compressed input.
    #[error("invalid OTLP/protobuf record at byte {offset}")]
    Record {
        /// The record's byte offset in the input, from 0.
        offset: u64,
        /// What is wrong with the record.
        #[source]
        source: Box<TraceError>,
    },

    /// Bytes that do not decode as an OTLP `ExportTraceServiceRequest`.
    #[error("the bytes are not an OTLP trace export (`ExportTraceServiceRequest`)")]
    InvalidProtobuf {
        /// The protobuf decoder's error.
        #[source]
        source: prost::DecodeError,
    },

    /// The input ends inside a length prefix or a record.
    #[error("the input is cut short: {what} needs {needed} bytes, but only {available} remain")]
    Truncated {
        /// What was being read: a length prefix, a record.
        what: &'static str,
        /// The bytes it needs.
        needed: u64,
        /// The bytes left in the input.
        available: u64,
    },

    /// A length prefix giving more bytes than one record may hold.
    #[error(
        "the length prefix gives {length} bytes, more than the {limit}-byte limit for a record"
    )]
    RecordTooLarge {
        /// The length the prefix gives.
        length: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// A bare protobuf message, or decompressed input, larger than the reader accepts.
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },

    /// A JSON document (or decompressed input) larger than the reader's limit
    /// ([`ReadOptions::max_document_bytes`](super::ReadOptions)). A JSON document is parsed
    /// whole; JSON lines are read one line at a time.
    #[error(
        "the input is larger than the {limit}-byte limit for one document (counted \
         decompressed): split it into JSON lines, one OTLP/JSON export or trace per line, \
         which are read one line at a time"
    )]
    DocumentTooLarge {
        /// The limit in bytes.
        limit: u64,
    },

    /// A line of JSON lines longer than the reader's limit
    /// ([`ReadOptions::max_line_bytes`](super::ReadOptions)), counted decompressed; it is
    /// skipped without being held.
    #[error("the line is longer than the {limit}-byte limit for a line (counted decompressed)")]
    LineTooLong {
        /// The limit in bytes.
        limit: u64,
    },

    /// An OTLP/JSON export that names `resourceSpans` twice.
    #[error("{} has `{key}` more than once", place(.path))]
    DuplicateKey {
        /// JSON path of the export (empty for the whole input).
        path: String,
        /// The key.
        key: String,
    },

    /// Compressed input that cannot be decompressed, or is compressed in a way not read.
    #[error("failed to decompress the input")]
    Decompress {
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// Reading the protobuf input failed.
    #[error("failed to read the input at byte {offset}")]
    ReadAt {
        /// Where reading stopped, from 0.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Reading the input failed.
    #[error("failed to read line {line}")]
    Read {
        /// The line being read, from 1.
        line: usize,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl TraceError {
    /// The JSON parser's `error` as a [`TraceError::InvalidJson`], its line counted from
    /// `first_line` (the line of the input where the parsed text starts, from 1).
    pub fn invalid_json(error: &serde_json::Error, first_line: usize) -> Self {
        TraceError::InvalidJson {
            line: first_line + error.line().max(1) - 1,
            column: error.column().max(1),
            problem: json_problem(error),
        }
    }

    /// This error of a text that starts on line `first_line` of the input (one line of JSON
    /// lines, parsed alone): a syntax error's line counted in the input.
    pub(crate) fn starting_on_line(self, first_line: usize) -> Self {
        match self {
            TraceError::InvalidJson {
                line,
                column,
                problem,
            } => TraceError::InvalidJson {
                line: line + first_line - 1,
                column,
                problem,
            },
            other => other,
        }
    }

    /// The line of JSON lines this error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TraceError::Line { line, .. } | TraceError::Read { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The byte offset of the OTLP/protobuf record this error is about, if it is about one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TraceError::Record { offset, .. } | TraceError::ReadAt { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    pub(crate) fn wrong_type(path: Path<'_>, expected: &'static str, found: &Value) -> Self {
        TraceError::WrongType {
            path: path.to_string(),
            expected,
            found: describe(found),
        }
    }
}

/// What serde_json's syntax error means, in words a person who did not write a JSON parser
/// reads (its own are terse: `expected ident`, `trailing characters`).
fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let code = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    let words = match code {
        "expected ident" => {
            "a bare word: outside strings, JSON has only `true`, `false` and `null`"
        }
        "expected value" => {
            "expected a value here (an object, array, string in double quotes, number, `true`, \
             `false` or `null`)"
        }
        "EOF while parsing a value" => "the text ends where a value should be",
        "EOF while parsing a list" => "the text ends inside an array: a `]` is missing",
        "EOF while parsing an object" => "the text ends inside an object: a `}` is missing",
        "EOF while parsing a string" => "the text ends inside a string: a `\"` is missing",
        "expected `:`" => "expected `:` after the key of an object member",
        "expected `,` or `]`" => "expected `,` or `]` after an element of an array",
        "expected `,` or `}`" => "expected `,` or `}` after a member of an object",
        "expected `\"`" | "key must be a string" => "an object's keys are strings in double quotes",
        "trailing comma" => "a comma before the closing bracket: JSON allows none",
        "trailing characters" => "more text after the end of the JSON value",
        "invalid escape" => {
            "an invalid escape in a string (JSON knows `\\n`, `\\\"`, `\\uXXXX`, ...)"
        }
        "invalid number" => "an invalid number",
        "number out of range" => "a number out of range",
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "a control character (such as a tab or line break) inside a string: escape it \
             (`\\t`, `\\n`)"
        }
        "recursion limit exceeded" => "nested more than 128 levels deep",
        other => return other.to_string(),
    };
    words.to_string()
}

fn place(path: &str) -> String {
    if path.is_empty() {
        "the input".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// A short description of a JSON value for error messages: scalars as JSON text (long strings
/// cut), containers by their type.
pub(crate) fn describe(value: &Value) -> String {
    const MAX: usize = 40;
    match value {
        Value::String(text) if text.chars().count() > MAX => {
            let cut: String = text.chars().take(MAX).collect();
            format!("{}...", Value::String(cut))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// A JSON path, built on the stack while walking a document and rendered only for an error:
/// `resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    /// The document itself.
    Root,
    /// A field of an object.
    Key(&'a Path<'a>, &'a str),
    /// An element of an array.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The path of field `key` of this object.
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    /// The path of element `index` of this array.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}
