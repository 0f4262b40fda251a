//! Telling encodings apart, decompressing, and cutting OTLP/protobuf input into records.

use std::io::Read;

use prost::Message as _;

use super::error::{Path, TraceError};
use super::model::Trace;
use super::otlp::OtlpTraces;
use super::otlp_proto::export_value;

/// The most bytes one OTLP/protobuf record (or a bare message) may hold: 128 MiB. A length
/// prefix under it starts with a byte from 0 to 7, which no JSON text starts with.
pub const MAX_RECORD_BYTES: u64 = 128 << 20;

/// The most bytes [`parse_traces`](super::parse_traces) decompresses gzip input to by
/// default: 256 MiB ([`ReadOptions::max_document_bytes`](super::ReadOptions)).
pub const MAX_INFLATED_BYTES: u64 = super::ReadOptions::DEFAULT_MAX_BYTES;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How trace input is encoded, told from its first bytes by [`Encoding::detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// gzip-compressed (`1f 8b`): decompress, then detect again.
    Gzip,
    /// zstd-compressed (`28 b5 2f fd`), which is not read.
    Zstd,
    /// JSON text: Flowtrace JSON, OTLP/JSON, or JSON lines of either.
    Json,
    /// OTLP/protobuf `ExportTraceServiceRequest`s.
    Protobuf(Framing),
}

/// How OTLP/protobuf messages follow one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One message, no prefix: an OTLP/HTTP request body (as `otel-cli` and the SDKs' OTLP
    /// exporters send it). Messages concatenated this way read as one, which protobuf
    /// defines as their merge: every span of every one.
    Bare,
    /// Each message after its length as 4 bytes, big-endian: the OpenTelemetry Collector's
    /// file exporter with `format: proto`.
    LengthPrefixed,
}

impl Encoding {
    /// How many leading bytes [`Encoding::detect`] looks at, at most.
    pub const HEAD_BYTES: usize = 4096;

    /// The encoding of input that starts with `head` (its first [`Encoding::HEAD_BYTES`], or
    /// all of it when shorter).
    ///
    /// - `1f 8b` is gzip, `28 b5 2f fd` zstd.
    /// - A first byte from 0 to 31 other than tab, line feed and carriage return is a
    ///   length-prefixed protobuf record: a prefix under [`MAX_RECORD_BYTES`] starts with
    ///   0 to 7, and JSON text never starts with a control character.
    /// - A line feed (`0a`, the tag every `ExportTraceServiceRequest` starts with) with, in the
    ///   head, a byte JSON text cannot hold (a control character other than tab, line feed and
    ///   carriage return, which JSON escapes even in strings, or bytes that are not UTF-8) is a
    ///   bare protobuf message. A message has one within its first few dozen bytes: a length
    ///   under 32, or the tag (`12`) of a span list or of an attribute's value, which an encoder
    ///   writing fields in order (as protobuf's own do) puts at the latest after the first
    ///   attribute's key. JSON text that
    ///   starts with a blank line stays JSON.
    /// - Anything else is JSON (whose parser then says what is wrong, if anything).
    pub fn detect(head: &[u8]) -> Encoding {
        let head = &head[..head.len().min(Self::HEAD_BYTES)];
        if head.starts_with(&GZIP_MAGIC) {
            return Encoding::Gzip;
        }
        if head.starts_with(&ZSTD_MAGIC) {
            return Encoding::Zstd;
        }
        match head.first() {
            Some(b'\n') if !is_text(head) => Encoding::Protobuf(Framing::Bare),
            Some(&b) if is_control(b) => Encoding::Protobuf(Framing::LengthPrefixed),
            _ => Encoding::Json,
        }
    }
}

/// A control character JSON text never holds unescaped.
fn is_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// Whether `head` could begin JSON text: UTF-8 (but for a character cut at its end), with no
/// control character but tab, line feed and carriage return.
fn is_text(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    utf8 && !head.iter().copied().any(is_control)
}

/// One OTLP/protobuf message of the input, not decoded yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtobufRecord {
    /// Where the record starts in the input (its length prefix, if any), from 0.
    pub offset: u64,
    /// The message's bytes, for [`parse_protobuf_record`].
    pub bytes: Vec<u8>,
}

/// Cuts OTLP/protobuf input into records, one at a time, so memory stays flat in the number of
/// records: an item per record, or an error after which it stops (the framing is lost). A
/// record's bytes are read as they come, so a length prefix that promises more than the input
/// holds costs no more memory than the input; one over [`MAX_RECORD_BYTES`] is refused
/// before anything is read.
///
/// ```
/// use flowtrace_plugins::trace::{Framing, ProtobufRecords};
///
/// let input = [&[0, 0, 0, 2][..], &[0x0a, 0x00], &[0, 0, 0, 9], &[0x0a]].concat();
/// let mut records = ProtobufRecords::new(&input[..], Framing::LengthPrefixed);
/// assert_eq!(records.next().unwrap().unwrap().bytes, [0x0a, 0x00]);
/// let error = records.next().unwrap().unwrap_err();
/// assert_eq!(error.offset(), Some(6));
/// assert!(records.next().is_none());
/// ```
#[derive(Debug)]
pub struct ProtobufRecords<R> {
    reader: R,
    framer: Framer,
}

impl<R: Read> ProtobufRecords<R> {
    /// Reads records framed as `framing` from `reader` (decompressed already).
    pub fn new(reader: R, framing: Framing) -> Self {
        ProtobufRecords {
            reader,
            framer: Framer::new(framing),
        }
    }
}

impl<R: Read> Iterator for ProtobufRecords<R> {
    type Item = Result<ProtobufRecord, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.framer.next(&mut self.reader)
    }
}

/// The state of cutting records out of a reader it does not own.
#[derive(Debug)]
pub(crate) struct Framer {
    framing: Framing,
    offset: u64,
    done: bool,
}

impl Framer {
    pub(crate) fn new(framing: Framing) -> Self {
        Framer {
            framing,
            offset: 0,
            done: false,
        }
    }

    pub(crate) fn next(
        &mut self,
        reader: &mut impl Read,
    ) -> Option<Result<ProtobufRecord, TraceError>> {
        if self.done {
            return None;
        }
        let start = self.offset;
        let result = self.read_record(reader, start);
        if result.is_err() {
            self.done = true;
        }
        result.transpose()
    }

    fn read_record(
        &mut self,
        reader: &mut impl Read,
        start: u64,
    ) -> Result<Option<ProtobufRecord>, TraceError> {
        let at_record = |error| TraceError::Record {
            offset: start,
            source: Box::new(error),
        };
        let length = match self.framing {
            Framing::Bare => {
                self.done = true;
                None
            }
            Framing::LengthPrefixed => {
                let mut prefix = [0u8; 4];
                let got = self.read_full(reader, &mut prefix)?;
                if got == 0 {
                    self.done = true;
                    return Ok(None);
                }
                if got < prefix.len() {
                    return Err(at_record(TraceError::Truncated {
                        what: "its 4-byte length prefix",
                        needed: 4,
                        available: got as u64,
                    }));
                }
                let length = u64::from(u32::from_be_bytes(prefix));
                if length > MAX_RECORD_BYTES {
                    return Err(at_record(TraceError::RecordTooLarge {
                        length,
                        limit: MAX_RECORD_BYTES,
                    }));
                }
                Some(length)
            }
        };
        // Read what there is, up to the length (one byte more for a bare message, to see
        // whether it is over the limit): never allocate ahead of the data.
        let want = length.unwrap_or(MAX_RECORD_BYTES + 1);
        let mut bytes = Vec::with_capacity(want.min(1 << 16) as usize);
        let read = reader.take(want).read_to_end(&mut bytes);
        let got = bytes.len() as u64;
        self.offset += got;
        if let Err(source) = read {
            let offset = self.offset;
            return Err(TraceError::ReadAt { offset, source });
        }
        match length {
            Some(length) if got < length => Err(at_record(TraceError::Truncated {
                what: "the record",
                needed: length,
                available: got,
            })),
            None if got > MAX_RECORD_BYTES => Err(at_record(TraceError::TooLarge {
                what: "the protobuf message",
                limit: MAX_RECORD_BYTES,
            })),
            _ => Ok(Some(ProtobufRecord {
                offset: start,
                bytes,
            })),
        }
    }

    /// Fills `buf` unless the input ends first; the bytes read.
    fn read_full(&mut self, reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, TraceError> {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    let offset = self.offset + filled as u64;
                    return Err(TraceError::ReadAt { offset, source });
                }
            }
        }
        self.offset += filled as u64;
        Ok(filled)
    }
}

/// The traces of one OTLP/protobuf record (an `ExportTraceServiceRequest`'s bytes), spans
/// grouped by trace id, exactly as the same export in OTLP/JSON gives them. For callers that
/// cut the records themselves ([`ProtobufRecords`]), e.g. to decode them on several threads;
/// the error says what is wrong, the caller knows the record's offset.
pub fn parse_protobuf_record(bytes: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let mut traces = OtlpTraces::default();
    add_record(&mut traces, bytes)?;
    Ok(traces.finish())
}

/// Adds every span of one record.
pub(crate) fn add_record(traces: &mut OtlpTraces, bytes: &[u8]) -> Result<(), TraceError> {
    if bytes.starts_with(&ZSTD_MAGIC) {
        return Err(TraceError::Decompress {
            source: std::io::Error::other(
                "the record is zstd-compressed (the collector's `compression: zstd`), which is \
                 not read: export without compression, or with gzip applied to the whole file",
            ),
        });
    }
    let request =
        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(bytes)
            .map_err(|source| TraceError::InvalidProtobuf { source })?;
    traces.add_export(&export_value(&request)?, Path::Root)
}

/// Every trace of OTLP/protobuf `bytes`, spans of one trace merged across records.
pub(crate) fn read_protobuf(bytes: &[u8], framing: Framing) -> Result<Vec<Trace>, TraceError> {
    let mut traces = OtlpTraces::default();
    for record in ProtobufRecords::new(bytes, framing) {
        let record = record?;
        add_record(&mut traces, &record.bytes).map_err(|error| TraceError::Record {
            offset: record.offset,
            source: Box::new(error),
        })?;
    }
    Ok(traces.finish())
}

/// gzip `bytes` decompressed (several members one after the other included), refusing more
/// than `limit` bytes ([`TraceError::DocumentTooLarge`]) without inflating past it.
pub(crate) fn inflate(bytes: &[u8], limit: u64) -> Result<Vec<u8>, TraceError> {
    let mut inflated = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut inflated)
        .map_err(|source| TraceError::Decompress { source })?;
    if inflated.len() as u64 > limit {
        return Err(TraceError::DocumentTooLarge { limit });
    }
    Ok(inflated)
}

/// The error for compressed input that is not read: zstd, or gzip inside gzip.
pub(crate) fn unsupported_compression(encoding: Encoding) -> TraceError {
    let reason = match encoding {
        Encoding::Zstd => {
            "the input is zstd-compressed, which is not read: decompress it \
                           first (`zstd -d`)"
        }
        _ => "the decompressed input is compressed again",
    };
    TraceError::Decompress {
        source: std::io::Error::other(reason),
    }
}
