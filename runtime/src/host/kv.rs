//! `flowtrace:plugin/kv`, capability `storage`: a per-plugin store the embedder persists.

use crate::bindings::kv::Host;
use crate::host::HostState;

/// Longest key a guest may use, in bytes.
const MAX_KEY_BYTES: usize = 1024;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        Ok(self.ctx.services.kv.get(&self.ctx.id, &key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(Err(format!(
                "key of {} bytes is longer than the {MAX_KEY_BYTES}-byte limit",
                key.len()
            )));
        }
        Ok(self.ctx.services.kv.set(&self.ctx.id, &key, value))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.ctx.services.kv.delete(&self.ctx.id, &key);
        Ok(())
    }

    fn keys(&mut self, prefix: String) -> wasmtime::Result<Vec<String>> {
        Ok(self.ctx.services.kv.keys(&self.ctx.id, &prefix))
    }
}
