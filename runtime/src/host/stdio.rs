//! Guest stdout and stderr, turned into plugin log lines.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::host::services::LogLevel;
use crate::host::CallScope;

/// Longest line kept; the rest of a longer line is cut.
const MAX_LINE: usize = 8 * 1024;

/// A guest output stream (stdout or stderr) that logs each line at one level.
#[derive(Clone)]
pub(crate) struct LogPipe {
    scope: Arc<CallScope>,
    level: LogLevel,
    /// The guest's stderr, where Rust's panic hook writes.
    stderr: bool,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl LogPipe {
    /// The guest's stdout, logged at `info`.
    pub(crate) fn stdout(scope: Arc<CallScope>) -> Self {
        Self {
            scope,
            level: LogLevel::Info,
            stderr: false,
            pending: Arc::default(),
        }
    }

    /// The guest's stderr, logged at `warn` and read for a panic message.
    pub(crate) fn stderr(scope: Arc<CallScope>) -> Self {
        Self {
            scope,
            level: LogLevel::Warn,
            stderr: true,
            pending: Arc::default(),
        }
    }

    fn write(&self, bytes: &[u8]) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for &b in bytes {
            if b == b'\n' {
                self.line(&String::from_utf8_lossy(&pending));
                pending.clear();
            } else if pending.len() < MAX_LINE {
                pending.push(b);
            }
        }
    }

    /// One whole line: to the log, and stderr's to what the call knows of a panic.
    fn line(&self, line: &str) {
        if self.stderr {
            self.scope.failures().stderr_line(line);
        }
        self.scope.log_line(self.level, line);
    }

    fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if !pending.is_empty() {
            self.line(&String::from_utf8_lossy(&pending));
            pending.clear();
        }
    }
}

impl Drop for LogPipe {
    fn drop(&mut self) {
        // The last clone flushes a line the guest did not end with a newline.
        if Arc::strong_count(&self.pending) == 1 {
            self.flush();
        }
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flush();
        Poll::Ready(Ok(()))
    }
}
