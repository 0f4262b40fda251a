//! `flowtrace:plugin/kv`, capability `storage`: a per-plugin store the embedder persists. In
//! a batch call the writes are held back ([`KvStage`](super::batch::KvStage)) and committed
//! only when the call succeeds.

use crate::bindings::kv::Host;
use crate::host::HostState;

/// Longest key a guest may use, in bytes.
const MAX_KEY_BYTES: usize = 1024;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        let (store, id) = (&*self.ctx.services.kv, &self.ctx.id);
        Ok(match &self.kv_stage {
            Some(stage) => stage.get(store, id, &key),
            None => store.get(id, &key),
        })
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(Err(format!(
                "key of {} bytes is longer than the {MAX_KEY_BYTES}-byte limit",
                key.len()
            )));
        }
        let trace = self.on_trace.unwrap_or(0) as usize;
        match &mut self.kv_stage {
            // A full stage fails the batch call; its traces are then evaluated one per call.
            Some(stage) => {
                stage.write(trace, &key, Some(value))?;
                Ok(Ok(()))
            }
            None => Ok(self.ctx.services.kv.set(&self.ctx.id, &key, value)),
        }
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        let trace = self.on_trace.unwrap_or(0) as usize;
        match &mut self.kv_stage {
            Some(stage) => stage.write(trace, &key, None)?,
            None => self.ctx.services.kv.delete(&self.ctx.id, &key),
        }
        Ok(())
    }

    fn keys(&mut self, prefix: String) -> wasmtime::Result<Vec<String>> {
        let (store, id) = (&*self.ctx.services.kv, &self.ctx.id);
        Ok(match &self.kv_stage {
            Some(stage) => stage.keys(store, id, &prefix),
            None => store.keys(id, &prefix),
        })
    }
}
