"""The contract evaluator: reports every fact it can read of a trace as metrics, findings
and an explanation, in a fixed order. The Rust and TypeScript ones do exactly the same; the
rules are in the README's "Contract suite" section."""

import json
from typing import Any

from flowtrace_plugin import EvalResult, Evaluator, SpanStatus, Trace, config, export

_ABSENT = object()

# The traces this instance has evaluated: every trace has an instance of its own, so 1.
_evaluations = 0


def typed(value: Any) -> Any:
    """An attribute value as a metric value: `json` (parsed by the SDK) becomes text with a
    `json:` prefix."""
    if isinstance(value, (str, bool, int, float)):
        return value
    return "json:" + json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@export
class Plugin(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        label = config.require("label", str)
        scale = config.require("scale", int)
        weight = config.require("weight", float)
        strict = config.require("strict", bool)
        tags = config.require("tags", list)
        detail = config.require("detail", int)
        pad = config.require("pad", int)

        m: list[tuple[str, Any]] = [
            ("config.label", label),
            ("config.scale", scale),
            ("config.weight", weight),
            ("config.strict", strict),
            ("config.tags", "|".join(tags)),
            ("config.tag-count", len(tags)),
        ]
        global _evaluations
        _evaluations += 1
        m.append(("instance.evaluations", _evaluations))
        trace_id = trace.id
        count = trace.span_count
        m.append(("trace.id", trace_id))
        m.append(("trace.span-count", count))
        if trace.input is not None:
            m.append(("trace.input", trace.input))
        if trace.output is not None:
            m.append(("trace.output", trace.output))
        for key, value in trace.attributes.items():
            m.append((f"trace.attr.{key}", typed(value)))

        # Aggregates over every span, from the span facts alone.
        infos = trace.infos
        for kind in ("llm-call", "tool-call", "retrieval", "agent-step", "embedding", "custom"):
            m.append((f"spans.{kind}", sum(1 for i in infos if i.kind.value == kind)))
        for status in ("unset", "ok", "error"):
            m.append((f"spans.{status}", sum(1 for i in infos if i.status.value == status)))
        for name in ("input", "output", "total"):
            tokens = (getattr(i.usage, name) for i in infos)
            m.append((f"tokens.{name}", str(sum(t for t in tokens if t is not None))))
        durations = sum(
            i.end_time_ns - i.start_time_ns
            for i in infos
            if i.end_time_ns is not None and i.end_time_ns >= i.start_time_ns
        )
        m.append(("durations", str(durations)))
        cost = 0.0
        for i in infos:
            if i.cost_usd is not None:
                cost += i.cost_usd
        m.append(("cost.sum", cost))
        m.append(("len.input", sum(i.input_len for i in infos)))
        m.append(("len.output", sum(i.output_len for i in infos)))
        m.append(("len.attributes", sum(i.attribute_count for i in infos)))
        m.append(("roots", sum(1 for i in infos if i.parent is None)))

        # Every fact of the first `detail` spans, each string read on its own.
        result = EvalResult(score=1.0 if count == 0 else 0.5, passed=True)
        shown = min(max(detail, 0), count)
        for span in trace.spans()[:shown]:
            p = f"span.{span.index}."
            info = span.info
            m.append((p + "kind", info.kind.value))
            m.append((p + "status", info.status.value))
            if info.parent is not None:
                m.append((p + "parent", info.parent))
            m.append((p + "start", str(info.start_time_ns)))
            if info.end_time_ns is not None:
                m.append((p + "end", str(info.end_time_ns)))
            usage = (
                ("input-tokens", info.usage.input),
                ("output-tokens", info.usage.output),
                ("total-tokens", info.usage.total),
            )
            for name, tokens in usage:
                if tokens is not None:
                    m.append((p + name, str(tokens)))
            if info.cost_usd is not None:
                m.append((p + "cost", info.cost_usd))
            m.append((p + "input-len", info.input_len))
            m.append((p + "output-len", info.output_len))
            m.append((p + "attr-count", info.attribute_count))
            span_id = span.id
            m.append((p + "id", span_id))
            m.append((p + "name", span.name))
            texts = (
                ("model", span.model),
                ("input", span.input),
                ("output", span.output),
                ("status-message", span.status_message),
            )
            for name, text in texts:
                if text is not None:
                    m.append((p + name, text))
            for key, value in span.attributes.items():
                m.append((f"{p}attr.{key}", typed(value)))
            probe = span.attribute("probe", _ABSENT)
            m.append((p + "probe-found", probe is not _ABSENT))
            if probe is not _ABSENT:
                m.append((p + "probe", typed(probe)))
            if info.status is SpanStatus.ERROR:
                why = span.status_message
                result.finding(why if why is not None else "no message", span_id=span_id)
                result.passed = False
        result.finding(f"{count} spans, {shown} shown")
        result.label = label
        result.explanation = f"trace {trace_id}" + "~" * max(pad, 0)
        for name, value in m:
            result.metric(name, value)
        return result
