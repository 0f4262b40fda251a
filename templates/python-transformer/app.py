"""A Flowtrace transformer: redacts email addresses from every text of a trace (inputs,
outputs, status messages and text attributes, where instrumentations keep copies of
prompts) and records how many it replaced in the trace attribute
`flowtrace.redacted.emails`.

The `replacement` setting is what each address becomes (default `[email]`).
"""

from __future__ import annotations

from collections.abc import Sequence

from flowtrace_plugin import AttributeValue, Trace, TraceData, Transformer, config, export

from redact import redact


@export
class Plugin(Transformer):
    def transform(self, traces: Sequence[Trace]) -> list[TraceData]:
        replacement = config.require("replacement", str)
        return [Redactor(replacement).trace(trace.to_data()) for trace in traces]


class Redactor:
    """Redacts the texts of one trace, counting the addresses replaced."""

    def __init__(self, replacement: str) -> None:
        self.replacement = replacement
        self.count = 0

    def trace(self, data: TraceData) -> TraceData:
        data.input = self.text(data.input)
        data.output = self.text(data.output)
        data.attributes = self.attributes(data.attributes)
        for span in data.spans:
            span.input = self.text(span.input)
            span.output = self.text(span.output)
            span.status_message = self.text(span.status_message)
            span.attributes = self.attributes(span.attributes)
        if self.count:
            data.attributes["flowtrace.redacted.emails"] = self.count
        return data

    def text(self, text: str | None) -> str | None:
        if text is None:
            return None
        redacted = redact(text, self.replacement)
        if redacted is None:
            return text
        self.count += redacted[1]
        return redacted[0]

    def attributes(self, attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        return {key: self.value(value) for key, value in attributes.items()}

    def value(self, value: AttributeValue) -> AttributeValue:
        """Strings are redacted, inside arrays and maps (keys included) too."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key) or key: self.value(item) for key, item in value.items()}
        return value
