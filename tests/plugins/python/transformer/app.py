"""The contract transformer: drops traces without spans and returns the others whole, with
one trace attribute of each type appended. The Rust and TypeScript ones do the same; the
rules are in the README's "Contract suite" section."""

from collections.abc import Sequence

from flowtrace_plugin import Trace, TraceData, Transformer, export


@export
class Plugin(Transformer):
    def transform(self, traces: Sequence[Trace]) -> list[TraceData]:
        out = []
        for trace in traces:
            if trace.span_count == 0:
                continue
            data = trace.to_data()
            data.attributes["contract.spans"] = len(data.spans)
            data.attributes["contract.text"] = "✓ 😀"
            data.attributes["contract.float"] = 0.25
            data.attributes["contract.flag"] = True
            data.attributes["contract.json"] = ["a", 1]
            out.append(data)
        return out
