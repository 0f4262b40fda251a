//! The `trace` resource: a host-owned trace the guest reads field by field.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::types::{self as wit, Host, HostTrace};
use crate::host::convert;
use crate::host::HostState;
use crate::trace::{Span, Trace};

/// A trace made ready for plugins: spans in start-time order with parents resolved to indices.
///
/// Preparing costs one sort; a prepared trace is immutable and cheap to clone (an `Arc`), so
/// prepare once and hand the same value to every plugin that looks at the trace.
#[derive(Debug, Clone)]
pub struct PreparedTrace {
    inner: Arc<Prepared>,
}

#[derive(Debug)]
struct Prepared {
    trace: Trace,
    parents: Vec<Option<u32>>,
}

impl PreparedTrace {
    /// Order the spans (start time, then depth, then id) and resolve parent ids.
    pub fn new(mut trace: Trace) -> Self {
        let depth = depths(&trace.spans);
        let mut order: Vec<usize> = (0..trace.spans.len()).collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&trace.spans[a], &trace.spans[b]);
            (sa.start_time_ns, depth[a], &sa.id).cmp(&(sb.start_time_ns, depth[b], &sb.id))
        });
        let mut spans: Vec<Option<Span>> = trace.spans.drain(..).map(Some).collect();
        trace.spans = order
            .iter()
            .map(|&i| spans[i].take().expect("each index once"))
            .collect();
        let index: HashMap<&str, u32> = trace
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i as u32))
            .collect();
        let parents = trace
            .spans
            .iter()
            .map(|s| s.parent_id.as_deref().and_then(|p| index.get(p).copied()))
            .collect();
        Self {
            inner: Arc::new(Prepared { trace, parents }),
        }
    }

    /// The trace, spans in index order.
    pub fn trace(&self) -> &Trace {
        &self.inner.trace
    }

    /// The index of span `index`'s parent, when the parent is in this trace.
    pub fn parent(&self, index: usize) -> Option<u32> {
        self.inner.parents.get(index).copied().flatten()
    }

    fn span(&self, index: u32) -> Option<&Span> {
        self.inner.trace.spans.get(index as usize)
    }
}

impl From<Trace> for PreparedTrace {
    fn from(trace: Trace) -> Self {
        Self::new(trace)
    }
}

/// Depth of each span in the parent tree (0 for roots and orphans), cycle-safe.
fn depths(spans: &[Span]) -> Vec<u32> {
    let by_id: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    spans
        .iter()
        .map(|s| {
            let mut depth = 0u32;
            let mut cur = s.parent_id.as_deref();
            while let Some(p) = cur.and_then(|p| by_id.get(p)) {
                depth += 1;
                if depth as usize > spans.len() {
                    break; // a cycle in the parent links: stop counting
                }
                cur = spans[*p].parent_id.as_deref();
            }
            depth
        })
        .collect()
}

/// What the resource table holds for a `trace` handle.
pub struct TraceHandle(pub(crate) PreparedTrace);

impl HostState {
    fn trace(&self, handle: &Resource<TraceHandle>) -> wasmtime::Result<&PreparedTrace> {
        Ok(&self.table.get(handle)?.0)
    }
}

impl Host for HostState {}

impl HostTrace for HostState {
    fn id(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<String> {
        Ok(self.trace(&this)?.trace().id.clone())
    }

    fn span_count(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<u32> {
        Ok(self.trace(&this)?.trace().spans.len() as u32)
    }

    fn input(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.trace().input.clone())
    }

    fn output(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.trace().output.clone())
    }

    fn attributes(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<Vec<wit::Attribute>> {
        Ok(convert::attributes(&self.trace(&this)?.trace().attributes))
    }

    fn span_info(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<wit::SpanInfo>> {
        let t = self.trace(&this)?;
        Ok(t.span(index)
            .map(|s| convert::span_info(s, t.parent(index as usize))))
    }

    fn span_infos(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<Vec<wit::SpanInfo>> {
        let t = self.trace(&this)?;
        Ok(t.trace()
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| convert::span_info(s, t.parent(i)))
            .collect())
    }

    fn spans_of_kind(
        &mut self,
        this: Resource<TraceHandle>,
        kind: wit::SpanKind,
    ) -> wasmtime::Result<Vec<u32>> {
        let kind = convert::span_kind_from_wit(kind);
        Ok(self
            .trace(&this)?
            .trace()
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == kind)
            .map(|(i, _)| i as u32)
            .collect())
    }

    fn span_id(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.span(index).map(|s| s.id.clone()))
    }

    fn span_name(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.span(index).map(|s| s.name.clone()))
    }

    fn span_model(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.span(index).and_then(|s| s.model.clone()))
    }

    fn span_input(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.trace(&this)?.span(index).and_then(|s| s.input.clone()))
    }

    fn span_output(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .and_then(|s| s.output.clone()))
    }

    fn span_status_message(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .and_then(|s| s.status_message.clone()))
    }

    fn span_attribute(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
        key: String,
    ) -> wasmtime::Result<Option<wit::AttributeValue>> {
        Ok(self.trace(&this)?.span(index).and_then(|s| {
            s.attributes
                .iter()
                .find(|a| a.key == key)
                .map(|a| convert::attribute_value(&a.value))
        }))
    }

    fn span_attributes(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Vec<wit::Attribute>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .map(|s| convert::attributes(&s.attributes))
            .unwrap_or_default())
    }

    fn span(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<wit::Span>> {
        Ok(self.trace(&this)?.span(index).map(convert::span))
    }

    fn to_data(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<wit::TraceData> {
        Ok(convert::trace_data(self.trace(&this)?.trace()))
    }

    fn drop(&mut self, this: Resource<TraceHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
