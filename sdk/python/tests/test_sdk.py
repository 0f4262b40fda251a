"""Tests of the SDK in a plain interpreter: traces in memory, the stand-in host, results,
the export decorator. Run from `sdk/python`: `python -m unittest discover -s tests`."""

from __future__ import annotations

import doctest
import importlib
import math
import unittest
from collections.abc import Sequence
from typing import Any

import flowtrace_plugin
from flowtrace_plugin import (
    EvalResult,
    Evaluator,
    Exporter,
    ExportFormat,
    InvalidConfig,
    InvalidInput,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    Trace,
    TraceData,
    _kinds,
    _plugin,
    config,
    export,
    log,
    testing,
)
from flowtrace_plugin.errors import BuildError, CapabilityNotDeclared, NotInComponent

MODULES = [
    "flowtrace_plugin",
    "flowtrace_plugin._attributes",
    "flowtrace_plugin._data",
    *(f"flowtrace_plugin._kinds.{kind.name}" for kind in _kinds.ALL),
    "flowtrace_plugin._plugin",
    "flowtrace_plugin._result",
    "flowtrace_plugin._span",
    "flowtrace_plugin._trace",
    "flowtrace_plugin.config",
    "flowtrace_plugin.embeddings",
    "flowtrace_plugin.errors",
    "flowtrace_plugin.kv",
    "flowtrace_plugin.log",
    "flowtrace_plugin.testing",
    "flowtrace_plugin.traces",
]


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: Any) -> Any:
    """Every docstring example is a test too."""
    for name in MODULES:
        tests.addTests(doctest.DocTestSuite(importlib.import_module(name)))
    return tests


def agent() -> TraceData:
    return TraceData(
        id="4bf92f3577b34da6a3ce929d0e0e4736",
        input="What is the weather in Paris?",
        attributes={"service.name": "agent", "tags": ["a", "b"]},
        spans=[
            Span("01", "weather-agent", SpanKind.AGENT_STEP, start_time_ns=0, end_time_ns=2_000),
            Span(
                "02",
                "chat gpt-4o-mini",
                SpanKind.LLM_CALL,
                parent_id="01",
                model="gpt-4o-mini",
                output="18°C",
                usage=TokenUsage(input=24, output=12),
                attributes={"gen_ai.response.finish_reasons": ["stop"]},
            ),
            Span(
                "03",
                "execute_tool get_weather",
                SpanKind.TOOL_CALL,
                parent_id="01",
                status=SpanStatus.ERROR,
                status_message="503",
                attributes={"nothing": None},
            ),
            Span("04", "orphan", parent_id="missing"),
        ],
    )


class TraceTest(unittest.TestCase):
    def test_spans_read_their_facts_and_strings(self) -> None:
        trace = Trace.from_data(agent())
        self.assertEqual(trace.span_count, 4)
        self.assertEqual(len(trace), 4)
        chat = trace.spans()[1]
        self.assertEqual(chat.kind, SpanKind.LLM_CALL)
        self.assertEqual(chat.output_len, len("18°C".encode()))
        self.assertEqual(chat.usage.total_or_sum(), 36)
        self.assertEqual(chat.parent, trace.span(0))
        self.assertEqual([c.id for c in trace.spans()[0].children()], ["02", "03"])
        self.assertIsNone(trace.spans()[3].parent, "a parent outside the trace is no parent")
        self.assertEqual(
            [s.name for s in trace if s.status is SpanStatus.ERROR], ["execute_tool get_weather"]
        )
        self.assertEqual(trace.root(), trace.span(0))
        self.assertEqual(trace.spans()[0].duration_ns, 2_000)
        self.assertIsNone(trace.span(4))
        self.assertIsNone(trace.span(-1))

    def test_attributes_distinguish_missing_from_null(self) -> None:
        tool = Trace.from_data(agent()).spans()[2]
        self.assertIsNone(tool.attribute("nothing", "default"))
        self.assertEqual(tool.attribute("absent", "default"), "default")
        self.assertEqual(Trace.from_data(agent()).attribute("tags"), ["a", "b"])

    def test_spans_of_kind_with_and_without_cached_facts(self) -> None:
        trace = Trace.from_data(agent())
        before = [s.index for s in trace.spans_of_kind(SpanKind.TOOL_CALL)]
        _ = trace.infos  # the facts are now cached
        after = [s.index for s in trace.spans_of_kind(SpanKind.TOOL_CALL)]
        self.assertEqual(before, [2])
        self.assertEqual(after, [2])

    def test_to_data_is_a_copy(self) -> None:
        data = agent()
        trace = Trace.from_data(data)
        copy = trace.to_data()
        copy.spans[1].attributes["gen_ai.response.finish_reasons"].append("length")
        copy.spans.clear()
        self.assertEqual(trace.spans()[1].attribute("gen_ai.response.finish_reasons"), ["stop"])
        self.assertEqual(trace.span_count, 4)
        self.assertEqual(trace.spans()[1].to_span(), data.spans[1])


class ResultTest(unittest.TestCase):
    def test_scores_outside_the_unit_interval_are_refused(self) -> None:
        for bad in (-0.1, 1.01, math.nan, math.inf):
            with self.assertRaises(ValueError, msg=repr(bad)):
                EvalResult(bad, True)
        with self.assertRaisesRegex(TypeError, "score must be a float"):
            EvalResult(True, True)  # type: ignore[arg-type]
        self.assertEqual(EvalResult(1, True).score, 1.0)

    def test_builders_chain(self) -> None:
        span = Trace.from_data(agent()).spans()[1]
        result = (
            EvalResult.fail(0.25, label="bad")
            .metric("n", 2)
            .metric("ratio", 0.5)
            .finding("whole trace")
            .finding("about a span", span)
            .finding("by id", "03")
        )
        self.assertFalse(result.passed)
        self.assertEqual(result.metrics, {"n": 2, "ratio": 0.5})
        self.assertEqual([f.span_id for f in result.findings], [None, "02", "03"])


class PluginTest(unittest.TestCase):
    def setUp(self) -> None:
        self.exported = list(_plugin._exported)

    def tearDown(self) -> None:
        _plugin._exported[:] = self.exported

    def test_export_checks_the_class(self) -> None:
        with self.assertRaisesRegex(BuildError, "is not a plugin class"):
            export(int)
        with self.assertRaisesRegex(BuildError, "decorates a class"):
            export(len)  # type: ignore[type-var]

        class Both(Evaluator, Exporter):
            pass

        with self.assertRaisesRegex(BuildError, "derives from .*Evaluator.* and .*Exporter"):
            export(Both)

        class Half(Exporter):
            def formats(self) -> list[ExportFormat]:
                return []

        with self.assertRaisesRegex(
            BuildError,
            "`PluginTest.test_export_checks_the_class.<locals>.Half` does not implement `export`",
        ):
            export(Half)

    def test_export_registers_once(self) -> None:
        @export
        class Ok(Evaluator):
            def evaluate(self, trace: Trace) -> EvalResult:
                return EvalResult.ok()

        export(Ok)
        self.assertEqual(_plugin.exported()[-1:], [Ok])
        self.assertEqual(_plugin.exported().count(Ok), 1)

    def test_default_batch_keeps_each_error(self) -> None:
        class Picky(Evaluator):
            def evaluate(self, trace: Trace) -> EvalResult:
                if trace.id == "bad":
                    raise InvalidInput("bad trace")
                if trace.id == "boom":
                    raise KeyError("x")
                return EvalResult.ok()

        results = Picky().evaluate_batch(
            [Trace.from_data(TraceData(id=i)) for i in ("ok", "bad", "boom")]
        )
        self.assertIsInstance(results[0], EvalResult)
        self.assertIsInstance(results[1], InvalidInput)
        self.assertIsInstance(results[2], KeyError)


class HostTest(unittest.TestCase):
    def test_outside_a_component_host_calls_say_so(self) -> None:
        with self.assertRaises(NotInComponent) as caught:
            config.get("threshold")
        self.assertIn(
            "`flowtrace_plugin.config.get` calls the Flowtrace host", str(caught.exception)
        )
        with self.assertRaises(NotInComponent):
            log.info("x")

    def test_require_converts_and_explains(self) -> None:
        with testing.host(config={"n": 3, "f": 0.5, "b": False, "s": "x", "l": ["a"]}):
            self.assertEqual(config.require("n", float), 3.0)
            self.assertIsInstance(config.require("n", float), float)
            self.assertEqual(config.require("n", int), 3)
            self.assertEqual(config.require("l", list), ["a"])
            self.assertEqual(config.require("s"), "x")
            with self.assertRaisesRegex(
                InvalidConfig, r"config `f`: expected an integer, found a float \(0.5\)"
            ):
                config.require("f", int)
            with self.assertRaisesRegex(
                InvalidConfig, r"config `b`: expected a string, found a boolean \(false\)"
            ):
                config.require("b", str)
            with self.assertRaisesRegex(
                InvalidConfig, r'config `l`: expected a boolean, found a string-list \(\["a"\]\)'
            ):
                config.require("l", bool)
            with self.assertRaisesRegex(InvalidConfig, "config `missing` has no value"):
                config.require("missing", int)
            with self.assertRaisesRegex(TypeError, "takes str, int, float, bool or list"):
                config.require("n", dict)
            self.assertEqual(config.get("missing", 7), 7)

    def test_the_stand_in_is_removed_after_the_block(self) -> None:
        with testing.host(config={"a": 1}):
            with testing.host(config={"a": 2}):
                self.assertEqual(config.get("a"), 2)
            self.assertEqual(config.get("a"), 1)
        with self.assertRaises(NotInComponent):
            config.get("a")

    def test_kv_quota(self) -> None:
        from flowtrace_plugin import Unavailable, kv

        with testing.host() as host:
            host.kv_quota = 10
            kv.set("k", b"12345")
            with self.assertRaisesRegex(Unavailable, "cannot store `k2`: the store's quota"):
                kv.set("k2", b"123456")
        self.assertEqual(host.kv, {"k": b"12345"})

    def test_embeddings_stand_in(self) -> None:
        from flowtrace_plugin import Failed, Unavailable, embeddings

        with testing.host(embedding_dimension=16):
            a, b = embeddings.embed(["same", "same"])
            self.assertEqual(a, b)
            self.assertAlmostEqual(sum(x * x for x in a), 1.0)
            with self.assertRaisesRegex(TypeError, "use `embed_one`"):
                embeddings.embed("text")
        with testing.host(embeddings={"hi": [1.0, 0.0]}):
            self.assertEqual(embeddings.dimension(), 2)
            with self.assertRaisesRegex(Failed, "no vector for the text 'other'"):
                embeddings.embed(["other"])
        with testing.host(), self.assertRaises(Unavailable):
            embeddings.dimension()

    def test_gated_modules_import_outside_a_component(self) -> None:
        # Without bindings there is nothing to check: the import works, calls need a host.
        for name in ("kv", "traces", "embeddings"):
            importlib.import_module(f"flowtrace_plugin.{name}")

    def test_capability_message(self) -> None:
        self.assertEqual(
            str(CapabilityNotDeclared("embeddings", "embeddings")),
            "`flowtrace_plugin.embeddings` needs capability `embeddings`: add "
            "`embeddings = true` under `[capabilities]` in flowtrace.toml",
        )


class PublicApiTest(unittest.TestCase):
    def test_all_is_importable(self) -> None:
        for name in flowtrace_plugin.__all__:
            self.assertTrue(hasattr(flowtrace_plugin, name), name)

    def test_exporter_signature_is_usable(self) -> None:
        class Ids(Exporter):
            def formats(self) -> list[ExportFormat]:
                return [ExportFormat("ids", "text/plain", "txt")]

            def export(self, format: str, traces: Sequence[Trace]) -> bytes:
                return "".join(t.id + "\n" for t in traces).encode()

        self.assertEqual(Ids().export("ids", [Trace.from_data(TraceData(id="a"))]), b"a\n")


if __name__ == "__main__":
    unittest.main()
