//! `flowtrace:plugin/config`, always granted: the manifest's `[config]` defaults with the
//! user's overrides, checked at load.

use crate::bindings::config::{ConfigValue as WitValue, Host};
use crate::host::HostState;
use crate::manifest::ConfigValue;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<WitValue>> {
        Ok(self.ctx.config.get(&key).map(|v| match v {
            ConfigValue::String(s) => WitValue::Text(s.clone()),
            ConfigValue::Integer(i) => WitValue::Integer(*i),
            ConfigValue::Float(f) => WitValue::Float(*f),
            ConfigValue::Boolean(b) => WitValue::Boolean(*b),
            ConfigValue::StringList(l) => WitValue::TextList(l.clone()),
        }))
    }

    fn keys(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.ctx.config.keys().cloned().collect())
    }
}
