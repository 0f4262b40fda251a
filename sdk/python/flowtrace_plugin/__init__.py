"""Write Flowtrace plugins in Python.

A Flowtrace plugin is a WebAssembly component that runs over the traces of LLM agents: an
**evaluator** scores a trace, an **exporter** writes traces in another format, an
**embedder** turns texts into vectors, a **transformer** rewrites traces. With this package
a plugin is one class deriving from its kind's base (:class:`Evaluator`, :class:`Exporter`,
:class:`Embedder`, :class:`Transformer`) and decorated with :func:`export`, in ``app.py``
next to ``flowtrace.toml``; no generated bindings to touch::

    from flowtrace_plugin import EvalResult, Evaluator, SpanKind, Trace, export


    @export
    class EmptyOutput(Evaluator):
        \"\"\"Fails traces whose LLM calls produced no output.\"\"\"

        def evaluate(self, trace: Trace) -> EvalResult:
            llm_calls = trace.spans_of_kind(SpanKind.LLM_CALL)
            result = EvalResult.ok(label="ok").metric("llm-spans", len(llm_calls))
            for span in llm_calls:
                if span.output_len == 0:
                    result.finding("empty output", span_id=span.id)
            if result.findings:
                result.score = 1.0 - len(result.findings) / len(llm_calls)
                result.passed, result.label = False, "empty-output"
            return result

Build it with ``cargo flowtrace build`` (componentize-py, provisioned on first use) and run
its fixtures with ``cargo flowtrace test``.

**Reading traces.** The trace stays in the host. :class:`Trace` fetches what you read:
:class:`SpanRef` reads kinds, statuses, times, token counts and text lengths from one call
per trace, and copies a string (``name``, ``output``, an attribute) only when you read that
string. A plugin that looks at span kinds and token counts never pays for copying prompts.

**Capabilities.** :mod:`~flowtrace_plugin.log` and :mod:`~flowtrace_plugin.config` are
always available. The other host interfaces exist only when the plugin declares their
capability under ``[capabilities]`` in ``flowtrace.toml``:

=======================  ==================================
``[capabilities]``       module
=======================  ==================================
``storage = true``       :mod:`flowtrace_plugin.kv`
``traces = true``        :mod:`flowtrace_plugin.traces`
``embeddings = true``    :mod:`flowtrace_plugin.embeddings`
``network = {hosts=..}`` :mod:`flowtrace_plugin.http`
=======================  ==================================

Importing one of these modules without its capability fails the build with
``flowtrace_plugin.errors.CapabilityNotDeclared`` naming the line to add (imported inside a
function, it fails that call with the same error). ``env`` and
``fs-read`` need nothing from this package (``os.environ`` and ``open`` see what they grant).

**Unit tests.** Outside a component there is no host: build traces with
:meth:`Trace.from_data` and run host calls inside :func:`flowtrace_plugin.testing.host`.
"""

from __future__ import annotations

from . import _kinds, config, log
from ._attributes import AttributeValue, as_string_list
from ._data import Span, TraceData
from ._facts import Message, SpanError, SpanFacts, ToolCall
from ._kinds import *  # noqa: F403 - the base class of each kind, listed in `_kinds.__all__`
from ._plugin import export
from ._result import EvalResult, Finding, MetricValue
from ._span import SpanInfo, SpanKind, SpanStatus, TokenUsage
from ._trace import SpanRef, Trace
from .errors import Failed, InvalidConfig, InvalidInput, PluginError, Unavailable

__version__ = "0.1.0"
"""The SDK's version; it targets the contract ``flowtrace:plugin@0.1.0``."""

__all__ = [
    "AttributeValue",
    "EvalResult",
    "Failed",
    "Finding",
    "InvalidConfig",
    "InvalidInput",
    "Message",
    "MetricValue",
    "PluginError",
    "Span",
    "SpanError",
    "SpanFacts",
    "SpanInfo",
    "SpanKind",
    "SpanRef",
    "SpanStatus",
    "TokenUsage",
    "ToolCall",
    "Trace",
    "TraceData",
    "Unavailable",
    "as_string_list",
    "config",
    "export",
    "log",
]
__all__ += _kinds.__all__
