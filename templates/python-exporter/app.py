"""A Flowtrace exporter: writes traces as JSON lines, one line per span with its ids, name,
kind, status, timing, token usage and cost (`jsonl`). Prompts and completions are not
copied out of the host, only their lengths.

The `include-model` setting adds each span's model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowtrace_plugin import (
    Exporter,
    ExportFormat,
    InvalidInput,
    SpanRef,
    Trace,
    config,
    export,
)


@export
class Plugin(Exporter):
    def formats(self) -> list[ExportFormat]:
        return [ExportFormat("jsonl", "application/x-ndjson", "jsonl")]

    def export(self, format: str, traces: Sequence[Trace]) -> bytes:
        if format != "jsonl":
            raise InvalidInput(f"unknown format `{format}`: this exporter writes `jsonl`")
        include_model = config.require("include-model", bool)
        lines = []
        for trace in traces:
            # one copy of each span id, so parents are looked up by index
            ids = [span.id for span in trace.spans()]
            for span in trace.spans():
                line = summary(trace.id, ids, span, include_model)
                text = json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                lines.append(text)
        return "".join(line + "\n" for line in lines).encode("utf-8")


def summary(trace_id: str, ids: list[str], span: SpanRef, include_model: bool) -> dict[str, Any]:
    info = span.info
    line: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": ids[span.index],
        "parent_id": None if info.parent is None else ids[info.parent],
        "name": span.name,
        "kind": info.kind.value,
        "status": info.status.value,
        "start_time_ns": info.start_time_ns,
        "duration_ns": info.duration_ns,
        "input_tokens": info.usage.input,
        "output_tokens": info.usage.output,
        "cost_usd": info.cost_usd,
        "input_len": info.input_len,
        "output_len": info.output_len,
    }
    if include_model:
        line["model"] = span.model
    return line
