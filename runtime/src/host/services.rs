//! What the embedder supplies to plugins: where logs go, the key-value store, other traces,
//! embeddings and (for tests) stubbed HTTP. Each has a default that works out of the box.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::host::trace::PreparedTrace;
use crate::manifest::PluginId;
use crate::plugin::CallId;
use crate::results::PluginError;

/// A boxed, sendable future, the return type of the async service methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Severity of a plugin log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal (guest stdout lands here).
    Info,
    /// Something odd (guest stderr lands here).
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One line a plugin logged, with the call it was logged in and the trace that call was on,
/// so the lines of concurrent calls can be told apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRecord<'a> {
    /// The plugin.
    pub plugin: &'a PluginId,
    /// The call (the `flowtrace.call.id` of its span, the `call` of its
    /// [`CallRecord`](crate::CallRecord)); none for a line logged outside any call.
    pub call: Option<CallId>,
    /// The id of the trace the call was on: its trace for a one-trace call, in a batch call
    /// the trace whose handle the guest read last; none for a call without traces.
    pub trace: Option<&'a str>,
    /// Its severity.
    pub level: LogLevel,
    /// The text, as the guest wrote it.
    pub message: &'a str,
}

/// Receives every line a plugin logs, through `flowtrace:plugin/log` or its stdout/stderr.
/// The text is the guest's, unfiltered: neutralise control characters before printing it to a
/// terminal.
pub trait LogSink: Send + Sync {
    /// One log line.
    fn log(&self, plugin: &PluginId, level: LogLevel, message: &str);

    /// One log line with the call and trace it belongs to: what the runtime calls. The
    /// default passes it on to [`log`](LogSink::log); a sink that tells concurrent calls
    /// apart implements this one.
    fn record(&self, record: &LogRecord<'_>) {
        self.log(record.plugin, record.level, record.message);
    }
}

/// The default sink: forwards to `tracing` at the matching level, target `flowtrace::plugin`,
/// with fields `flowtrace.plugin.id`, `flowtrace.call.id` and `flowtrace.trace.id` (inside
/// the call's span, `flowtrace.plugin.call`).
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingLog;

impl LogSink for TracingLog {
    fn log(&self, plugin: &PluginId, level: LogLevel, message: &str) {
        self.record(&LogRecord {
            plugin,
            call: None,
            trace: None,
            level,
            message,
        });
    }

    fn record(&self, r: &LogRecord<'_>) {
        let plugin = r.plugin.as_str();
        let call = r.call.map(CallId::get);
        let trace = r.trace;
        let message = r.message;
        match r.level {
            LogLevel::Trace => {
                tracing::event!(target: "flowtrace::plugin", tracing::Level::TRACE, { flowtrace.plugin.id = plugin, flowtrace.call.id = call, flowtrace.trace.id = trace }, "{message}")
            }
            LogLevel::Debug => {
                tracing::event!(target: "flowtrace::plugin", tracing::Level::DEBUG, { flowtrace.plugin.id = plugin, flowtrace.call.id = call, flowtrace.trace.id = trace }, "{message}")
            }
            LogLevel::Info => {
                tracing::event!(target: "flowtrace::plugin", tracing::Level::INFO, { flowtrace.plugin.id = plugin, flowtrace.call.id = call, flowtrace.trace.id = trace }, "{message}")
            }
            LogLevel::Warn => {
                tracing::event!(target: "flowtrace::plugin", tracing::Level::WARN, { flowtrace.plugin.id = plugin, flowtrace.call.id = call, flowtrace.trace.id = trace }, "{message}")
            }
            LogLevel::Error => {
                tracing::event!(target: "flowtrace::plugin", tracing::Level::ERROR, { flowtrace.plugin.id = plugin, flowtrace.call.id = call, flowtrace.trace.id = trace }, "{message}")
            }
        }
    }
}

/// A sink that keeps every line in memory (the test harness shows them on failure).
#[derive(Debug, Default)]
pub struct MemoryLog {
    lines: Mutex<Vec<(LogLevel, String)>>,
}

impl MemoryLog {
    /// Every line logged so far.
    pub fn lines(&self) -> Vec<(LogLevel, String)> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl LogSink for MemoryLog {
    fn log(&self, _plugin: &PluginId, level: LogLevel, message: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((level, message.to_string()));
    }
}

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// Its text, the guest's, unfiltered (see [`LogSink`]).
    pub message: String,
}

/// The last lines one call (or, for [`crate::Plugin::evaluate_each`], one trace) logged:
/// at most [`CallLog::MAX_LINES`] lines and [`CallLog::MAX_BYTES`] bytes of text, the older
/// lines dropped first (and counted). Every call keeps its own, besides what goes to the
/// [`LogSink`], so an embedder can show each trace's lines with its result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallLog {
    lines: std::collections::VecDeque<LogLine>,
    bytes: usize,
    dropped: usize,
}

impl CallLog {
    /// Lines kept at most.
    pub const MAX_LINES: usize = 50;
    /// Bytes of text kept at most; a longer line is cut to it (at a character boundary).
    pub const MAX_BYTES: usize = 16 << 10;

    /// Keep `message`, dropping the oldest lines past the bounds.
    pub fn push(&mut self, level: LogLevel, message: &str) {
        let mut end = message.len().min(Self::MAX_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.bytes += end;
        self.lines.push_back(LogLine {
            level,
            message: message[..end].to_string(),
        });
        while self.lines.len() > Self::MAX_LINES || self.bytes > Self::MAX_BYTES {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.message.len();
            self.dropped += 1;
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &LogLine> {
        self.lines.iter()
    }

    /// The lines kept, oldest first.
    pub fn into_lines(self) -> Vec<LogLine> {
        self.lines.into()
    }

    /// How many older lines were dropped to stay within the bounds.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Whether nothing was logged.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.dropped == 0
    }
}

/// The per-plugin store behind `flowtrace:plugin/kv` (capability `storage`). The embedder
/// persists it; [`MemoryKv`] is the in-memory default.
pub trait KvStore: Send + Sync {
    /// The value under `key`.
    fn get(&self, plugin: &PluginId, key: &str) -> Option<Vec<u8>>;
    /// Store a value; the error text reaches the guest.
    fn set(&self, plugin: &PluginId, key: &str, value: Vec<u8>) -> Result<(), String>;
    /// Remove a key.
    fn delete(&self, plugin: &PluginId, key: &str);
    /// Keys starting with `prefix`, sorted.
    fn keys(&self, plugin: &PluginId, prefix: &str) -> Vec<String>;

    /// Apply `writes` (a value, or `None` to delete the key), all or none: the writes a batch
    /// call held back, committed when it succeeded. On an error nothing may stay applied, or
    /// the traces of the batch, evaluated again one per call, write twice.
    ///
    /// The default applies them one by one and, when one is refused, puts back the values it
    /// had replaced; a store that can apply them at once should.
    fn commit(
        &self,
        plugin: &PluginId,
        writes: Vec<(String, Option<Vec<u8>>)>,
    ) -> Result<(), String> {
        let mut undo: Vec<(String, Option<Vec<u8>>)> = Vec::with_capacity(writes.len());
        for (key, value) in writes {
            let before = self.get(plugin, &key);
            let applied = match value {
                Some(value) => self.set(plugin, &key, value),
                None => {
                    self.delete(plugin, &key);
                    Ok(())
                }
            };
            if let Err(e) = applied {
                for (key, before) in undo.into_iter().rev() {
                    match before {
                        Some(value) => {
                            let _ = self.set(plugin, &key, value);
                        }
                        None => self.delete(plugin, &key),
                    }
                }
                return Err(e);
            }
            undo.push((key, before));
        }
        Ok(())
    }
}

/// An in-memory [`KvStore`] with a per-plugin quota on the bytes of keys and values.
#[derive(Debug)]
pub struct MemoryKv {
    quota: usize,
    data: Mutex<HashMap<PluginId, BTreeMap<String, Vec<u8>>>>,
}

impl MemoryKv {
    /// A store allowing each plugin `quota` bytes of keys plus values.
    pub fn new(quota: usize) -> Self {
        Self {
            quota,
            data: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for MemoryKv {
    /// 16 MiB per plugin.
    fn default() -> Self {
        Self::new(16 << 20)
    }
}

impl KvStore for MemoryKv {
    fn get(&self, plugin: &PluginId, key: &str) -> Option<Vec<u8>> {
        let data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        data.get(plugin).and_then(|m| m.get(key)).cloned()
    }

    fn set(&self, plugin: &PluginId, key: &str, value: Vec<u8>) -> Result<(), String> {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let map = data.entry(plugin.clone()).or_default();
        let used: usize = map
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if used + key.len() + value.len() > self.quota {
            return Err(format!(
                "storage quota of {} bytes exceeded ({} used, {} more asked)",
                self.quota,
                used,
                key.len() + value.len()
            ));
        }
        map.insert(key.to_string(), value);
        Ok(())
    }

    fn delete(&self, plugin: &PluginId, key: &str) {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = data.get_mut(plugin) {
            map.remove(key);
        }
    }

    fn keys(&self, plugin: &PluginId, prefix: &str) -> Vec<String> {
        let data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        data.get(plugin)
            .map(|m| {
                m.keys()
                    .filter(|k| k.starts_with(prefix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn commit(
        &self,
        plugin: &PluginId,
        writes: Vec<(String, Option<Vec<u8>>)>,
    ) -> Result<(), String> {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let map = data.entry(plugin.clone()).or_default();
        // The last write of each key wins, as if applied in order.
        let writes: BTreeMap<String, Option<Vec<u8>>> = writes.into_iter().collect();
        let size = |k: &str, v: Option<&Vec<u8>>| v.map_or(0, |v| k.len() + v.len());
        let used: usize = map.iter().map(|(k, v)| size(k, Some(v))).sum();
        let after = writes.iter().fold(used, |total, (k, v)| {
            total - size(k, map.get(k)) + size(k, v.as_ref())
        });
        if after > self.quota {
            return Err(format!(
                "storage quota of {} bytes exceeded ({after} bytes after the batch's writes)",
                self.quota
            ));
        }
        for (key, value) in writes {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(())
    }
}

/// A query over recorded traces, from `flowtrace:plugin/traces`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceQuery {
    /// Root span name contains this.
    pub name_contains: Option<String>,
    /// Started at or after (ns since the epoch).
    pub since_ns: Option<u64>,
    /// Started before (ns since the epoch).
    pub until_ns: Option<u64>,
    /// At most this many ids (already capped by the host).
    pub limit: u32,
}

/// Serves `flowtrace:plugin/traces` (capability `traces`).
pub trait TraceProvider: Send + Sync {
    /// The trace with this id.
    fn get(&self, id: &str) -> Option<PreparedTrace>;
    /// Ids matching the query, newest first.
    fn query(&self, query: &TraceQuery) -> Vec<String>;
}

/// A [`TraceProvider`] over a fixed set of traces (tests, `eval` over files).
#[derive(Debug, Default, Clone)]
pub struct StaticTraces {
    traces: Vec<PreparedTrace>,
}

impl StaticTraces {
    /// Serve these traces.
    pub fn new(traces: Vec<PreparedTrace>) -> Self {
        Self { traces }
    }
}

impl TraceProvider for StaticTraces {
    fn get(&self, id: &str) -> Option<PreparedTrace> {
        self.traces.iter().find(|t| t.trace().id == id).cloned()
    }

    fn query(&self, query: &TraceQuery) -> Vec<String> {
        let start = |t: &PreparedTrace| t.trace().spans.first().map_or(0, |s| s.start_time_ns);
        let mut hits: Vec<&PreparedTrace> = self
            .traces
            .iter()
            .filter(|t| {
                let root = t.trace().spans.first().map_or("", |s| s.name.as_str());
                query
                    .name_contains
                    .as_deref()
                    .is_none_or(|n| root.contains(n))
                    && query.since_ns.is_none_or(|s| start(t) >= s)
                    && query.until_ns.is_none_or(|u| start(t) < u)
            })
            .collect();
        hits.sort_by_key(|t| std::cmp::Reverse(start(t)));
        hits.into_iter()
            .take(query.limit as usize)
            .map(|t| t.trace().id.clone())
            .collect()
    }
}

/// Serves `flowtrace:plugin/embeddings` (capability `embeddings`). [`crate::Plugin`]
/// implements it, so an installed embedder plugin can serve other plugins.
pub trait EmbeddingProvider: Send + Sync {
    /// Dimension of the vectors.
    fn dimension(&self) -> BoxFuture<'_, Result<u32, PluginError>>;
    /// One vector per text.
    fn embed(&self, texts: Vec<String>) -> BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>>;
}

/// A stubbed HTTP exchange, for tests of network plugins: the request as the guest sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A stubbed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Answers the HTTP requests the policy allowed, in place of the network.
pub trait HttpStub: Send + Sync {
    /// The response, or an error text that the guest sees as a refused connection.
    fn respond(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_log_keeps_the_last_lines_within_its_bounds() {
        let mut log = CallLog::default();
        for i in 0..60 {
            log.push(LogLevel::Info, &format!("line {i}"));
        }
        assert_eq!(log.lines().len(), CallLog::MAX_LINES);
        assert_eq!(log.dropped(), 10);
        assert_eq!(log.lines().next().unwrap().message, "line 10");
        assert_eq!(log.lines().last().unwrap().message, "line 59");

        // Bytes: a long line pushes out the older ones, and is itself cut (at a character
        // boundary) to the byte bound.
        log.push(LogLevel::Warn, &"é".repeat(CallLog::MAX_BYTES));
        let lines = log.clone().into_lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].message.len(), CallLog::MAX_BYTES);
        assert_eq!(log.dropped(), 60);
        let mut log = CallLog::default();
        log.push(LogLevel::Info, &"x".repeat(CallLog::MAX_BYTES - 1));
        log.push(LogLevel::Info, "ab");
        assert_eq!(
            log.into_lines(),
            [LogLine {
                level: LogLevel::Info,
                message: "ab".into()
            }]
        );
    }
}
