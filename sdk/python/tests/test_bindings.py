"""Tests of the SDK against the bindings componentize-py generates (`wit_world`): the
adapters of `_entry`, the conversions of `_convert`, the capability check. The host's
trace resource is played by `FakeTrace`, which records the calls made to it.

Needs componentize-py (`$COMPONENTIZE_PY`, on `PATH`, or the one `cargo flowtrace doctor
--fix` installs); the tests are skipped without it."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from flowtrace_plugin import Span, SpanKind, SpanStatus, TokenUsage, TraceData, _host, _plugin
from flowtrace_plugin.errors import BuildError, CapabilityNotDeclared

REPO = Path(__file__).resolve().parents[3]
KINDS = ("evaluator", "exporter", "embedder", "transformer")


def componentize_py() -> str | None:
    candidates = [
        os.environ.get("COMPONENTIZE_PY"),
        shutil.which("componentize-py"),
        str(Path.home() / ".flowtrace/toolchains/python/bin/componentize-py"),
    ]
    toolchains = os.environ.get("FLOWTRACE_TOOLCHAINS")
    if toolchains:
        candidates.insert(1, str(Path(toolchains) / "python/bin/componentize-py"))
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


class Bindings:
    """Generated bindings per world, made once per test run."""

    tool = componentize_py()
    root = Path(tempfile.mkdtemp(prefix="flowtrace-bindings-"))
    made: ClassVar[dict[tuple[str, tuple[str, ...]], Path]] = {}

    @classmethod
    def dir(cls, kind: str, imports: tuple[str, ...]) -> Path:
        key = (kind, imports)
        if key not in cls.made:
            if cls.tool is None:
                raise unittest.SkipTest("componentize-py is not installed")
            work = cls.root / f"{kind}-{'-'.join(imports) or 'none'}"
            shutil.copytree(REPO / "wit", work / "wit")
            lines = ["package flowtrace:plugin@0.1.0;", "", "world plugin {"]
            lines += [f"    import {i};" for i in ("log", "config", *imports)]
            lines += [f"    export {kind};", "}"]
            (work / "wit" / "build.wit").write_text("\n".join(lines) + "\n")
            subprocess.run(
                [cls.tool, "-d", "wit", "-w", "plugin", "bindings", "bindings"],
                cwd=work,
                check=True,
                capture_output=True,
            )
            cls.made[key] = work / "bindings"
        return cls.made[key]


def _purge() -> None:
    for name in list(sys.modules):
        top = name.split(".")[0]
        gated = name in (
            "flowtrace_plugin.kv",
            "flowtrace_plugin.traces",
            "flowtrace_plugin.embeddings",
        )
        if top in ("wit_world", "componentize_py_types") or gated or name.startswith("plug_"):
            del sys.modules[name]
    _host._modules.clear()
    _host._wit_backend = None


@contextlib.contextmanager
def world(kind: str = "evaluator", imports: tuple[str, ...] = ()) -> Iterator[Any]:
    """The bindings of a world on `sys.path`; yields `wit_world.imports.types`."""
    path = str(Bindings.dir(kind, imports))
    _purge()
    sys.path.insert(0, path)
    try:
        yield importlib.import_module("wit_world.imports.types")
    finally:
        sys.path.remove(path)
        _purge()


class FakeTrace:
    """The host's `trace` resource over a `TraceData`, recording each call."""

    def __init__(self, data: TraceData) -> None:
        from flowtrace_plugin import _convert

        self.t = _convert._types()
        self.data = data
        self.raw = _convert.trace_data_to(data, "the test trace")
        self.calls: list[str] = []
        self.closed = False

    def _span(self, index: int) -> Any:
        return self.raw.spans[index] if 0 <= index < len(self.raw.spans) else None

    def id(self) -> str:
        self.calls.append("id")
        return str(self.raw.id)

    def span_count(self) -> int:
        self.calls.append("span_count")
        return len(self.raw.spans)

    def input(self) -> str | None:
        self.calls.append("input")
        return self.raw.input  # type: ignore[no-any-return]

    def output(self) -> str | None:
        self.calls.append("output")
        return self.raw.output  # type: ignore[no-any-return]

    def attributes(self) -> list[Any]:
        self.calls.append("attributes")
        return list(self.raw.attributes)

    def span_infos(self) -> list[Any]:
        self.calls.append("span_infos")
        ids = [s.id for s in self.raw.spans]
        return [
            self.t.SpanInfo(
                kind=s.kind,
                status=s.status,
                parent=ids.index(s.parent_id) if s.parent_id in ids else None,
                start_time_ns=s.start_time_ns,
                end_time_ns=s.end_time_ns,
                usage=s.usage,
                cost_usd=s.cost_usd,
                input_len=len((s.input or "").encode()),
                output_len=len((s.output or "").encode()),
                attribute_count=len(s.attributes),
            )
            for s in self.raw.spans
        ]

    def spans_of_kind(self, kind: Any) -> list[int]:
        self.calls.append("spans_of_kind")
        return [i for i, s in enumerate(self.raw.spans) if s.kind == kind]

    def _field(self, name: str, index: int) -> Any:
        self.calls.append(f"span_{name}")
        span = self._span(index)
        return None if span is None else getattr(span, name)

    def span_id(self, index: int) -> Any:
        return self._field("id", index)

    def span_name(self, index: int) -> Any:
        return self._field("name", index)

    def span_model(self, index: int) -> Any:
        return self._field("model", index)

    def span_input(self, index: int) -> Any:
        return self._field("input", index)

    def span_output(self, index: int) -> Any:
        return self._field("output", index)

    def span_status_message(self, index: int) -> Any:
        return self._field("status_message", index)

    def span_attribute(self, index: int, key: str) -> Any:
        self.calls.append("span_attribute")
        span = self._span(index)
        return next((a.value for a in span.attributes if a.key == key), None)

    def span_attributes(self, index: int) -> Any:
        self.calls.append("span_attributes")
        return list(self._span(index).attributes)

    def span(self, index: int) -> Any:
        self.calls.append("span")
        return self._span(index)

    # The normalized facts: every LLM call was cut off after asking for `get_weather`.
    def span_finish_reasons(self, index: int) -> list[str]:
        self.calls.append("span_finish_reasons")
        return ["length"] if self._span(index).kind == self.t.SpanKind.LLM_CALL else []

    def span_messages(self, index: int, direction: Any) -> list[Any]:
        self.calls.append("span_messages")
        call = self.t.ToolCall(id="call_1", name="get_weather", arguments="{}", result=None)
        if direction == self.t.MessageDirection.INPUT:
            return [self.t.Message("user", "weather?", [], None, None)]
        return [self.t.Message("assistant", None, [call], None, "length")]

    def span_tool_call(self, index: int) -> Any:
        self.calls.append("span_tool_call")
        return self.t.ToolCall(id="call_1", name="get_weather", arguments="{}", result="sunny")

    def span_error(self, index: int) -> Any:
        self.calls.append("span_error")
        return self.t.SpanError(error_type="Timeout", message=None)

    def to_data(self) -> Any:
        self.calls.append("to_data")
        return self.raw

    def __exit__(self, *args: object) -> None:
        self.closed = True


def agent() -> TraceData:
    return TraceData(
        id="4bf92f3577b34da6a3ce929d0e0e4736",
        attributes={"service.name": "agent"},
        spans=[
            Span("01", "agent run", SpanKind.AGENT_STEP, start_time_ns=0, end_time_ns=5_000),
            Span(
                "02",
                "chat",
                SpanKind.LLM_CALL,
                parent_id="01",
                output="hello",
                usage=TokenUsage(input=3, output=2),
                attributes={"gen_ai.response.finish_reasons": ["stop"], "n": 2, "ok": True},
            ),
            Span("03", "tool", SpanKind.TOOL_CALL, parent_id="01", status=SpanStatus.ERROR),
        ],
    )


class PluginModules:
    """Plugin modules written to a temp dir on `sys.path`, each under a new name."""

    dir = Path(tempfile.mkdtemp(prefix="flowtrace-plugins-"))
    count = 0

    @classmethod
    def write(cls, source: str) -> str:
        cls.count += 1
        name = f"plug_{cls.count}"
        (cls.dir / f"{name}.py").write_text(textwrap.dedent(source))
        if str(cls.dir) not in sys.path:
            sys.path.append(str(cls.dir))
        return name


def load(source: str, kind: str = "evaluator") -> Any:
    """Load a plugin module with `_entry.load`; returns `_entry`."""
    from flowtrace_plugin import _entry

    _plugin._exported.clear()
    _entry.load(PluginModules.write(source), kind)
    return _entry


class BindingsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.exported = list(_plugin._exported)
        self.logged: list[tuple[str, str]] = []

    def tearDown(self) -> None:
        _plugin._exported[:] = self.exported

    def capture_log(self) -> None:
        log = importlib.import_module("wit_world.imports.log")
        log.log = lambda level, message: self.logged.append((level.name, message))

    def config(self, values: dict[str, Any]) -> None:
        config = importlib.import_module("wit_world.imports.config")
        variants = {int: config.ConfigValue_Integer, float: config.ConfigValue_Float,
                    bool: config.ConfigValue_Boolean, str: config.ConfigValue_Text,
                    list: config.ConfigValue_TextList}  # fmt: skip
        config.get = lambda key: variants[type(values[key])](values[key]) if key in values else None
        config.keys = lambda: list(values)


class EvaluatorTest(BindingsTest):
    PLUGIN = """
        from flowtrace_plugin import EvalResult, Evaluator, SpanKind, SpanStatus, Trace, config, export

        @export
        class Plugin(Evaluator):
            def evaluate(self, trace: Trace) -> EvalResult:
                limit = config.require("limit", int)
                errors = [s for s in trace.spans() if s.status is SpanStatus.ERROR]
                result = EvalResult(1.0 - len(errors) / trace.span_count, not errors, label="x")
                for span in errors:
                    result.finding("failed", span)
                return (result.metric("n", trace.span_count).metric("ok", not errors)
                        .metric("ratio", 0.5).metric("text", "t").metric("limit", limit))
        """

    def test_a_result_is_converted(self) -> None:
        with world() as t:
            self.config({"limit": 3})
            entry = load(self.PLUGIN)
            trace = FakeTrace(agent())
            raw = entry.Evaluator().evaluate(trace)
            self.assertEqual(raw.score, 1.0 - 1 / 3)
            self.assertFalse(raw.passed)
            self.assertEqual(raw.label, "x")
            self.assertEqual(
                raw.metrics,
                [
                    t.Metric("n", t.MetricValue_Integer(3)),
                    t.Metric("ok", t.MetricValue_Boolean(False)),
                    t.Metric("ratio", t.MetricValue_Float(0.5)),
                    t.Metric("text", t.MetricValue_Text("t")),
                    t.Metric("limit", t.MetricValue_Integer(3)),
                ],
            )
            self.assertEqual(raw.findings, [t.Finding(span_id="03", message="failed")])
            # One call for every span's facts, one string (the flagged span's id): no
            # name, output or attribute was copied.
            self.assertEqual(sorted(set(trace.calls)), ["span_id", "span_infos"])
            self.assertEqual(trace.calls.count("span_infos"), 1)

    def test_plugin_errors_keep_their_kind(self) -> None:
        with world() as t:
            from componentize_py_types import Err

            self.config({})
            entry = load(self.PLUGIN)
            with self.assertRaises(Err) as caught:
                entry.Evaluator().evaluate(FakeTrace(agent()))
            self.assertEqual(
                caught.exception.value,
                t.PluginError_InvalidConfig(
                    "config `limit` has no value: declare it under `[config]` in flowtrace.toml "
                    "with a default"
                ),
            )

    def test_other_exceptions_fail_with_their_line_and_report_the_traceback(self) -> None:
        with world() as t:
            from componentize_py_types import Err

            self.capture_log()
            entry = load(
                """
                from flowtrace_plugin import EvalResult, Evaluator, Trace, export

                def ratio(trace: Trace) -> float:
                    return 1 / (trace.span_count - 3)

                @export
                class Plugin(Evaluator):
                    def evaluate(self, trace: Trace) -> EvalResult:
                        return EvalResult.ok(ratio(trace))
                """
            )
            with self.assertRaises(Err) as caught:
                entry.Evaluator().evaluate(FakeTrace(agent()))
            error = caught.exception.value
            self.assertIsInstance(error, t.PluginError_Failed)
            name = entry._plugin_class.__module__
            self.assertEqual(
                error.value, f"ZeroDivisionError: division by zero (at {name}.py:5, in ratio)"
            )
            # One report line for the host, paired with the error by its message: the
            # plugin's own frames, innermost first, paths relative to the plugin.
            self.assertEqual(len(self.logged), 1, self.logged)
            level, line = self.logged[0]
            self.assertEqual(level, "ERROR")
            marker = "\x1eflowtrace-failure "
            self.assertTrue(line.startswith(marker), line)
            report = json.loads(line[len(marker) :])
            self.assertEqual(
                report,
                {
                    "summary": error.value,
                    "exception": "ZeroDivisionError",
                    "message": "division by zero",
                    "location": f"{name}.py:5 in ratio",
                    "backtrace": [f"{name}.py:5 in ratio", f"{name}.py:10 in evaluate"],
                    "stack-overflow": False,
                },
            )

    def test_an_invalid_result_is_a_failure(self) -> None:
        with world() as t:
            from componentize_py_types import Err

            entry = load(
                """
                from flowtrace_plugin import EvalResult, Evaluator, Trace, export

                @export
                class Plugin(Evaluator):
                    def evaluate(self, trace: Trace) -> EvalResult:
                        result = EvalResult.ok()
                        if trace.id.startswith("4"):
                            result.score = 2.0
                            return result
                        return "nope"
                """
            )
            with self.assertRaises(Err) as caught:
                entry.Evaluator().evaluate(FakeTrace(agent()))
            self.assertEqual(
                caught.exception.value,
                t.PluginError_Failed(
                    "`Plugin.evaluate` returned an invalid result: score must be between 0.0 "
                    "and 1.0, got 2.0"
                ),
            )
            with self.assertRaises(Err) as caught:
                entry.Evaluator().evaluate(FakeTrace(TraceData(id="x")))
            self.assertIn("must return an `EvalResult`, got str", caught.exception.value.value)

    def test_batch_results_and_errors_stay_in_order(self) -> None:
        with world() as t:
            from componentize_py_types import Err, Ok

            self.capture_log()
            entry = load(
                """
                from flowtrace_plugin import EvalResult, Evaluator, InvalidInput, Trace, export

                @export
                class Plugin(Evaluator):
                    def evaluate(self, trace: Trace) -> EvalResult:
                        if trace.id == "bad":
                            raise InvalidInput("no spans")
                        if trace.id == "boom":
                            raise RuntimeError("boom")
                        return EvalResult.ok(label=trace.id)
                """
            )
            traces = [FakeTrace(TraceData(id=i)) for i in ("a", "bad", "boom", "b")]
            out = entry.Evaluator().evaluate_batch(traces)
            self.assertEqual([type(r) for r in out], [Ok, Err, Err, Ok])
            self.assertEqual([out[0].value.label, out[3].value.label], ["a", "b"])
            self.assertEqual(out[1].value, t.PluginError_InvalidInput("no spans"))
            self.assertTrue(out[2].value.value.startswith("RuntimeError: boom (at plug_"))

    def test_a_batch_of_the_wrong_length_fails_every_trace(self) -> None:
        with world():
            from componentize_py_types import Err

            entry = load(
                """
                from flowtrace_plugin import EvalResult, Evaluator, Trace, export

                @export
                class Plugin(Evaluator):
                    def evaluate(self, trace: Trace) -> EvalResult:
                        return EvalResult.ok()

                    def evaluate_batch(self, traces):
                        return []
                """
            )
            out = entry.Evaluator().evaluate_batch([FakeTrace(TraceData()), FakeTrace(TraceData())])
            self.assertEqual(len(out), 2)
            self.assertTrue(all(isinstance(r, Err) for r in out))
            self.assertIn("returned 0 results for 2 traces", out[0].value.value)

    def test_host_values_arrive_as_plain_python(self) -> None:
        from flowtrace_plugin import Trace
        from flowtrace_plugin._convert import HostSource

        with world() as t:
            data = agent()
            fake = FakeTrace(data)
            fake.raw.spans[1].attributes.append(
                t.Attribute("raw", t.AttributeValue_Json("not json"))
            )
            trace = Trace(HostSource(fake))
            chat = trace.spans()[1]
            self.assertEqual(chat.attribute("gen_ai.response.finish_reasons"), ["stop"])
            self.assertEqual(chat.attribute("n"), 2)
            self.assertIs(chat.attribute("ok"), True)
            self.assertEqual(chat.attribute("raw"), "not json")
            self.assertIsNone(chat.attribute("absent"))
            self.assertEqual(chat.kind, SpanKind.LLM_CALL)
            self.assertEqual(chat.usage, TokenUsage(input=3, output=2))
            self.assertEqual(trace.attributes, {"service.name": "agent"})
            self.assertEqual(chat.to_span().attributes["gen_ai.response.finish_reasons"], ["stop"])
            roundtrip = trace.to_data()
            roundtrip.spans[1].attributes.pop("raw")
            self.assertEqual(roundtrip, data)
            self.assertEqual([s.index for s in trace.spans_of_kind(SpanKind.TOOL_CALL)], [2])


    def test_span_facts_arrive_as_sdk_values(self) -> None:
        from flowtrace_plugin import Message, SpanError, Trace, ToolCall
        from flowtrace_plugin._convert import HostSource

        with world():
            trace = Trace(HostSource(FakeTrace(agent())))
            chat = trace.spans_of_kind(SpanKind.LLM_CALL)[0]
            self.assertEqual(chat.finish_reasons, ["length"])
            self.assertEqual(chat.input_messages, [Message(role="user", content="weather?")])
            call = ToolCall(name="get_weather", id="call_1", arguments="{}")
            self.assertEqual(
                chat.output_messages,
                [Message(role="assistant", tool_calls=(call,), finish_reason="length")],
            )
            self.assertTrue(chat.output_messages[0].was_cut_off)
            self.assertEqual(chat.tool_call, ToolCall("get_weather", "call_1", "{}", "sunny"))
            self.assertEqual(chat.error, SpanError(error_type="Timeout"))


class LoadTest(BindingsTest):
    def test_mistakes_fail_the_build(self) -> None:
        with world():
            with self.assertRaisesRegex(
                BuildError,
                r"`plug_\d+.py` exports no plugin: define a class deriving from `flowtrace_plugin.Evaluator`",
            ):
                load("x = 1\n")
            with self.assertRaisesRegex(BuildError, r"defines `P` but does not export it"):
                load(
                    """
                    from flowtrace_plugin import Evaluator
                    class P(Evaluator):
                        def evaluate(self, trace): ...
                    """
                )
            with self.assertRaisesRegex(
                BuildError,
                r"`plug_\d+.P` is an exporter, but flowtrace.toml says `kind = \"evaluator\"`",
            ):
                load(
                    """
                    from flowtrace_plugin import Exporter, export
                    @export
                    class P(Exporter):
                        def formats(self): return []
                        def export(self, format, traces): return b""
                    """
                )
            with self.assertRaisesRegex(
                BuildError,
                r"several classes are decorated with `@export` \(`plug_\d+.A`, `plug_\d+.B`\)",
            ):
                load(
                    """
                    from flowtrace_plugin import Evaluator, export
                    @export
                    class A(Evaluator):
                        def evaluate(self, trace): ...
                    @export
                    class B(Evaluator):
                        def evaluate(self, trace): ...
                    """
                )
            from flowtrace_plugin import _entry

            with self.assertRaisesRegex(
                BuildError, "no module `not_there`: the plugin's code goes in `not_there.py`"
            ):
                _entry.load("not_there", "evaluator")
            with self.assertRaisesRegex(BuildError, "unknown plugin kind `scorer`"):
                _entry.load("not_there", "scorer")

    def test_host_calls_at_import_time_fail_the_build(self) -> None:
        with (
            world(),
            self.assertRaisesRegex(
                BuildError,
                r"`flowtrace_plugin.config.get` was called while the build imported `plug_\d+.py`",
            ),
        ):
            load("from flowtrace_plugin import config\nLIMIT = config.get('limit')\n")
        from flowtrace_plugin import _host

        self.assertIsNone(_host.importing)

    def test_an_import_error_inside_the_plugin_is_not_hidden(self) -> None:
        with world(), self.assertRaisesRegex(ModuleNotFoundError, "flowtrace_no_such_package"):
            load("import flowtrace_no_such_package\n")


class CapabilityTest(BindingsTest):
    def test_a_gated_module_without_its_interface_fails_the_import(self) -> None:
        for module, capability in (
            ("kv", "storage"),
            ("traces", "traces"),
            ("embeddings", "embeddings"),
        ):
            with world():
                with self.assertRaises(CapabilityNotDeclared) as caught:
                    importlib.import_module(f"flowtrace_plugin.{module}")
                self.assertEqual(
                    str(caught.exception),
                    f"`flowtrace_plugin.{module}` needs capability `{capability}`: add "
                    f"`{capability} = true` under `[capabilities]` in flowtrace.toml",
                )
                self.assertEqual(type(caught.exception).__module__, "flowtrace_plugin.errors")

    def test_with_the_interface_the_module_calls_the_host(self) -> None:
        with world(imports=("kv", "traces", "embeddings")) as t:
            from componentize_py_types import Err

            from flowtrace_plugin import Unavailable, embeddings, kv, traces

            host_kv = importlib.import_module("wit_world.imports.kv")
            store: dict[str, bytes] = {}

            def kv_set(key: str, value: bytes) -> None:
                if len(value) > 4:
                    raise Err("quota exceeded")
                store[key] = value

            host_kv.set = kv_set
            host_kv.get = store.get
            kv.set("a", "1234")
            self.assertEqual(kv.get("a"), b"1234")
            with self.assertRaisesRegex(Unavailable, "cannot store `a`: quota exceeded"):
                kv.set("a", b"12345")

            host_traces = importlib.import_module("wit_world.imports.traces")
            fake = FakeTrace(agent())
            host_traces.get = lambda trace_id: fake if trace_id == fake.raw.id else None
            seen: list[Any] = []
            host_traces.query = lambda query: seen.append(query) or ["t1"]
            with traces.get(fake.raw.id) as other:
                self.assertEqual(other.span_count, 3)
            self.assertTrue(fake.closed)
            self.assertIsNone(traces.get("missing"))
            self.assertEqual(traces.query(name_contains="agent", limit=5), ["t1"])
            self.assertEqual(seen[0].name_contains, "agent")
            self.assertEqual(seen[0].limit, 5)

            host_embeddings = importlib.import_module("wit_world.imports.embeddings")

            def embed(texts: list[str]) -> list[list[float]]:
                raise Err(t.PluginError_Unavailable("no embedder installed"))

            host_embeddings.embed = embed
            with self.assertRaisesRegex(Unavailable, "no embedder installed"):
                embeddings.embed(["x"])


class OtherKindsTest(BindingsTest):
    def test_exporter(self) -> None:
        with world("exporter"):
            from componentize_py_types import Err

            entry = load(
                """
                from flowtrace_plugin import ExportFormat, Exporter, InvalidInput, export

                @export
                class Plugin(Exporter):
                    def formats(self):
                        return [ExportFormat("ids", "text/plain", "txt")]

                    def export(self, format, traces):
                        if format == "bytes":
                            return 42
                        if format != "ids":
                            raise InvalidInput(f"unknown format `{format}`")
                        return "".join(t.id + "\\n" for t in traces)
                """,
                "exporter",
            )
            exporter = importlib.import_module("wit_world.exports.exporter")
            adapter = entry.Exporter()
            self.assertEqual(adapter.formats(), [exporter.ExportFormat("ids", "text/plain", "txt")])
            out = adapter.export_traces(
                "ids", [FakeTrace(TraceData(id="é1")), FakeTrace(TraceData(id="b"))]
            )
            self.assertEqual(out, "é1\nb\n".encode())
            with self.assertRaises(Err) as caught:
                adapter.export_traces("csv", [])
            self.assertEqual(caught.exception.value.value, "unknown format `csv`")
            with self.assertRaises(Err) as caught:
                adapter.export_traces("bytes", [])
            self.assertIn("must return bytes or str, got int", caught.exception.value.value)

    def test_embedder_output_is_checked(self) -> None:
        with world("embedder"):
            from componentize_py_types import Err

            entry = load(
                """
                from flowtrace_plugin import Embedder, export

                @export
                class Plugin(Embedder):
                    def dimension(self):
                        return 2

                    def embed(self, texts):
                        if texts == ["short"]:
                            return [[1.0]]
                        if texts == ["few"]:
                            return []
                        return [[1, 0.5] for _ in texts]
                """,
                "embedder",
            )
            adapter = entry.Embedder()
            self.assertEqual(adapter.dimension(), 2)
            self.assertEqual(adapter.embed(["a", "b"]), [[1.0, 0.5], [1.0, 0.5]])
            with self.assertRaises(Err) as caught:
                adapter.embed(["few"])
            self.assertEqual(caught.exception.value.value, "`embed` returned 0 vectors for 1 texts")
            with self.assertRaises(Err) as caught:
                adapter.embed(["short"])
            self.assertEqual(
                caught.exception.value.value,
                "`embed` returned a vector of 1 numbers at 0, `dimension` is 2",
            )

    def test_transformer_round_trip(self) -> None:
        with world("transformer") as t:
            from componentize_py_types import Err

            entry = load(
                """
                from flowtrace_plugin import Transformer, export

                @export
                class Plugin(Transformer):
                    def transform(self, traces):
                        out = []
                        for trace in traces:
                            data = trace.to_data()
                            if data.id == "bad":
                                data.spans[0].attributes["x"] = object()
                            data.attributes["seen"] = True
                            out.append(data)
                        return out
                """,
                "transformer",
            )
            fake = FakeTrace(agent())
            (raw,) = entry.Transformer().transform([fake])
            self.assertEqual(raw.spans, fake.raw.spans)
            self.assertEqual(
                raw.attributes[-1], t.Attribute("seen", t.AttributeValue_Boolean(True))
            )
            finish = raw.spans[1].attributes[0].value
            self.assertEqual(finish, t.AttributeValue_Json('["stop"]'))
            bad = TraceData(id="bad", spans=[Span("01", "x")])
            with self.assertRaises(Err) as caught:
                entry.Transformer().transform([FakeTrace(bad)])
            self.assertIn(
                "item 0 of what `Plugin.transform` returned.spans[0].attributes['x'] must be",
                caught.exception.value.value,
            )


if __name__ == "__main__":
    unittest.main()


class DevEngineTest(BindingsTest):
    """`_dev`: the dev engine imports the plugin from the mount at its first call, and a
    plugin that fails to import fails every call with its own traceback."""

    def setUp(self) -> None:
        super().setUp()
        from flowtrace_plugin import _dev, _entry

        self.saved = (_dev.MOUNT, _dev._kind, _dev._failed, _entry._plugin_class, list(sys.path))
        self.mount = Path(tempfile.mkdtemp(prefix="flowtrace-dev-"))
        (self.mount / _dev.CONFIG).parent.mkdir(parents=True)
        _dev.MOUNT = str(self.mount)
        _dev._kind = "evaluator"

    def tearDown(self) -> None:
        from flowtrace_plugin import _dev, _entry

        _dev.MOUNT, _dev._kind, _dev._failed, _entry._plugin_class, path = self.saved
        sys.path[:] = path
        shutil.rmtree(self.mount)
        super().tearDown()

    def plugin(self, module: str, source: str) -> None:
        from flowtrace_plugin import _dev, _entry

        (self.mount / "src").mkdir(exist_ok=True)
        (self.mount / "src" / f"{module}.py").write_text(textwrap.dedent(source))
        config = {"module": module, "path": ["src"]}
        (self.mount / _dev.CONFIG).write_text(json.dumps(config))
        _plugin._exported.clear()
        _entry._plugin_class = None
        _dev._failed = None

    def test_the_plugin_is_imported_from_the_mount_at_the_first_call(self) -> None:
        from flowtrace_plugin._kinds import _bridge

        self.plugin(
            "dev_ok",
            """\
            from flowtrace_plugin import EvalResult, Evaluator, export
            @export
            class DevOk(Evaluator):
                def evaluate(self, trace):
                    return EvalResult.ok()
            """,
        )
        with world():
            self.assertEqual(type(_bridge.instance()).__name__, "DevOk")
            self.assertIn(str(self.mount / "src"), sys.path)

    def test_a_plugin_that_fails_to_import_fails_every_call_with_its_traceback(self) -> None:
        from flowtrace_plugin import _dev
        from flowtrace_plugin._kinds import _bridge

        self.plugin("dev_raises", "import os\nraise ValueError('bad setting')\n")
        with world():
            with self.assertRaises(_dev.LoadFailed) as caught:
                _bridge.instance()
            text = caught.exception.message
            self.assertEqual(
                text,
                _dev.LOAD_FAILED + "Traceback (most recent call last):\n"
                f'  File "{self.mount}/src/dev_raises.py", line 2, in <module>\n'
                "    raise ValueError('bad setting')\n"
                "ValueError: bad setting\n",
            )
            # The next call fails the same way, without importing again.
            (self.mount / "src" / "dev_raises.py").write_text("")
            with self.assertRaises(_dev.LoadFailed) as again:
                _bridge.instance()
            self.assertEqual(again.exception.message, text)

        self.plugin("dev_syntax", "def evaluate(self\n")
        with world(), self.assertRaises(_dev.LoadFailed) as caught:
            _bridge.instance()
        text = caught.exception.message
        # Not the SDK's frames nor importlib's: the error names its place itself.
        self.assertFalse(text.startswith(_dev.LOAD_FAILED + "Traceback"), text)
        self.assertIn(f'File "{self.mount}/src/dev_syntax.py", line 1', text)
        self.assertIn("SyntaxError", text)
