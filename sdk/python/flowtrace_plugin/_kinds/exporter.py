"""The exporter kind: :class:`Exporter`, which writes traces in another format, the
:class:`ExportFormat` it names them with, and its adapter to ``flowtrace:plugin/exporter``."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._trace import Trace
from ._bridge import Kind, fallible, infallible, traces

__all__ = ["ExportFormat", "Exporter"]


@dataclass(frozen=True)
class ExportFormat:
    """A format an exporter writes.

    >>> ExportFormat("jsonl", "application/x-ndjson", "jsonl").name
    'jsonl'
    """

    name: str
    """Short name passed back to :meth:`Exporter.export`, e.g. ``jsonl``."""
    media_type: str
    """The media type of the output, e.g. ``application/x-ndjson``."""
    file_extension: str
    """The file extension, without the dot, e.g. ``jsonl``."""


class Exporter(ABC):
    """Writes traces in another format. Implement :meth:`formats` and :meth:`export`;
    decorate the class with ``@export``.

    >>> from flowtrace_plugin import InvalidInput, Trace, export
    >>> @export
    ... class SpanCounts(Exporter):
    ...     def formats(self) -> list[ExportFormat]:
    ...         return [ExportFormat("count", "text/plain", "txt")]
    ...
    ...     def export(self, format: str, traces: Sequence[Trace]) -> bytes:
    ...         if format != "count":
    ...             raise InvalidInput(f"unknown format `{format}`")
    ...         return "".join(f"{t.id} {t.span_count}\\n" for t in traces).encode()
    """

    @abstractmethod
    def formats(self) -> list[ExportFormat]:
        """The formats this exporter writes.

        >>> class Csv(Exporter):
        ...     def formats(self) -> list[ExportFormat]:
        ...         return [ExportFormat("csv", "text/csv", "csv")]
        ...     def export(self, format: str, traces: Sequence[Trace]) -> bytes:
        ...         return b""
        >>> Csv().formats()[0].media_type
        'text/csv'
        """

    @abstractmethod
    def export(self, format: str, traces: Sequence[Trace]) -> bytes | str:
        """Write ``traces`` in ``format`` (one of the names from :meth:`formats`). A
        ``str`` is sent as its UTF-8 encoding.

        >>> from flowtrace_plugin import TraceData
        >>> class Ids(Exporter):
        ...     def formats(self) -> list[ExportFormat]:
        ...         return [ExportFormat("ids", "text/plain", "txt")]
        ...     def export(self, format: str, traces: Sequence[Trace]) -> str:
        ...         return "".join(t.id + "\\n" for t in traces)
        >>> Ids().export("ids", [Trace.from_data(TraceData(id="t1"))])
        't1\\n'
        """


class Adapter:
    """``flowtrace:plugin/exporter`` over the plugin's :class:`Exporter`."""

    def formats(self) -> list[Any]:
        from .._convert import ConversionError

        def call(plugin: Any) -> list[Any]:
            exporter = importlib.import_module("wit_world.exports.exporter")
            out = []
            for fmt in plugin.formats():
                if not isinstance(fmt, ExportFormat):
                    raise ConversionError(
                        f"`{type(plugin).__qualname__}.formats` must return ExportFormat "
                        f"items, got {type(fmt).__name__} {fmt!r}"
                    )
                out.append(
                    exporter.ExportFormat(
                        name=fmt.name, media_type=fmt.media_type, file_extension=fmt.file_extension
                    )
                )
            return out

        return infallible(call)

    def export_traces(self, format: str, raw: list[Any]) -> bytes:
        from .._convert import ConversionError

        def call(plugin: Any) -> bytes:
            data = plugin.export(format, traces(raw))
            if isinstance(data, str):
                return data.encode("utf-8")
            if isinstance(data, (bytes, bytearray, memoryview)):
                return bytes(data)
            raise ConversionError(
                f"`{type(plugin).__qualname__}.export` must return bytes or str, "
                f"got {type(data).__name__}"
            )

        return fallible(call)


KIND = Kind("exporter", Exporter, Adapter)
