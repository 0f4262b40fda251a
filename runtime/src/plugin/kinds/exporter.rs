//! Exporters: write traces in another format (`flowtrace:plugin/exporter`).

use super::{push_traces, Exports};
use crate::error::CallError;
use crate::host::convert;
use crate::host::trace::PreparedTrace;
use crate::plugin::run::block_on;
use crate::plugin::Plugin;
use crate::results::ExportFormat;

impl Plugin {
    /// The formats an exporter writes.
    pub async fn formats_async(&self) -> Result<Vec<ExportFormat>, CallError> {
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let formats = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                Ok(Ok(guest.call_formats(&mut *store).await?))
            })
            .await?;
        Ok(formats
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
        let Exports::Exporter(indices) = &self.inner.exports else {
            return Err(self.wrong_kind("an exporter"));
        };
        let bytes = self
            .run(async |store, instance| {
                let guest = indices.load(&mut *store, instance)?;
                let handles = push_traces(store, traces)?;
                let out = guest
                    .call_export_traces(&mut *store, format, &handles)
                    .await?;
                Ok(out.map_err(convert::plugin_error))
            })
            .await?;
        self.check_output(bytes.len())?;
        Ok(bytes)
    }

    /// [`Plugin::export_async`] for synchronous callers.
    pub fn export(&self, format: &str, traces: &[PreparedTrace]) -> Result<Vec<u8>, CallError> {
        block_on(self.export_async(format, traces))
    }
}
