"""The normalized facts of a span that are not fixed-size: :class:`Message`,
:class:`ToolCall`, :class:`SpanError`, and :class:`SpanFacts` to give them to
:meth:`Trace.from_data <flowtrace_plugin.Trace.from_data>` in unit tests.

The host reads them from whichever GenAI convention recorded the span (OpenTelemetry GenAI,
Traceloop/OpenLLMetry, OpenInference, the Vercel AI SDK), so a plugin reads one shape;
``docs/trace-model.md`` lists the attributes behind each."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Message", "SpanError", "SpanFacts", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """One tool call: one a model asked for (in a :class:`Message`), or one a tool span
    executed (:attr:`SpanRef.tool_call <flowtrace_plugin.SpanRef.tool_call>`).

    >>> ToolCall(name="get_weather", arguments='{"city":"Paris"}').result is None
    True
    """

    name: str = ""
    """The tool's (function's) name; empty when the source recorded none."""
    id: str | None = None
    """The id that ties a model's request to its execution and its result."""
    arguments: str | None = None
    """The arguments as recorded, usually JSON text."""
    result: str | None = None
    """What the tool returned, for an executed tool; ``None`` in a message."""


@dataclass(frozen=True)
class Message:
    """One message sent to or received from a model.

    >>> Message(role="assistant", finish_reason="length").was_cut_off
    True
    """

    role: str = ""
    """``system``, ``user``, ``assistant``, ``tool``, ... as recorded; empty when not
    recorded."""
    content: str | None = None
    """The text of the message (its text parts joined by newlines), when it has text."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The tool calls the message asks for."""
    tool_call_id: str | None = None
    """For a tool result: the id of the call it answers."""
    finish_reason: str | None = None
    """Why the model stopped, on an output message that records it."""

    @property
    def was_cut_off(self) -> bool:
        """The model stopped at the token limit (finish reason ``length``).

        >>> Message().was_cut_off
        False
        """
        return self.finish_reason == "length"


@dataclass(frozen=True)
class SpanError:
    """What went wrong in a span: from its status, ``error.type`` and exception events.

    >>> SpanError(error_type="TimeoutError").message is None
    True
    """

    error_type: str | None = None
    """The error's type or class (``error.type``, ``exception.type``), when recorded."""
    message: str | None = None
    """What happened (the status message, or ``exception.message``), when recorded."""


@dataclass(frozen=True)
class SpanFacts:
    """The normalized facts of one span, for :meth:`Trace.from_data
    <flowtrace_plugin.Trace.from_data>`: without a host nothing normalizes attributes, so a
    unit test states the facts it wants the plugin to see.

    >>> SpanFacts(finish_reasons=("length",)).finish_reasons
    ('length',)
    """

    finish_reasons: tuple[str, ...] = ()
    """Why the model stopped, one entry per choice."""
    input_messages: tuple[Message, ...] = ()
    """The messages the call was sent."""
    output_messages: tuple[Message, ...] = ()
    """The messages the model answered."""
    tool_call: ToolCall | None = None
    """The tool a tool span executed."""
    error: SpanError | None = field(default=None)
    """What went wrong."""
