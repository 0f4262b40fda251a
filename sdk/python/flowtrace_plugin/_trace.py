""":class:`Trace`: a host-owned trace read field by field, and :class:`SpanRef`, a view of
one span.

The trace stays in the host; a plugin copies in only what it reads. Span kinds, statuses,
times, token counts and text lengths (:class:`~flowtrace_plugin.SpanInfo`) come in one call
for the whole trace, the first time any of them is read, and are then kept; each string (a
name, an output, an attribute) is one call that copies that string alone, made the first
time it is read.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, Protocol, TypeVar

from ._attributes import AttributeValue
from ._data import Span, TraceData
from ._facts import Message, SpanError, SpanFacts, ToolCall
from ._span import SpanInfo, SpanKind, SpanStatus, TokenUsage

__all__ = ["SpanRef", "Trace"]


class _Missing:
    """The marker for an attribute a span does not have (``None`` is a JSON value)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_TraceT = TypeVar("_TraceT", bound="Trace")


class TraceSource(Protocol):
    """Where a :class:`Trace` reads from: the host's resource, or a :class:`TraceData` in
    memory. Each method returns SDK values; indices are in range."""

    def id(self) -> str: ...
    def span_count(self) -> int: ...
    def input(self) -> str | None: ...
    def output(self) -> str | None: ...
    def attributes(self) -> dict[str, AttributeValue]: ...
    def span_infos(self) -> list[SpanInfo]: ...
    def spans_of_kind(self, kind: SpanKind) -> list[int]: ...
    def span_id(self, index: int) -> str | None: ...
    def span_name(self, index: int) -> str | None: ...
    def span_model(self, index: int) -> str | None: ...
    def span_input(self, index: int) -> str | None: ...
    def span_output(self, index: int) -> str | None: ...
    def span_status_message(self, index: int) -> str | None: ...
    def span_attribute(self, index: int, key: str) -> AttributeValue: ...
    def span_attributes(self, index: int) -> dict[str, AttributeValue]: ...
    def span_finish_reasons(self, index: int) -> list[str]: ...
    def span_messages(self, index: int, output: bool) -> list[Message]: ...
    def span_tool_call(self, index: int) -> ToolCall | None: ...
    def span_error(self, index: int) -> SpanError | None: ...
    def span(self, index: int) -> Span: ...
    def to_data(self) -> TraceData: ...
    def close(self) -> None: ...


class Trace:
    """A recorded trace. Inside a component it is owned by the host and read on demand.

    Spans are addressed by index, ``0 .. span_count - 1``, in start-time order; a parent
    always has a lower index than its children when both carry start times. Iterating a
    trace goes over its spans, and ``len(trace)`` is its span count.

    Values the host copies (``id``, ``input``, ``output``, ``attributes``) are read from the
    host the first time they are used, then kept; the trace is only valid during the call
    that received it.

    >>> from flowtrace_plugin import Span, SpanKind, SpanStatus, TraceData
    >>> trace = Trace.from_data(TraceData(id="t1", spans=[
    ...     Span("01", "agent run", SpanKind.AGENT_STEP),
    ...     Span("02", "execute_tool search", SpanKind.TOOL_CALL, parent_id="01",
    ...          status=SpanStatus.ERROR, status_message="timed out"),
    ... ]))
    >>> [span.name for span in trace if span.status is SpanStatus.ERROR]
    ['execute_tool search']
    >>> trace.span_count, len(trace.spans_of_kind(SpanKind.TOOL_CALL))
    (2, 1)
    """

    def __init__(self, source: TraceSource) -> None:
        """A trace reading from ``source``. Plugins receive traces from the host; to make
        one (in a unit test), use :meth:`from_data`."""
        self._source = source
        self._infos: list[SpanInfo] | None = None

    @classmethod
    def from_data(cls, data: TraceData, facts: Mapping[str, SpanFacts] | None = None) -> Trace:
        """A trace over a :class:`~flowtrace_plugin.TraceData` in memory, to run a plugin's
        code in a unit test, without a host. Spans keep the order given; parents are found
        by ``parent_id``; text lengths are UTF-8 byte counts, as the host reports them.
        Without a host nothing normalizes attributes: ``facts`` gives the normalized facts
        (finish reasons, messages, ...) of spans by span id; other spans have none.

        >>> from flowtrace_plugin import Span, SpanFacts, TraceData
        >>> data = TraceData(spans=[Span("01", "chat")])
        >>> Trace.from_data(data, {"01": SpanFacts(finish_reasons=("length",))}).spans()[0].finish_reasons
        ['length']

        >>> from flowtrace_plugin import Span, TraceData
        >>> trace = Trace.from_data(TraceData(id="t", spans=[Span("01", "chat", output="héllo")]))
        >>> trace.spans()[0].output_len
        6
        """
        return cls(_DataSource(data, facts or {}))

    @cached_property
    def id(self) -> str:
        """The trace id (32 lowercase hex digits for OpenTelemetry traces).

        >>> Trace.from_data(TraceData(id="4bf92f3577b34da6a3ce929d0e0e4736")).id
        '4bf92f3577b34da6a3ce929d0e0e4736'
        """
        return self._source.id()

    @property
    def span_count(self) -> int:
        """The number of spans.

        >>> Trace.from_data(TraceData()).span_count
        0
        """
        if self._infos is not None:
            return len(self._infos)
        return self._source.span_count()

    @cached_property
    def input(self) -> str | None:
        """Input of the whole run, when recorded.

        >>> Trace.from_data(TraceData(input="What is the weather in Paris?")).input
        'What is the weather in Paris?'
        """
        return self._source.input()

    @cached_property
    def output(self) -> str | None:
        """Output of the whole run, when recorded.

        >>> Trace.from_data(TraceData()).output is None
        True
        """
        return self._source.output()

    @cached_property
    def attributes(self) -> dict[str, AttributeValue]:
        """Trace-level attributes (OpenTelemetry resource attributes), by key.

        >>> Trace.from_data(TraceData(attributes={"service.name": "agent"})).attributes
        {'service.name': 'agent'}
        """
        return self._source.attributes()

    def attribute(self, key: str, default: AttributeValue = None) -> AttributeValue:
        """One trace-level attribute, or ``default`` (reads :attr:`attributes`).

        >>> Trace.from_data(TraceData()).attribute("service.name", "unknown")
        'unknown'
        """
        return self.attributes.get(key, default)

    @property
    def infos(self) -> list[SpanInfo]:
        """The fixed-size facts of every span, in index order: fetched from the host in one
        call the first time, then kept.

        >>> from flowtrace_plugin import Span, TokenUsage
        >>> trace = Trace.from_data(TraceData(spans=[Span("01", "chat", usage=TokenUsage(total=12))]))
        >>> sum(info.usage.total_or_sum() or 0 for info in trace.infos)
        12
        """
        if self._infos is None:
            self._infos = self._source.span_infos()
        return self._infos

    def spans(self) -> list[SpanRef]:
        """Every span, in index order.

        >>> from flowtrace_plugin import Span
        >>> [s.name for s in Trace.from_data(TraceData(spans=[Span("01", "a"), Span("02", "b")])).spans()]
        ['a', 'b']
        """
        return [SpanRef(self, index) for index in range(len(self.infos))]

    def span(self, index: int) -> SpanRef | None:
        """Span ``index``, if in range.

        >>> Trace.from_data(TraceData()).span(0) is None
        True
        """
        if 0 <= index < len(self.infos):
            return SpanRef(self, index)
        return None

    def spans_of_kind(self, kind: SpanKind) -> list[SpanRef]:
        """The spans of one kind, in index order.

        >>> from flowtrace_plugin import Span
        >>> trace = Trace.from_data(TraceData(spans=[Span("01", "chat", SpanKind.LLM_CALL)]))
        >>> len(trace.spans_of_kind(SpanKind.LLM_CALL)), len(trace.spans_of_kind(SpanKind.RETRIEVAL))
        (1, 0)
        """
        if self._infos is not None:
            return [SpanRef(self, i) for i, info in enumerate(self._infos) if info.kind is kind]
        return [SpanRef(self, index) for index in self._source.spans_of_kind(kind)]

    def root(self) -> SpanRef | None:
        """The first span without a parent in this trace (the run's root, usually index 0).

        >>> from flowtrace_plugin import Span
        >>> Trace.from_data(TraceData(spans=[Span("01", "agent run")])).root().name
        'agent run'
        """
        for index, info in enumerate(self.infos):
            if info.parent is None:
                return SpanRef(self, index)
        return None

    def to_data(self) -> TraceData:
        """The whole trace by value: the most expensive read, it copies every string. What
        a transformer starts from; changing it does not change the trace.

        >>> from flowtrace_plugin import Span
        >>> data = Trace.from_data(TraceData(spans=[Span("01", "chat", output="hi")])).to_data()
        >>> data.spans[0].output = None
        """
        return self._source.to_data()

    def close(self) -> None:
        """Give a trace from :func:`flowtrace_plugin.traces.get` back to the host now rather
        than when it is garbage-collected; a no-op for the traces a plugin method receives.
        ``with`` does it too.

        >>> with Trace.from_data(TraceData(id="t")) as trace:
        ...     trace.id
        't'
        """
        self._source.close()

    def __enter__(self: _TraceT) -> _TraceT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return self.span_count

    def __iter__(self) -> Iterator[SpanRef]:
        return iter(self.spans())

    def __repr__(self) -> str:
        return f"<Trace with {self.span_count} spans>"


class SpanRef:
    """A view of one span of a :class:`Trace`: an index, nothing copied yet.

    Properties holding numbers and enums (``kind``, ``status``, ``usage``, ``output_len``,
    ...) read the trace's cached :class:`~flowtrace_plugin.SpanInfo` and never call the
    host. Properties holding strings (``id``, ``name``, ``output``, ...) and
    :meth:`attribute` copy that one string from the host, the first time they are read.

    >>> from flowtrace_plugin import Span, TraceData
    >>> def empty_llm_outputs(trace: Trace) -> list[str]:
    ...     return [
    ...         span.id  # one string copied per flagged span
    ...         for span in trace.spans_of_kind(SpanKind.LLM_CALL)
    ...         if span.output_len == 0  # no string copied
    ...     ]
    >>> empty_llm_outputs(Trace.from_data(TraceData(spans=[Span("01", "chat", SpanKind.LLM_CALL)])))
    ['01']
    """

    def __init__(self, trace: Trace, index: int) -> None:
        """The view of span ``index`` of ``trace``; :meth:`Trace.spans` and friends make
        them."""
        self.trace: Trace = trace
        """The trace the span belongs to."""
        self.index: int = index
        """The span's index in its trace."""

    @property
    def info(self) -> SpanInfo:
        """The span's fixed-size facts.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x")])).spans()[0].info.attribute_count
        0
        """
        return self.trace.infos[self.index]

    @property
    def kind(self) -> SpanKind:
        """What the span represents.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "chat", SpanKind.LLM_CALL)])).spans()[0].kind
        <SpanKind.LLM_CALL: 'llm-call'>
        """
        return self.info.kind

    @property
    def status(self) -> SpanStatus:
        """The span's outcome.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x")])).spans()[0].status
        <SpanStatus.UNSET: 'unset'>
        """
        return self.info.status

    @property
    def parent(self) -> SpanRef | None:
        """The parent span, if it is part of this trace.

        >>> from flowtrace_plugin import Span, TraceData
        >>> spans = Trace.from_data(TraceData(spans=[Span("01", "run"), Span("02", "chat", parent_id="01")])).spans()
        >>> spans[1].parent.name
        'run'
        """
        parent = self.info.parent
        return None if parent is None else self.trace.span(parent)

    def children(self) -> list[SpanRef]:
        """The spans whose parent is this one, in index order.

        >>> from flowtrace_plugin import Span, TraceData
        >>> spans = Trace.from_data(TraceData(spans=[Span("01", "run"), Span("02", "chat", parent_id="01")])).spans()
        >>> [c.name for c in spans[0].children()]
        ['chat']
        """
        return [
            SpanRef(self.trace, i)
            for i, info in enumerate(self.trace.infos)
            if info.parent == self.index
        ]

    @property
    def start_time_ns(self) -> int:
        """Start, nanoseconds since the Unix epoch.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", start_time_ns=7)])).spans()[0].start_time_ns
        7
        """
        return self.info.start_time_ns

    @property
    def end_time_ns(self) -> int | None:
        """End, nanoseconds since the Unix epoch, when recorded.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x")])).spans()[0].end_time_ns is None
        True
        """
        return self.info.end_time_ns

    @property
    def duration_ns(self) -> int | None:
        """End minus start, nanoseconds, when the end is recorded.

        >>> from flowtrace_plugin import Span, TraceData
        >>> span = Span("01", "x", start_time_ns=0, end_time_ns=2_000_000)
        >>> Trace.from_data(TraceData(spans=[span])).spans()[0].duration_ns // 1_000_000
        2
        """
        return self.info.duration_ns

    @property
    def usage(self) -> TokenUsage:
        """Token counts.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", usage=TokenUsage(input=3))])).spans()[0].usage.input
        3
        """
        return self.info.usage

    @property
    def cost_usd(self) -> float | None:
        """Cost in US dollars, when known.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", cost_usd=0.01)])).spans()[0].cost_usd
        0.01
        """
        return self.info.cost_usd

    @property
    def input_len(self) -> int:
        """Length in bytes of the input text, without copying it (0 when absent).

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", input="abc")])).spans()[0].input_len
        3
        """
        return self.info.input_len

    @property
    def output_len(self) -> int:
        """Length in bytes of the output text, without copying it (0 when absent or empty).

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", output="")])).spans()[0].output_len
        0
        """
        return self.info.output_len

    @property
    def attribute_count(self) -> int:
        """The number of attributes, without copying them.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x", attributes={"a": 1})])).spans()[0].attribute_count
        1
        """
        return self.info.attribute_count

    @cached_property
    def id(self) -> str:
        """The span id (copies one string).

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("00f067aa0ba902b7", "x")])).spans()[0].id
        '00f067aa0ba902b7'
        """
        return self.trace._source.span_id(self.index) or ""

    @cached_property
    def name(self) -> str:
        """The span name, e.g. ``chat gpt-4o`` (copies one string).

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "execute_tool get_weather")])).spans()[0].name
        'execute_tool get_weather'
        """
        return self.trace._source.span_name(self.index) or ""

    @cached_property
    def model(self) -> str | None:
        """The model of an LLM or embedding call (copies one string).

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "chat", model="gpt-4o")])).spans()[0].model
        'gpt-4o'
        """
        return self.trace._source.span_model(self.index)

    @cached_property
    def input(self) -> str | None:
        """The input text (copies it). For LLM calls, GenAI "parts" message JSON.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "tool", input='{"city":"Paris"}')])).spans()[0].input
        '{"city":"Paris"}'
        """
        return self.trace._source.span_input(self.index)

    @cached_property
    def output(self) -> str | None:
        """The output text (copies it): ``None`` when the instrumentation did not record
        it, ``""`` when it recorded an empty output. For LLM calls, GenAI "parts" message
        JSON: ``[{"role":"assistant","parts":[{"type":"text","content":"..."}]}]``.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x")])).spans()[0].output is None
        True
        """
        return self.trace._source.span_output(self.index)

    @cached_property
    def status_message(self) -> str | None:
        """Why the span failed, for an error status (copies one string).

        >>> from flowtrace_plugin import Span, TraceData
        >>> span = Span("01", "x", status=SpanStatus.ERROR, status_message="503")
        >>> Trace.from_data(TraceData(spans=[span])).spans()[0].status_message
        '503'
        """
        return self.trace._source.span_status_message(self.index)

    def attribute(self, key: str, default: AttributeValue = None) -> AttributeValue:
        """One attribute by key (copies that value alone), or ``default``.

        >>> from flowtrace_plugin import Span, TraceData, as_string_list
        >>> span = Span("01", "chat", attributes={"gen_ai.response.finish_reasons": ["length"]})
        >>> ref = Trace.from_data(TraceData(spans=[span])).spans()[0]
        >>> "length" in (as_string_list(ref.attribute("gen_ai.response.finish_reasons")) or [])
        True
        >>> ref.attribute("gen_ai.system", "unknown")
        'unknown'
        """
        value = self.trace._source.span_attribute(self.index, key)
        return default if value is MISSING else value

    @cached_property
    def attributes(self) -> dict[str, AttributeValue]:
        """Every attribute of the span, by key (copies them all).

        >>> from flowtrace_plugin import Span, TraceData
        >>> span = Span("01", "chat", attributes={"gen_ai.system": "openai", "other": 1})
        >>> [k for k in Trace.from_data(TraceData(spans=[span])).spans()[0].attributes if k.startswith("gen_ai.")]
        ['gen_ai.system']
        """
        return self.trace._source.span_attributes(self.index)

    @cached_property
    def finish_reasons(self) -> list[str]:
        """Why the model stopped generating, one entry per choice (``stop``, ``length``,
        ``tool_calls``, ...), as recorded; empty when not recorded. The host reads it from
        whichever convention recorded the span (OpenTelemetry GenAI, Traceloop,
        OpenInference's ``llm.finish_reason``, the Vercel AI SDK's
        ``ai.response.finishReason``).

        >>> from flowtrace_plugin import Span, SpanFacts, TraceData
        >>> trace = Trace.from_data(TraceData(spans=[Span("01", "chat")]),
        ...                         {"01": SpanFacts(finish_reasons=("length",))})
        >>> "length" in trace.spans()[0].finish_reasons
        True
        """
        return self.trace._source.span_finish_reasons(self.index)

    @cached_property
    def input_messages(self) -> list[Message]:
        """The messages the LLM call was sent, in order (copies them); empty when not
        recorded.

        >>> from flowtrace_plugin import Message, Span, SpanFacts, TraceData
        >>> facts = SpanFacts(input_messages=(Message(role="user", content="hi"),))
        >>> Trace.from_data(TraceData(spans=[Span("01", "chat")]), {"01": facts}).spans()[0].input_messages[0].content
        'hi'
        """
        return self.trace._source.span_messages(self.index, False)

    @cached_property
    def output_messages(self) -> list[Message]:
        """The messages the model answered, in order (copies them); empty when not recorded.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "chat")])).spans()[0].output_messages
        []
        """
        return self.trace._source.span_messages(self.index, True)

    @cached_property
    def tool_call(self) -> ToolCall | None:
        """The tool a tool span executed: name, call id, arguments and result. A tool-call
        span always has one (its name may be empty); another span only when it names a tool.

        >>> from flowtrace_plugin import Span, SpanFacts, ToolCall, TraceData
        >>> facts = SpanFacts(tool_call=ToolCall(name="get_weather", result="sunny"))
        >>> Trace.from_data(TraceData(spans=[Span("01", "tool")]), {"01": facts}).spans()[0].tool_call.result
        'sunny'
        """
        return self.trace._source.span_tool_call(self.index)

    @cached_property
    def error(self) -> SpanError | None:
        """What went wrong, for a span with an error status or an ``error.type``.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "x")])).spans()[0].error is None
        True
        """
        return self.trace._source.span_error(self.index)

    def to_span(self) -> Span:
        """The whole span by value, every string copied.

        >>> from flowtrace_plugin import Span, TraceData
        >>> Trace.from_data(TraceData(spans=[Span("01", "chat")])).spans()[0].to_span().name
        'chat'
        """
        return self.trace._source.span(self.index)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SpanRef) and other.trace is self.trace and other.index == self.index
        )

    def __hash__(self) -> int:
        return hash((id(self.trace), self.index))

    def __repr__(self) -> str:
        return f"<SpanRef {self.index}: {self.kind.value}>"


def _utf8_len(text: str | None) -> int:
    return 0 if text is None else len(text.encode("utf-8"))


class _DataSource:
    """A :class:`TraceSource` over a :class:`TraceData` in memory (:meth:`Trace.from_data`)."""

    def __init__(self, data: TraceData, facts: Mapping[str, SpanFacts]) -> None:
        self._data = data
        self._facts = facts

    def _facts_at(self, index: int) -> SpanFacts:
        return self._facts.get(self._span_at(index).id) or SpanFacts()

    def _span_at(self, index: int) -> Span:
        return self._data.spans[index]

    def id(self) -> str:
        return self._data.id

    def span_count(self) -> int:
        return len(self._data.spans)

    def input(self) -> str | None:
        return self._data.input

    def output(self) -> str | None:
        return self._data.output

    def attributes(self) -> dict[str, AttributeValue]:
        return copy.deepcopy(self._data.attributes)

    def span_infos(self) -> list[SpanInfo]:
        index_of = {span.id: i for i, span in enumerate(self._data.spans)}
        return [
            SpanInfo(
                kind=span.kind,
                status=span.status,
                parent=None if span.parent_id is None else index_of.get(span.parent_id),
                start_time_ns=span.start_time_ns,
                end_time_ns=span.end_time_ns,
                usage=span.usage,
                cost_usd=span.cost_usd,
                input_len=_utf8_len(span.input),
                output_len=_utf8_len(span.output),
                attribute_count=len(span.attributes),
            )
            for span in self._data.spans
        ]

    def spans_of_kind(self, kind: SpanKind) -> list[int]:
        return [i for i, span in enumerate(self._data.spans) if span.kind is kind]

    def span_id(self, index: int) -> str | None:
        return self._span_at(index).id

    def span_name(self, index: int) -> str | None:
        return self._span_at(index).name

    def span_model(self, index: int) -> str | None:
        return self._span_at(index).model

    def span_input(self, index: int) -> str | None:
        return self._span_at(index).input

    def span_output(self, index: int) -> str | None:
        return self._span_at(index).output

    def span_status_message(self, index: int) -> str | None:
        return self._span_at(index).status_message

    def span_attribute(self, index: int, key: str) -> AttributeValue:
        attributes = self._span_at(index).attributes
        return copy.deepcopy(attributes[key]) if key in attributes else MISSING

    def span_attributes(self, index: int) -> dict[str, AttributeValue]:
        return copy.deepcopy(self._span_at(index).attributes)

    def span_finish_reasons(self, index: int) -> list[str]:
        return list(self._facts_at(index).finish_reasons)

    def span_messages(self, index: int, output: bool) -> list[Message]:
        facts = self._facts_at(index)
        return list(facts.output_messages if output else facts.input_messages)

    def span_tool_call(self, index: int) -> ToolCall | None:
        return self._facts_at(index).tool_call

    def span_error(self, index: int) -> SpanError | None:
        return self._facts_at(index).error

    def span(self, index: int) -> Span:
        return copy.deepcopy(self._span_at(index))

    def to_data(self) -> TraceData:
        return copy.deepcopy(self._data)

    def close(self) -> None:
        pass
