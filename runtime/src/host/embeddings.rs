//! `flowtrace:plugin/embeddings`, capability `embeddings`: served by the embedder's provider,
//! usually an installed embedder plugin.

use crate::bindings::embeddings::Host;
use crate::bindings::types::PluginError as WitError;
use crate::host::convert::plugin_error_to_wit;
use crate::host::HostState;

fn no_provider() -> WitError {
    WitError::Unavailable("no embedding provider is configured in this host".into())
}

impl Host for HostState {
    async fn dimension(&mut self) -> wasmtime::Result<Result<u32, WitError>> {
        let Some(provider) = self.ctx.services.embeddings.clone() else {
            return Ok(Err(no_provider()));
        };
        Ok(provider.dimension().await.map_err(plugin_error_to_wit))
    }

    async fn embed(
        &mut self,
        texts: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<Vec<f32>>, WitError>> {
        let Some(provider) = self.ctx.services.embeddings.clone() else {
            return Ok(Err(no_provider()));
        };
        Ok(provider.embed(texts).await.map_err(plugin_error_to_wit))
    }
}
