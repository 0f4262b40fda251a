"""The fixed-size facts of a span: :class:`SpanKind`, :class:`SpanStatus`,
:class:`TokenUsage`, :class:`SpanInfo`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["SpanInfo", "SpanKind", "SpanStatus", "TokenUsage"]


class SpanKind(enum.Enum):
    """What a span represents in an LLM application; the value is the contract's name.

    >>> SpanKind.LLM_CALL.value
    'llm-call'
    >>> str(SpanKind.TOOL_CALL)
    'tool-call'
    >>> SpanKind("agent-step") is SpanKind.AGENT_STEP
    True
    """

    LLM_CALL = "llm-call"
    """A call to a language model (chat, completion)."""
    TOOL_CALL = "tool-call"
    """A tool (function) call."""
    RETRIEVAL = "retrieval"
    """A retrieval from a document store."""
    AGENT_STEP = "agent-step"
    """A step of an agent (a run, a task, a chain)."""
    EMBEDDING = "embedding"
    """A call to an embedding model."""
    CUSTOM = "custom"
    """Anything else."""

    def __str__(self) -> str:
        return self.value


class SpanStatus(enum.Enum):
    """The outcome of a span, as recorded by the instrumentation.

    >>> SpanStatus.ERROR.value
    'error'
    >>> str(SpanStatus.UNSET)
    'unset'
    """

    UNSET = "unset"
    """Not recorded (most successful spans)."""
    OK = "ok"
    """Explicitly successful."""
    ERROR = "error"
    """Failed; the span's status message says why."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of an LLM or embedding call, when the instrumentation recorded them.

    >>> usage = TokenUsage(input=120, output=30)
    >>> usage.total_or_sum()
    150
    >>> TokenUsage(input=1).total_or_sum() is None
    True
    """

    input: int | None = None
    """Prompt tokens."""
    output: int | None = None
    """Completion tokens."""
    total: int | None = None
    """Total as recorded (never computed by the host)."""

    def total_or_sum(self) -> int | None:
        """The recorded total, or input + output when both are known.

        >>> TokenUsage(input=10, output=5, total=20).total_or_sum()
        20
        """
        if self.total is not None:
            return self.total
        if self.input is None or self.output is None:
            return None
        return self.input + self.output


@dataclass(frozen=True)
class SpanInfo:
    """The fixed-size facts of a span: no strings, so the host copies a few bytes per span.

    Usually read through :class:`~flowtrace_plugin.SpanRef` (``span.kind``,
    ``span.usage``, ...); :attr:`Trace.infos <flowtrace_plugin.Trace.infos>` gives them all.

    >>> info = SpanInfo(kind=SpanKind.LLM_CALL, start_time_ns=1_000, end_time_ns=3_500)
    >>> info.duration_ns
    2500
    >>> info.status
    <SpanStatus.UNSET: 'unset'>
    """

    kind: SpanKind
    """What the span represents."""
    status: SpanStatus = SpanStatus.UNSET
    """Its outcome."""
    parent: int | None = None
    """Index of the parent span in this trace, if the parent is part of it."""
    start_time_ns: int = 0
    """Start, nanoseconds since the Unix epoch."""
    end_time_ns: int | None = None
    """End, nanoseconds since the Unix epoch, when recorded."""
    usage: TokenUsage = TokenUsage()
    """Token counts."""
    cost_usd: float | None = None
    """Cost in US dollars, when known."""
    input_len: int = 0
    """Length in bytes (UTF-8) of the input text; 0 when absent."""
    output_len: int = 0
    """Length in bytes (UTF-8) of the output text; 0 when absent."""
    attribute_count: int = 0
    """Number of attributes on the span."""

    @property
    def duration_ns(self) -> int | None:
        """End minus start, when the end is recorded (0 if the clock went backwards).

        >>> SpanInfo(kind=SpanKind.CUSTOM, start_time_ns=5).duration_ns is None
        True
        """
        if self.end_time_ns is None:
            return None
        return max(0, self.end_time_ns - self.start_time_ns)
