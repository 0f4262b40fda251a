"""The contract exporter: `dump` writes every field of every span (each read whole) in a
fixed text form, `ids` one trace id a line. The Rust and TypeScript ones write the same
bytes; the rules are in the README's "Contract suite" section."""

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from flowtrace_plugin import Exporter, ExportFormat, InvalidInput, Trace, export


def opt(value: Any) -> str:
    """An optional text: `=` and the text, or `!`."""
    return "!" if value is None else f"={value}"


def float_text(f: float) -> str:
    """A float by its bits (16 hex digits), NaN as `NaN` (its payload is not kept)."""
    return "NaN" if math.isnan(f) else struct.pack(">d", f).hex()


def attributes(out: list[str], attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        if isinstance(value, str):
            text = f"text:{value}"
        elif isinstance(value, bool):
            text = f"boolean:{'true' if value else 'false'}"
        elif isinstance(value, int):
            text = f"integer:{value}"
        elif isinstance(value, float):
            text = f"float:{float_text(value)}"
        else:
            text = "json:" + json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        out.append(f"attr\t{key}\t{text}\n")


def dump(out: list[str], trace: Trace) -> None:
    count = trace.span_count
    out.append(f"trace\t{trace.id}\t{count}\n")
    out.append(f"input\t{opt(trace.input)}\n")
    out.append(f"output\t{opt(trace.output)}\n")
    attributes(out, trace.attributes)
    for index in range(count):
        ref = trace.span(index)
        if ref is None:
            continue
        s = ref.to_span()
        fields = [
            "span",
            str(index),
            s.id,
            opt(s.parent_id),
            s.name,
            s.kind.value,
            s.status.value,
            opt(s.status_message),
            opt(s.input),
            opt(s.output),
            opt(s.model),
            str(s.start_time_ns),
            opt(s.end_time_ns),
            opt(s.usage.input),
            opt(s.usage.output),
            opt(s.usage.total),
            opt(None if s.cost_usd is None else float_text(s.cost_usd)),
        ]
        out.append("\t".join(fields) + "\n")
        attributes(out, s.attributes)


@export
class Plugin(Exporter):
    def formats(self) -> list[ExportFormat]:
        return [
            ExportFormat("dump", "text/plain; charset=utf-8", "txt"),
            ExportFormat("ids", "text/plain", "ids"),
        ]

    def export(self, format: str, traces: Sequence[Trace]) -> str:
        out: list[str] = []
        if format == "dump":
            for trace in traces:
                dump(out, trace)
        elif format == "ids":
            out.extend(f"{trace.id}\n" for trace in traces)
        else:
            raise InvalidInput(f"unknown format `{format}`")
        return "".join(out)
