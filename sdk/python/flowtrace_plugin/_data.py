"""Traces by value: :class:`TraceData` and :class:`Span`, what a transformer returns and
what :meth:`Trace.to_data <flowtrace_plugin.Trace.to_data>` copies out of the host."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._attributes import AttributeValue
from ._span import SpanKind, SpanStatus, TokenUsage

__all__ = ["Span", "TraceData"]


@dataclass
class Span:
    """A whole span, every string included.

    Read one with :meth:`SpanRef.to_span <flowtrace_plugin.SpanRef.to_span>`; build one
    with an id, a name, a kind and the fields you need. Attributes are a ``dict`` of plain
    values (see :data:`~flowtrace_plugin.AttributeValue`).

    >>> span = Span("a1b2", "chat gpt-4o", SpanKind.LLM_CALL, output="hello")
    >>> span.attributes["flowtrace.redacted"] = True
    >>> span.status
    <SpanStatus.UNSET: 'unset'>
    """

    id: str
    """The span id (16 lowercase hex digits for OpenTelemetry spans)."""
    name: str
    """The span name, e.g. ``chat gpt-4o``."""
    kind: SpanKind = SpanKind.CUSTOM
    """What the span represents."""
    parent_id: str | None = None
    """The parent's id; ``None`` for a root span."""
    status: SpanStatus = SpanStatus.UNSET
    """Its outcome."""
    status_message: str | None = None
    """Why it failed, for an error status."""
    input: str | None = None
    """The input text (for LLM calls, GenAI "parts" message JSON)."""
    output: str | None = None
    """The output text."""
    model: str | None = None
    """The model, for LLM and embedding calls."""
    start_time_ns: int = 0
    """Start, nanoseconds since the Unix epoch."""
    end_time_ns: int | None = None
    """End, nanoseconds since the Unix epoch."""
    usage: TokenUsage = field(default_factory=TokenUsage)
    """Token counts."""
    cost_usd: float | None = None
    """Cost in US dollars."""
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    """Every attribute, by key."""

    @property
    def duration_ns(self) -> int | None:
        """End minus start, when the end is recorded (0 if the clock went backwards).

        >>> Span("01", "tool", start_time_ns=10, end_time_ns=25).duration_ns
        15
        """
        if self.end_time_ns is None:
            return None
        return max(0, self.end_time_ns - self.start_time_ns)


@dataclass
class TraceData:
    """A whole trace by value: what :meth:`Trace.to_data
    <flowtrace_plugin.Trace.to_data>` copies out and what a
    :class:`~flowtrace_plugin.Transformer` returns.

    >>> trace = TraceData(
    ...     id="4bf92f3577b34da6a3ce929d0e0e4736",
    ...     spans=[Span("00f067aa0ba902b7", "agent run", SpanKind.AGENT_STEP)],
    ... )
    >>> trace.attributes["flowtrace.sampled"] = True
    >>> len(trace.spans)
    1
    """

    id: str = ""
    """The trace id."""
    input: str | None = None
    """Input of the whole run."""
    output: str | None = None
    """Output of the whole run."""
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    """Trace-level attributes, by key."""
    spans: list[Span] = field(default_factory=list)
    """Every span."""

    def span(self, span_id: str) -> Span | None:
        """The span with id ``span_id``.

        >>> TraceData(spans=[Span("01", "root")]).span("01").name
        'root'
        """
        return next((s for s in self.spans if s.id == span_id), None)
