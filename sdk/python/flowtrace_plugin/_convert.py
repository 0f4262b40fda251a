"""Conversions between the SDK's types and the generated ones (``wit_world.imports.types``),
and :class:`HostSource`, a trace read from the host. Only used inside a component (or
with the generated bindings on the path). Not public API."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable
from typing import Any

from ._attributes import AttributeValue, from_json_text, to_json_text
from ._data import Span, TraceData
from ._facts import Message, SpanError, ToolCall
from ._host import wit
from ._result import EvalResult, check_score
from ._span import SpanInfo, SpanKind, SpanStatus, TokenUsage
from ._trace import MISSING
from .errors import PluginError

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U64_MAX = 2**64 - 1


def _types() -> Any:
    return wit("types")


# -- from the host ----------------------------------------------------------------------


def span_kind_from(raw: Any) -> SpanKind:
    return SpanKind[raw.name]


def span_status_from(raw: Any) -> SpanStatus:
    return SpanStatus[raw.name]


def usage_from(raw: Any) -> TokenUsage:
    return TokenUsage(input=raw.input, output=raw.output, total=raw.total)


def info_from(raw: Any) -> SpanInfo:
    return SpanInfo(
        kind=SpanKind[raw.kind.name],
        status=SpanStatus[raw.status.name],
        parent=raw.parent,
        start_time_ns=raw.start_time_ns,
        end_time_ns=raw.end_time_ns,
        usage=TokenUsage(input=raw.usage.input, output=raw.usage.output, total=raw.usage.total),
        cost_usd=raw.cost_usd,
        input_len=raw.input_len,
        output_len=raw.output_len,
        attribute_count=raw.attribute_count,
    )


def value_from(raw: Any) -> AttributeValue:
    if type(raw) is _types().AttributeValue_Json:
        return from_json_text(raw.value)
    value: AttributeValue = raw.value
    return value


def attributes_from(raw: Iterable[Any]) -> dict[str, AttributeValue]:
    return {attribute.key: value_from(attribute.value) for attribute in raw}


def span_from(raw: Any) -> Span:
    return Span(
        id=raw.id,
        name=raw.name,
        kind=span_kind_from(raw.kind),
        parent_id=raw.parent_id,
        status=span_status_from(raw.status),
        status_message=raw.status_message,
        input=raw.input,
        output=raw.output,
        model=raw.model,
        start_time_ns=raw.start_time_ns,
        end_time_ns=raw.end_time_ns,
        usage=usage_from(raw.usage),
        cost_usd=raw.cost_usd,
        attributes=attributes_from(raw.attributes),
    )


def trace_data_from(raw: Any) -> TraceData:
    return TraceData(
        id=raw.id,
        input=raw.input,
        output=raw.output,
        attributes=attributes_from(raw.attributes),
        spans=[span_from(span) for span in raw.spans],
    )


def plugin_error_from(raw: Any) -> PluginError:
    from .errors import Failed, InvalidConfig, InvalidInput, Unavailable

    t = _types()
    kind = type(raw)
    if kind is t.PluginError_InvalidInput:
        return InvalidInput(raw.value)
    if kind is t.PluginError_InvalidConfig:
        return InvalidConfig(raw.value)
    if kind is t.PluginError_Unavailable:
        return Unavailable(raw.value)
    return Failed(str(raw.value))


def tool_call_from(raw: Any) -> ToolCall:
    """The SDK's :class:`ToolCall` from the generated record."""
    return ToolCall(name=raw.name, id=raw.id, arguments=raw.arguments, result=raw.result)


class HostSource:
    """A :class:`~flowtrace_plugin._trace.TraceSource` over the host's ``trace`` resource."""

    __slots__ = ("_owned", "_raw")

    def __init__(self, raw: Any, owned: bool = False) -> None:
        self._raw = raw
        self._owned = owned

    def id(self) -> str:
        return str(self._raw.id())

    def span_count(self) -> int:
        return int(self._raw.span_count())

    def input(self) -> str | None:
        value: str | None = self._raw.input()
        return value

    def output(self) -> str | None:
        value: str | None = self._raw.output()
        return value

    def attributes(self) -> dict[str, AttributeValue]:
        return attributes_from(self._raw.attributes())

    def span_infos(self) -> list[SpanInfo]:
        return [info_from(raw) for raw in self._raw.span_infos()]

    def spans_of_kind(self, kind: SpanKind) -> list[int]:
        return list(self._raw.spans_of_kind(_types().SpanKind[kind.name]))

    def span_id(self, index: int) -> str | None:
        value: str | None = self._raw.span_id(index)
        return value

    def span_name(self, index: int) -> str | None:
        value: str | None = self._raw.span_name(index)
        return value

    def span_model(self, index: int) -> str | None:
        value: str | None = self._raw.span_model(index)
        return value

    def span_input(self, index: int) -> str | None:
        value: str | None = self._raw.span_input(index)
        return value

    def span_output(self, index: int) -> str | None:
        value: str | None = self._raw.span_output(index)
        return value

    def span_status_message(self, index: int) -> str | None:
        value: str | None = self._raw.span_status_message(index)
        return value

    def span_attribute(self, index: int, key: str) -> AttributeValue:
        raw = self._raw.span_attribute(index, key)
        return MISSING if raw is None else value_from(raw)

    def span_attributes(self, index: int) -> dict[str, AttributeValue]:
        return attributes_from(self._raw.span_attributes(index))

    def span_finish_reasons(self, index: int) -> list[str]:
        return [str(reason) for reason in self._raw.span_finish_reasons(index)]

    def span_messages(self, index: int, output: bool) -> list[Message]:
        direction = _types().MessageDirection
        raw = self._raw.span_messages(index, direction.OUTPUT if output else direction.INPUT)
        return [
            Message(
                role=m.role,
                content=m.content,
                tool_calls=tuple(tool_call_from(c) for c in m.tool_calls),
                tool_call_id=m.tool_call_id,
                finish_reason=m.finish_reason,
            )
            for m in raw
        ]

    def span_tool_call(self, index: int) -> ToolCall | None:
        raw = self._raw.span_tool_call(index)
        return None if raw is None else tool_call_from(raw)

    def span_error(self, index: int) -> SpanError | None:
        raw = self._raw.span_error(index)
        return None if raw is None else SpanError(error_type=raw.error_type, message=raw.message)

    def span(self, index: int) -> Span:
        raw = self._raw.span(index)
        if raw is None:
            raise IndexError(f"span index {index} out of range")
        return span_from(raw)

    def to_data(self) -> TraceData:
        return trace_data_from(self._raw.to_data())

    def close(self) -> None:
        if self._owned:
            self._owned = False
            self._raw.__exit__(None, None, None)


# -- to the host ------------------------------------------------------------------------


class ConversionError(Exception):
    """A value a plugin returned does not fit the contract; the message says where."""


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError(f"{where} must be an integer, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise ConversionError(f"{where} is out of range ({low} to {high}): {value}")
    return value


def _opt_int(value: Any, where: str, low: int, high: int) -> int | None:
    return None if value is None else _int(value, where, low, high)


def _opt_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConversionError(f"{where} must be a float, got {type(value).__name__} {value!r}")
    return float(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConversionError(f"{where} must be a str, got {type(value).__name__} {value!r}")
    return value


def _opt_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def value_to(value: Any, where: str) -> Any:
    t = _types()
    if isinstance(value, str):
        return t.AttributeValue_Text(value)
    if isinstance(value, bool):
        return t.AttributeValue_Boolean(value)
    if isinstance(value, int):
        return t.AttributeValue_Integer(_int(value, where, I64_MIN, I64_MAX))
    if isinstance(value, float):
        return t.AttributeValue_Float(value)
    try:
        return t.AttributeValue_Json(to_json_text(value))
    except (TypeError, ValueError) as err:
        raise ConversionError(
            f"{where} must be a str, int, float, bool or a JSON value, got "
            f"{type(value).__name__}: {err}"
        ) from None


def attributes_to(attributes: Any, where: str) -> list[Any]:
    if not isinstance(attributes, dict):
        raise ConversionError(
            f"{where} must be a dict of attribute values, got {type(attributes).__name__}"
        )
    t = _types()
    return [
        t.Attribute(key=_text(key, f"a key of {where}"), value=value_to(value, f"{where}[{key!r}]"))
        for key, value in attributes.items()
    ]


def usage_to(usage: Any, where: str) -> Any:
    if not isinstance(usage, TokenUsage):
        raise ConversionError(f"{where} must be a TokenUsage, got {type(usage).__name__}")
    return _types().TokenUsage(
        input=_opt_int(usage.input, f"{where}.input", 0, U64_MAX),
        output=_opt_int(usage.output, f"{where}.output", 0, U64_MAX),
        total=_opt_int(usage.total, f"{where}.total", 0, U64_MAX),
    )


def span_to(span: Any, where: str) -> Any:
    if not isinstance(span, Span):
        raise ConversionError(f"{where} must be a Span, got {type(span).__name__}")
    t = _types()
    if not isinstance(span.kind, SpanKind):
        raise ConversionError(f"{where}.kind must be a SpanKind, got {span.kind!r}")
    if not isinstance(span.status, SpanStatus):
        raise ConversionError(f"{where}.status must be a SpanStatus, got {span.status!r}")
    return t.Span(
        id=_text(span.id, f"{where}.id"),
        parent_id=_opt_text(span.parent_id, f"{where}.parent_id"),
        name=_text(span.name, f"{where}.name"),
        kind=t.SpanKind[span.kind.name],
        status=t.SpanStatus[span.status.name],
        status_message=_opt_text(span.status_message, f"{where}.status_message"),
        input=_opt_text(span.input, f"{where}.input"),
        output=_opt_text(span.output, f"{where}.output"),
        model=_opt_text(span.model, f"{where}.model"),
        start_time_ns=_int(span.start_time_ns, f"{where}.start_time_ns", 0, U64_MAX),
        end_time_ns=_opt_int(span.end_time_ns, f"{where}.end_time_ns", 0, U64_MAX),
        usage=usage_to(span.usage, f"{where}.usage"),
        cost_usd=_opt_float(span.cost_usd, f"{where}.cost_usd"),
        attributes=attributes_to(span.attributes, f"{where}.attributes"),
    )


def trace_data_to(data: Any, where: str) -> Any:
    if not isinstance(data, TraceData):
        raise ConversionError(f"{where} must be a TraceData, got {type(data).__name__}")
    if not isinstance(data.spans, list):
        raise ConversionError(f"{where}.spans must be a list, got {type(data.spans).__name__}")
    return _types().TraceData(
        id=_text(data.id, f"{where}.id"),
        input=_opt_text(data.input, f"{where}.input"),
        output=_opt_text(data.output, f"{where}.output"),
        attributes=attributes_to(data.attributes, f"{where}.attributes"),
        spans=[span_to(span, f"{where}.spans[{i}]") for i, span in enumerate(data.spans)],
    )


def metric_value_to(value: Any, where: str) -> Any:
    t = _types()
    if isinstance(value, bool):
        return t.MetricValue_Boolean(value)
    if isinstance(value, int):
        return t.MetricValue_Integer(_int(value, where, I64_MIN, I64_MAX))
    if isinstance(value, float):
        return t.MetricValue_Float(value)
    if isinstance(value, str):
        return t.MetricValue_Text(value)
    raise ConversionError(
        f"{where} must be a float, int, bool or str, got {type(value).__name__} {value!r}"
    )


def eval_result_to(result: Any, where: str) -> Any:
    if not isinstance(result, EvalResult):
        raise ConversionError(
            f"{where} must return an `EvalResult`, got {type(result).__name__} {result!r}"
        )
    try:
        score = check_score(result.score)
    except (TypeError, ValueError) as err:
        raise ConversionError(f"{where} returned an invalid result: {err}") from None
    if not isinstance(result.passed, bool):
        raise ConversionError(
            f"{where} returned `passed = {result.passed!r}`: it must be True or False"
        )
    if not isinstance(result.metrics, dict):
        raise ConversionError(f"{where} returned metrics that are not a dict: {result.metrics!r}")
    t = _types()
    metrics = [
        t.Metric(
            name=_text(name, f"a metric name of {where}"),
            value=metric_value_to(value, f"metric `{name}` of {where}"),
        )
        for name, value in result.metrics.items()
    ]
    findings = []
    for i, finding in enumerate(result.findings):
        message = getattr(finding, "message", None)
        span_id = getattr(finding, "span_id", None)
        findings.append(
            t.Finding(
                span_id=_opt_text(span_id, f"finding {i} of {where}: its span_id"),
                message=_text(message, f"finding {i} of {where}: its message"),
            )
        )
    return t.EvalResult(
        score=score,
        passed=result.passed,
        label=_opt_text(result.label, f"the label of {where}"),
        explanation=_opt_text(result.explanation, f"the explanation of {where}"),
        metrics=metrics,
        findings=findings,
    )


# -- errors -----------------------------------------------------------------------------


def plugin_error_to(error: BaseException, user_dir: str | None) -> Any:
    """The contract's ``plugin-error`` for an exception a plugin method raised."""
    t = _types()
    if isinstance(error, PluginError):
        variant = {
            "invalid-input": t.PluginError_InvalidInput,
            "invalid-config": t.PluginError_InvalidConfig,
            "unavailable": t.PluginError_Unavailable,
        }.get(error.kind, t.PluginError_Failed)
        return variant(error.message)
    if isinstance(error, ConversionError):
        return t.PluginError_Failed(str(error))
    return t.PluginError_Failed(describe(error, user_dir))


def describe(error: BaseException, user_dir: str | None) -> str:
    """``Type: message (at file.py:12, in function)``: the exception and the innermost
    frame of the plugin's own code (the innermost frame of all when none is)."""
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    text = f"{name}: {error}" if str(error) else name
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return text
    frame = frames[-1]
    if user_dir:
        own = [f for f in frames if _is_under(f.filename, user_dir)]
        if own:
            frame = own[-1]
    return f"{text} (at {_shown(frame.filename, user_dir)}:{frame.lineno}, in {frame.name})"


def failure_report(error: BaseException, summary: str, user_dir: str | None) -> dict[str, Any]:
    """What the host is told of an exception the plugin did not catch (see
    ``_kinds._bridge.report``): its type, message and place as :func:`describe` finds them,
    and its traceback innermost frame first, of the plugin's own frames when it has any
    (componentize-py's and the SDK's are not the author's code), each
    ``file.py:line in function`` with the path relative to the plugin's directory.

    >>> def f():
    ...     raise ValueError("bad")
    >>> try:
    ...     f()
    ... except ValueError as err:
    ...     r = failure_report(err, "s", None)
    >>> r["exception"], r["message"], r["backtrace"][0].endswith(":2 in f"), r["stack-overflow"]
    ('ValueError', 'bad', True, False)
    """
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if user_dir and _is_under(f.filename, user_dir)] or frames
    shown = [f"{_shown(f.filename, user_dir)}:{f.lineno} in {f.name}" for f in reversed(own)]
    # The host folds a recursion's repeated frames and keeps the innermost 64 lines.
    if len(shown) > 4096:
        shown = shown[:4096]
    return {
        "summary": summary,
        "exception": name,
        "message": str(error),
        "location": shown[0] if shown else None,
        "backtrace": shown,
        "stack-overflow": isinstance(error, RecursionError),
    }


def _is_under(path: str, directory: str) -> bool:
    return os.path.abspath(path).startswith(os.path.join(os.path.abspath(directory), ""))


def _shown(path: str, user_dir: str | None) -> str:
    if user_dir and _is_under(path, user_dir):
        return os.path.relpath(os.path.abspath(path), os.path.abspath(user_dir))
    return os.path.basename(path)
