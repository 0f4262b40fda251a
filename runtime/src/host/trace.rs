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
/// Preparing is linear in the number of spans apart from one sort, whatever the parent links
/// (chains, cycles, self-parents, missing parents); [`Runtime::prepare`](crate::Runtime::prepare)
/// also refuses a trace over the host's span cap. A prepared trace is immutable and cheap to
/// clone (an `Arc`), so prepare once and hand the same value to every plugin that looks at the
/// trace.
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

/// Depth of each span in the parent tree: 0 for a root, for a span whose parent is not in
/// the trace, and for a span on a parent cycle (a span that is its own parent included);
/// otherwise one more than its parent's. Linear in the number of spans: each span's depth is
/// found once, by walking up to the nearest span whose depth is known, then assigned on the
/// way back down.
fn depths(spans: &[Span]) -> Vec<u32> {
    const UNKNOWN: u32 = u32::MAX;
    const ON_PATH: u32 = u32::MAX - 1;
    let by_id: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let parent: Vec<Option<usize>> = spans
        .iter()
        .map(|s| s.parent_id.as_deref().and_then(|p| by_id.get(p).copied()))
        .collect();
    let mut depth = vec![UNKNOWN; spans.len()];
    // The spans walked from `start` upwards whose depth is not known yet.
    let mut path: Vec<usize> = Vec::new();
    for start in 0..spans.len() {
        if depth[start] != UNKNOWN {
            continue;
        }
        path.clear();
        let mut cur = start;
        // The depth of the span the top of `path` hangs from.
        let above = loop {
            match depth[cur] {
                UNKNOWN => {
                    depth[cur] = ON_PATH;
                    path.push(cur);
                    match parent[cur] {
                        Some(p) => cur = p,
                        None => {
                            // A root (or an orphan): the top of the path.
                            path.pop();
                            depth[cur] = 0;
                            break 0;
                        }
                    }
                }
                ON_PATH => {
                    // Back on the path: `cur` and the spans walked after it form a cycle.
                    let at = path.iter().rposition(|&i| i == cur).expect("on the path");
                    for &i in &path[at..] {
                        depth[i] = 0;
                    }
                    path.truncate(at);
                    break 0;
                }
                known => break known,
            }
        };
        let mut d = above;
        for &i in path.iter().rev() {
            d += 1;
            depth[i] = d;
        }
    }
    depth
}

/// What the resource table holds for a `trace` handle.
pub struct TraceHandle {
    pub(crate) trace: PreparedTrace,
    /// Its position in a batch call's traces (none for a trace read through `traces`).
    pub(crate) slot: Option<u32>,
}

impl TraceHandle {
    pub(crate) fn new(trace: PreparedTrace, slot: Option<u32>) -> Self {
        Self { trace, slot }
    }
}

impl HostState {
    /// The trace behind `handle`; reading a batch trace tells the batch the guest is on it.
    fn trace(&mut self, handle: &Resource<TraceHandle>) -> wasmtime::Result<&PreparedTrace> {
        let entry = self.table.get(handle)?;
        if let Some(slot) = entry.slot {
            if self.on_trace != Some(slot) {
                self.on_trace = Some(slot);
                if let Some(batch) = &self.scope.batch {
                    batch.touch(slot as usize);
                }
            }
        }
        Ok(&entry.trace)
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

    fn span_finish_reasons(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .map(Span::finish_reasons)
            .unwrap_or_default())
    }

    fn span_messages(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
        direction: wit::MessageDirection,
    ) -> wasmtime::Result<Vec<wit::Message>> {
        let direction = convert::message_direction(direction);
        Ok(self
            .trace(&this)?
            .span(index)
            .map(|s| {
                s.messages(direction)
                    .into_iter()
                    .map(convert::message)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn span_tool_call(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<wit::ToolCall>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .and_then(Span::tool_call)
            .map(convert::tool_call))
    }

    fn span_error(
        &mut self,
        this: Resource<TraceHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<wit::SpanError>> {
        Ok(self
            .trace(&this)?
            .span(index)
            .and_then(Span::error)
            .map(|e| wit::SpanError {
                error_type: e.error_type,
                message: e.message,
            }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{SpanKind, SpanStatus, TokenUsage};

    fn span(id: &str, parent: Option<&str>) -> Span {
        Span {
            id: id.to_string(),
            parent_id: parent.map(str::to_string),
            name: id.to_string(),
            kind: SpanKind::Custom,
            status: SpanStatus::Unset,
            status_message: None,
            input: None,
            output: None,
            model: None,
            start_time_ns: 0,
            end_time_ns: None,
            usage: TokenUsage::default(),
            cost_usd: None,
            attributes: Vec::new(),
        }
    }

    /// Depth by span id, whatever order the spans come in.
    fn depths_by_id(spans: &[Span]) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = spans
            .iter()
            .map(|s| s.id.clone())
            .zip(depths(spans))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn depths_of_chains_cycles_self_parents_and_orphans() {
        let spans = vec![
            span("d", Some("z")),
            span("z", Some("y")), // hangs from the cycle x <-> y
            span("x", Some("y")),
            span("y", Some("x")),
            span("b", Some("a")),
            span("c", Some("b")),
            span("a", None),
            span("s", Some("s")), // its own parent
            span("o", Some("missing")),
            span("p", Some("o")),
        ];
        let expected: Vec<(String, u32)> = [
            ("a", 0),
            ("b", 1),
            ("c", 2),
            ("d", 2),
            ("o", 0),
            ("p", 1),
            ("s", 0),
            ("x", 0),
            ("y", 0),
            ("z", 1),
        ]
        .iter()
        .map(|(id, d)| (id.to_string(), *d))
        .collect();
        assert_eq!(depths_by_id(&spans), expected);
        // The same depths in any order of the spans.
        let mut reversed = spans.clone();
        reversed.reverse();
        assert_eq!(depths_by_id(&reversed), expected);
        let mut rotated = spans;
        rotated.rotate_left(3);
        assert_eq!(depths_by_id(&rotated), expected);
    }

    #[test]
    fn a_long_cycle_and_the_chain_into_it() {
        // 0 <- 1 <- ... <- 999 <- 0: one cycle of 1,000; then a tail of 10 hanging from 500.
        let n = 1000;
        let mut spans: Vec<Span> = (0..n)
            .map(|i| span(&format!("c{i}"), Some(&format!("c{}", (i + n - 1) % n))))
            .collect();
        spans.push(span("t0", Some("c500")));
        for i in 1..10 {
            spans.push(span(&format!("t{i}"), Some(&format!("t{}", i - 1))));
        }
        let depth = depths(&spans);
        assert!(depth[..n].iter().all(|&d| d == 0));
        assert_eq!(depth[n..], (1..=10).collect::<Vec<u32>>());
    }
}
