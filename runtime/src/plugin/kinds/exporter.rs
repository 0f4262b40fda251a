//! Exporters: write traces in another format (`flowtrace:plugin/exporter`).

use super::{push_traces, Exporter, Exports};
use crate::error::CallError;
use crate::host::convert;
use crate::host::services::CallLog;
use crate::host::trace::PreparedTrace;
use crate::plugin::lift;
use crate::plugin::run::block_on;
use crate::plugin::{Logged, Plugin};
use crate::results::ExportFormat;

impl Plugin {
    /// The formats an exporter writes.
    pub async fn formats_async(&self) -> Result<Vec<ExportFormat>, CallError> {
        self.observe_call("formats", &[], self.formats_call()).await
    }

    async fn formats_call(&self) -> Result<Vec<ExportFormat>, CallError> {
        let Exports::Exporter(_) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let output = self.inner.limits.output;
        let formats = self
            .run(async |store, instance| Ok(Ok(lift::formats(store, instance, output).await?)))
            .await?;
        Ok(self
            .fits(formats)?
            .into_iter()
            .map(|f| ExportFormat {
                name: f.name,
                media_type: f.media_type,
                file_extension: f.file_extension,
            })
            .collect())
    }

    /// [`Plugin::formats_async`] for synchronous callers.
    pub fn formats(&self) -> Result<Vec<ExportFormat>, CallError> {
        block_on(self.formats_async())
    }

    /// Export traces in `format` (exporter plugins).
    pub async fn export_async(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Result<Vec<u8>, CallError> {
        self.export_logged_async(format, traces).await.value
    }

    /// [`Plugin::export_async`], and the last lines the call logged.
    pub async fn export_logged_async(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<u8>, CallError>> {
        self.observe_logged("export", traces, self.export_call(format, traces))
            .await
    }

    async fn export_call(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<u8>, CallError>> {
        let Exports::Exporter(_) = &self.inner.exports else {
            return Logged {
                value: Err(self.wrong_kind("an exporter")),
                log: CallLog::default(),
            };
        };
        let output = self.inner.limits.output;
        let (bytes, log) = self
            .run_logged(async |store, instance| {
                let handles = push_traces(store, traces)?;
                let out = lift::export_traces(store, instance, format, &handles, output).await?;
                Ok(out.transpose().map_err(convert::plugin_error))
            })
            .await;
        Logged {
            value: bytes.and_then(|b| self.fits(b)),
            log,
        }
    }

    /// [`Plugin::export_logged_async`] for synchronous callers.
    pub fn export_logged(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Logged<Result<Vec<u8>, CallError>> {
        block_on(self.export_logged_async(format, traces))
    }

    /// [`Plugin::export_async`] for synchronous callers.
    pub fn export(&self, format: &str, traces: &[PreparedTrace]) -> Result<Vec<u8>, CallError> {
        block_on(self.export_async(format, traces))
    }
}

impl Exporter {
    /// The formats it writes: [`Plugin::formats_async`].
    pub async fn formats_async(&self) -> Result<Vec<ExportFormat>, CallError> {
        self.plugin().formats_async().await
    }

    /// [`Exporter::formats_async`] for synchronous callers.
    pub fn formats(&self) -> Result<Vec<ExportFormat>, CallError> {
        self.plugin().formats()
    }

    /// Export traces in `format`: [`Plugin::export_async`].
    pub async fn export_async(
        &self,
        format: &str,
        traces: &[PreparedTrace],
    ) -> Result<Vec<u8>, CallError> {
        self.plugin().export_async(format, traces).await
    }

    /// [`Exporter::export_async`] for synchronous callers.
    pub fn export(&self, format: &str, traces: &[PreparedTrace]) -> Result<Vec<u8>, CallError> {
        self.plugin().export(format, traces)
    }
}
