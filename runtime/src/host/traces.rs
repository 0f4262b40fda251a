//! `flowtrace:plugin/traces`, capability `traces`: read other recorded traces.

use wasmtime::component::Resource;

use crate::bindings::traces::{Host, TraceQuery as WitQuery};
use crate::host::services::TraceQuery;
use crate::host::trace::TraceHandle;
use crate::host::HostState;

/// Most ids one query returns, whatever the guest asks.
const MAX_QUERY_IDS: u32 = 1000;

impl Host for HostState {
    fn get(&mut self, id: String) -> wasmtime::Result<Option<Resource<TraceHandle>>> {
        let Some(provider) = self.ctx.services.traces.clone() else {
            return Ok(None);
        };
        match provider.get(&id) {
            Some(trace) => Ok(Some(self.table.push(TraceHandle::new(trace, None))?)),
            None => Ok(None),
        }
    }

    fn query(&mut self, query: WitQuery) -> wasmtime::Result<Vec<String>> {
        let Some(provider) = self.ctx.services.traces.clone() else {
            return Ok(Vec::new());
        };
        Ok(provider.query(&TraceQuery {
            name_contains: query.name_contains,
            since_ns: query.since_ns,
            until_ns: query.until_ns,
            limit: query.limit.min(MAX_QUERY_IDS),
        }))
    }
}
