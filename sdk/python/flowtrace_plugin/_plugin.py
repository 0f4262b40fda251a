"""One base class per plugin kind, and :func:`export`, which makes a class the plugin.

A plugin is a class deriving from its kind's base (:class:`Evaluator`, :class:`Exporter`,
:class:`Embedder`, :class:`Transformer`), decorated with ``@export``, in the module the
build imports (``app.py``). Each call from the host runs in a fresh instance of the
component: the class is instantiated (without arguments) for the call, and nothing a
method stores on ``self`` or in a global survives to the next call (use
:mod:`flowtrace_plugin.kv` for that).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._data import TraceData
from ._result import EvalResult
from ._trace import Trace
from .errors import BuildError

__all__ = [
    "Embedder",
    "Evaluator",
    "ExportFormat",
    "Exporter",
    "Transformer",
    "export",
]


class Evaluator(ABC):
    """Scores traces. Implement :meth:`evaluate`; decorate the class with ``@export``.

    >>> from flowtrace_plugin import EvalResult, SpanStatus, Trace, export
    >>> @export
    ... class NoErrors(Evaluator):
    ...     def evaluate(self, trace: Trace) -> EvalResult:
    ...         errors = sum(1 for span in trace if span.status is SpanStatus.ERROR)
    ...         result = EvalResult.ok() if errors == 0 else EvalResult.fail()
    ...         return result.metric("errors", errors)
    """

    @abstractmethod
    def evaluate(self, trace: Trace) -> EvalResult:
        """Score one trace. Raise a :class:`~flowtrace_plugin.PluginError` to say the trace
        could not be scored; any other exception becomes ``failed``.

        >>> from flowtrace_plugin import EvalResult, Trace, TraceData
        >>> class AlwaysPass(Evaluator):
        ...     def evaluate(self, trace: Trace) -> EvalResult:
        ...         return EvalResult.ok(label="ok")
        >>> AlwaysPass().evaluate(Trace.from_data(TraceData())).label
        'ok'
        """

    def evaluate_batch(self, traces: Sequence[Trace]) -> list[EvalResult | Exception]:
        """Score several traces: one item per trace, in order, an :class:`EvalResult` or
        the exception that trace raised (a :class:`~flowtrace_plugin.PluginError` keeps its
        kind, any other becomes ``failed``). The default calls :meth:`evaluate` for each;
        override it to share work across traces.

        >>> from flowtrace_plugin import EvalResult, InvalidInput, Trace, TraceData
        >>> class NeedsSpans(Evaluator):
        ...     def evaluate(self, trace: Trace) -> EvalResult:
        ...         if trace.span_count == 0:
        ...             raise InvalidInput("the trace has no spans")
        ...         return EvalResult.ok()
        >>> NeedsSpans().evaluate_batch([Trace.from_data(TraceData())])
        [InvalidInput('the trace has no spans')]
        """
        results: list[EvalResult | Exception] = []
        for trace in traces:
            try:
                results.append(self.evaluate(trace))
            except Exception as err:  # noqa: BLE001 - each trace's error is its result
                results.append(err)
        return results


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


class Embedder(ABC):
    """Turns texts into vectors. Implement :meth:`dimension` and :meth:`embed`; decorate
    the class with ``@export``.

    The SDK checks what :meth:`embed` returns (one vector per text, each of
    :meth:`dimension` numbers); anything else becomes a ``failed`` error saying what was
    wrong.

    >>> from flowtrace_plugin import export
    >>> @export
    ... class Lengths(Embedder):
    ...     def dimension(self) -> int:
    ...         return 1
    ...
    ...     def embed(self, texts: list[str]) -> list[list[float]]:
    ...         return [[float(len(text))] for text in texts]
    """

    @abstractmethod
    def dimension(self) -> int:
        """The dimension of the vectors :meth:`embed` returns. The contract gives this
        call no way to fail: an exception here traps the component.

        >>> class MiniLm(Embedder):
        ...     def dimension(self) -> int:
        ...         return 384
        ...     def embed(self, texts: list[str]) -> list[list[float]]:
        ...         return [[0.0] * 384 for _ in texts]
        >>> MiniLm().dimension()
        384
        """

    @abstractmethod
    def embed(self, texts: list[str]) -> Sequence[Sequence[float]]:
        """One vector per text, in order.

        >>> class Zeros(Embedder):
        ...     def dimension(self) -> int:
        ...         return 2
        ...     def embed(self, texts: list[str]) -> list[list[float]]:
        ...         return [[0.0, 0.0] for _ in texts]
        >>> Zeros().embed(["a", "b"])
        [[0.0, 0.0], [0.0, 0.0]]
        """


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


PluginClass = type[Evaluator] | type[Exporter] | type[Embedder] | type[Transformer]
"""A plugin class, of any kind."""

KINDS: dict[str, type] = {
    "evaluator": Evaluator,
    "exporter": Exporter,
    "embedder": Embedder,
    "transformer": Transformer,
}
"""Each plugin kind (as ``kind`` in flowtrace.toml says it) and its base class."""

_exported: list[type] = []

_C = TypeVar("_C", bound=type)


def kind_of(cls: type) -> list[str]:
    """The kinds whose base ``cls`` derives from.

    >>> kind_of(Evaluator)
    ['evaluator']
    """
    return [kind for kind, base in KINDS.items() if issubclass(cls, base)]


def exported() -> list[type]:
    """The classes decorated with :func:`export` so far, in order."""
    return list(_exported)


def export(cls: _C) -> _C:
    """Make ``cls`` the plugin: the class the component's exports call. Use it once per
    plugin, on a class deriving from :class:`Evaluator`, :class:`Exporter`,
    :class:`Embedder` or :class:`Transformer` (matching ``kind`` in flowtrace.toml) that
    implements its abstract methods and can be instantiated without arguments.

    Mistakes raise :class:`~flowtrace_plugin.errors.BuildError` when the module is
    imported, which fails ``cargo flowtrace build`` with the message.

    >>> from flowtrace_plugin import EvalResult, Trace
    >>> @export
    ... class HasSpans(Evaluator):
    ...     def evaluate(self, trace: Trace) -> EvalResult:
    ...         return EvalResult(1.0, trace.span_count > 0)
    >>> @export
    ... class Unfinished(Evaluator):
    ...     pass
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.BuildError: `Unfinished` does not implement `evaluate` of `flowtrace_plugin.Evaluator`
    """
    if not inspect.isclass(cls):
        raise BuildError(
            f"`@export` decorates a class deriving from `flowtrace_plugin.Evaluator`, "
            f"`Exporter`, `Embedder` or `Transformer`, not {type(cls).__name__} `{cls!r}`"
        )
    name = cls.__qualname__
    kinds = kind_of(cls)
    if not kinds:
        raise BuildError(
            f"`{name}` is not a plugin class: derive it from `flowtrace_plugin.Evaluator`, "
            "`Exporter`, `Embedder` or `Transformer`"
        )
    if len(kinds) > 1:
        bases = " and ".join(f"`flowtrace_plugin.{KINDS[k].__name__}`" for k in kinds)
        raise BuildError(f"`{name}` derives from {bases}: a plugin has one kind")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        raise BuildError(
            f"`{name}` does not implement {listed} of `flowtrace_plugin.{KINDS[kinds[0]].__name__}`"
        )
    if cls not in _exported:
        _exported.append(cls)
    return cls
