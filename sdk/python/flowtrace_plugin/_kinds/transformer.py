"""The transformer kind: :class:`Transformer`, which rewrites traces, and its adapter to
``flowtrace:plugin/transformer``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from .._data import TraceData
from .._trace import Trace
from ._bridge import Kind, fallible, traces

__all__ = ["Transformer"]


class Transformer(ABC):
    """Rewrites traces (redaction, enrichment, sampling). Implement :meth:`transform`;
    decorate the class with ``@export``.

    Traces come in as :class:`~flowtrace_plugin.Trace` (read on demand) and go out as
    :class:`~flowtrace_plugin.TraceData` (by value): start from
    :meth:`Trace.to_data <flowtrace_plugin.Trace.to_data>` and change what you need.

    >>> from flowtrace_plugin import Trace, TraceData, export
    >>> @export
    ... class StripContent(Transformer):
    ...     def transform(self, traces: Sequence[Trace]) -> list[TraceData]:
    ...         out = []
    ...         for trace in traces:
    ...             data = trace.to_data()
    ...             for span in data.spans:
    ...                 span.input = span.output = None
    ...             out.append(data)
    ...         return out
    """

    @abstractmethod
    def transform(self, traces: Sequence[Trace]) -> list[TraceData]:
        """The rewritten traces; a trace left out is dropped (sampling).

        >>> from flowtrace_plugin import SpanStatus, Trace, TraceData
        >>> class KeepErrors(Transformer):
        ...     def transform(self, traces: Sequence[Trace]) -> list[TraceData]:
        ...         return [t.to_data() for t in traces
        ...                 if any(s.status is SpanStatus.ERROR for s in t)]
        >>> KeepErrors().transform([Trace.from_data(TraceData(id="t"))])
        []
        """


class Adapter:
    """``flowtrace:plugin/transformer`` over the plugin's :class:`Transformer`."""

    def transform(self, raw: list[Any]) -> list[Any]:
        from .._convert import ConversionError, trace_data_to

        def call(plugin: Any) -> list[Any]:
            where = f"`{type(plugin).__qualname__}.transform`"
            out = plugin.transform(traces(raw))
            if not isinstance(out, (list, tuple)):
                raise ConversionError(
                    f"{where} must return a list of TraceData, got {type(out).__name__}"
                )
            return [
                trace_data_to(data, f"item {i} of what {where} returned")
                for i, data in enumerate(out)
            ]

        return fallible(call)


KIND = Kind("transformer", Transformer, Adapter)
