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

    /// The input (or one line of it) is not JSON.
    #[error("input is not valid JSON")]
    InvalidJson {
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
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
