"""The evaluator kind: :class:`Evaluator`, which scores traces, and its adapter to
``flowtrace:plugin/evaluator``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from .. import _host
from .._result import EvalResult
from .._trace import Trace
from ._bridge import Kind, error, fallible, flush, instance, traces

__all__ = ["Evaluator"]


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


class Adapter:
    """``flowtrace:plugin/evaluator`` over the plugin's :class:`Evaluator`."""

    def evaluate(self, trace: Any) -> Any:
        from .._convert import eval_result_to

        def call(plugin: Any) -> Any:
            result = plugin.evaluate(traces([trace])[0])
            return eval_result_to(result, f"`{type(plugin).__qualname__}.evaluate`")

        return fallible(call)

    def evaluate_batch(self, raw: list[Any]) -> list[Any]:
        from .._convert import ConversionError, eval_result_to

        ok_type = _host.wit("componentize_py_types").Ok
        try:
            try:
                plugin = instance()
                where = f"`{type(plugin).__qualname__}.evaluate_batch`"
                results = list(plugin.evaluate_batch(traces(raw)))
                if len(results) != len(raw):
                    raise ConversionError(
                        f"{where} returned {len(results)} results for {len(raw)} traces"
                    )
            except Exception as err:
                failure = error(err)
                return [failure for _ in raw]
            out: list[Any] = []
            for i, result in enumerate(results):
                try:
                    if isinstance(result, BaseException):
                        raise result
                    out.append(ok_type(eval_result_to(result, f"item {i} of {where}")))
                except Exception as err:
                    out.append(error(err))
            return out
        finally:
            flush()


KIND = Kind("evaluator", Evaluator, Adapter)
