//! `run`: every plugin kind over files of traces (or text), with the Rust templates built by
//! real cargo; the transformer piped into `eval` through standard input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use flowtrace_plugins::trace::{parse_traces, Trace};
use serde_json::Value;

use crate::build::{guest, guest_target, in_plugin, new_plugin};
use crate::support::{assert_golden, flowtrace, normalize, run, tmp, validated, Run};

/// The four Rust templates, scaffolded and built once for this file's tests.
struct Built {
    /// Where they were scaffolded (kept for the whole test run).
    dir: PathBuf,
}

impl Built {
    /// The plugin directory of `kind`.
    fn dir(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("run-{kind}"))
    }

    /// The component `build` wrote for `kind`.
    fn wasm(&self, kind: &str) -> PathBuf {
        guest_target()
            .join("flowtrace/debug")
            .join(format!("run-{kind}-0.1.0.wasm"))
    }

    /// The template's traces of `kind`.
    fn traces(&self, kind: &str, file: &str) -> PathBuf {
        self.dir(kind).join("tests/traces").join(file)
    }
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tmp().keep();
        for kind in ["exporter", "transformer", "embedder", "evaluator"] {
            let plugin = new_plugin(&dir, &format!("run-{kind}"), &format!("rust-{kind}"));
            in_plugin(&plugin, ["build"]).expect_code(0);
        }
        let built = Built { dir };
        for kind in ["exporter", "transformer", "embedder", "evaluator"] {
            validated(fs::read(built.wasm(kind)).unwrap());
        }
        built
    })
}

fn flow(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    run(guest(dir), all)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The records of `--message-format json` with this `reason`.
fn messages(out: &Run, reason: &str) -> Vec<Value> {
    out.json_lines()
        .into_iter()
        .filter(|m| m["reason"] == reason)
        .collect()
}

#[test]
fn an_exporter_writes_each_traces_export_in_input_order() {
    let b = built();
    let dir = tmp();
    let agent = b.traces("transformer", "agent-with-emails.json");
    let otlp = b.traces("transformer", "otlp-agent.json");
    let out = flow(
        dir.path(),
        &[s(&b.wasm("exporter")), s(&agent), s(&otlp), "-j", "2"],
    )
    .expect_code(0);
    // One line per span, the first trace's spans first.
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = &parse_traces(&fs::read(&agent).unwrap()).unwrap()[0];
    let second = &parse_traces(&fs::read(&otlp).unwrap()).unwrap()[0];
    assert_eq!(lines.len(), first.spans.len() + second.spans.len());
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["span_id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = first
        .spans
        .iter()
        .chain(&second.spans)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, expected);
    assert!(
        out.stderr.contains(&format!(
            "Wrote {} bytes to stdout (2 of 2 traces ok, 0 errors)",
            out.stdout.len()
        )),
        "{}",
        out.stderr
    );

    // `-o FILE` and `--format`, checked against the exporter's formats.
    let file = dir.path().join("spans.jsonl");
    flow(
        dir.path(),
        &[
            s(&b.wasm("exporter")),
            s(&agent),
            s(&otlp),
            "--format",
            "jsonl",
            "-o",
            s(&file),
        ],
    )
    .expect_code(0);
    assert_eq!(fs::read_to_string(&file).unwrap(), out.stdout);
    let out = flow(
        dir.path(),
        &[s(&b.wasm("exporter")), s(&agent), "--format", "csv"],
    )
    .expect_code(2);
    assert_golden(
        "run/unknown-format.stderr",
        &normalize(&normalize(&out.stderr, &guest_target()), dir.path()),
    );
}

#[test]
fn a_transformer_writes_flowtrace_json_lines_that_eval_reads_from_standard_input() {
    let b = built();
    let dir = tmp();
    let agent = b.traces("transformer", "agent-with-emails.json");
    let otlp = b.traces("transformer", "otlp-agent.json");
    let out = flow(
        dir.path(),
        &[s(&b.wasm("transformer")), s(&agent), s(&otlp)],
    )
    .expect_code(0);
    let traces: Vec<Trace> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(traces.len(), 2);
    assert!(
        !out.stdout.contains("jane.doe@example.com"),
        "{}",
        out.stdout
    );
    assert_eq!(
        traces[0].attribute("flowtrace.redacted.emails"),
        Some(&flowtrace_plugins::trace::AttributeValue::Integer(4))
    );
    let original = &parse_traces(&fs::read(&agent).unwrap()).unwrap()[0];
    assert_eq!(traces[0].id, original.id);
    assert_eq!(traces[0].spans.len(), original.spans.len());

    // The pipe: `run redactor traces | eval checker -`.
    let mut transformer = guest(dir.path())
        .args(["run", s(&b.wasm("transformer")), s(&agent), s(&otlp)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let piped = transformer.stdout.take().unwrap();
    let eval = guest(dir.path())
        .args([
            "eval",
            s(&b.wasm("evaluator")),
            "-",
            "--message-format",
            "json",
        ])
        .stdin(piped)
        .output()
        .unwrap();
    assert!(transformer.wait().unwrap().success());
    assert_eq!(eval.status.code(), Some(0));
    let results: Vec<Value> = String::from_utf8(eval.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|m: &Value| m["reason"] == "eval-result")
        .collect();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["trace-id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [traces[0].id.as_str(), traces[1].id.as_str()]);
    assert!(
        results.iter().all(|r| r["file"] == "<stdin>"),
        "{results:?}"
    );

    // `run` reads standard input too.
    let mut child = guest(dir.path())
        .args(["run", s(&b.wasm("transformer")), "-", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(&agent).unwrap())
        .unwrap();
    let again = child.wait_with_output().unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        out.stdout.lines().next().unwrap().to_string() + "\n"
    );
}

#[test]
fn bad_input_is_an_error_on_its_line_and_the_run_goes_on() {
    let b = built();
    let dir = tmp();
    let agent = fs::read_to_string(b.traces("transformer", "agent-with-emails.json")).unwrap();
    let one_line: Value = serde_json::from_str(&agent).unwrap();
    let lines = format!("{one_line}\nnot json\n{one_line}\n");
    fs::write(dir.path().join("traces.jsonl"), lines).unwrap();
    let out = flow(
        dir.path(),
        &[
            s(&b.wasm("transformer")),
            "traces.jsonl",
            "-o",
            "out.jsonl",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    let results = messages(&out, "run-result");
    let shape: Vec<(u64, &str)> = results
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(shape, [(1, "ok"), (2, "error"), (3, "ok")]);
    assert_eq!(results[1]["error"]["kind"], "input");
    let summary = &messages(&out, "run-summary")[0];
    assert_eq!(
        (
            &summary["inputs"],
            &summary["ok"],
            &summary["errors"],
            &summary["written"]
        ),
        (
            &Value::from(3),
            &Value::from(2),
            &Value::from(1),
            &Value::from(2)
        )
    );
    assert_eq!(summary["kind"], "transformer");
    assert_eq!(
        fs::read_to_string(dir.path().join("out.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    // Human output names the line; `--fail-on error` turns it into exit code 3.
    let out = flow(
        dir.path(),
        &[
            s(&b.wasm("transformer")),
            "traces.jsonl",
            "--fail-on",
            "error",
        ],
    )
    .expect_code(3);
    assert!(
        out.stderr
            .contains("error: traces.jsonl:2: not JSON at column 2: a bare word"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("error: 1 of 3 traces could not be run"),
        "{}",
        out.stderr
    );

    // The output and the JSON messages cannot share stdout.
    let out = flow(
        dir.path(),
        &[
            s(&b.wasm("transformer")),
            "traces.jsonl",
            "--message-format",
            "json",
        ],
    )
    .expect_code(2);
    assert!(
        out.stderr
            .contains("the transformer's output and the JSON messages would both go to stdout"),
        "{}",
        out.stderr
    );
    // A flag of another kind is refused.
    let out = flow(
        dir.path(),
        &[
            s(&b.wasm("transformer")),
            "traces.jsonl",
            "--format",
            "jsonl",
        ],
    )
    .expect_code(2);
    assert!(
        out.stderr.contains("`--format` applies to exporters"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_embedder_embeds_lines_of_text_or_the_texts_of_spans() {
    let b = built();
    let dir = tmp();
    let mut text = b"The refund was approved\n\nWeather in Paris\r\n".to_vec();
    text.extend_from_slice(b"bad \xff byte\nthe REFUND was approved\n");
    fs::write(dir.path().join("texts.txt"), &text).unwrap();
    let out = flow(dir.path(), &[s(&b.wasm("embedder")), "texts.txt"]).expect_code(0);
    let vectors: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Blank lines are skipped, the line that is not UTF-8 is an error.
    let lines: Vec<u64> = vectors
        .iter()
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 3, 5]);
    let vector = |i: usize| -> Vec<f64> {
        vectors[i]["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    assert_eq!(vector(0).len(), 64);
    let cosine = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!(cosine(&vector(0), &vector(2)) > 0.99);
    assert!(cosine(&vector(0), &vector(1)) < 0.5);
    assert!(
        out.stderr
            .contains("error: texts.txt:4: the line is not UTF-8 text (invalid byte at column 5)"),
        "{}",
        out.stderr
    );

    // `--field output`: the outputs of the spans of traces.
    let traces = b.traces("transformer", "agent-with-emails.json");
    let trace = &parse_traces(&fs::read(&traces).unwrap()).unwrap()[0];
    let out = flow(
        dir.path(),
        &[s(&b.wasm("embedder")), s(&traces), "--field", "output"],
    )
    .expect_code(0);
    let spans: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["trace-id"], trace.id.as_str());
            v["span-id"].as_str().unwrap().to_string()
        })
        .collect();
    let with_output: Vec<String> = trace
        .spans
        .iter()
        .filter(|s| s.output.is_some())
        .map(|s| s.id.clone())
        .collect();
    assert!(!with_output.is_empty());
    assert_eq!(spans, with_output);
}

#[test]
fn an_evaluator_runs_as_under_eval_and_a_directory_is_built_first() {
    let b = built();
    let dir = tmp();
    let traces = b.traces("evaluator", "agent.json");
    let failed = b.traces("evaluator", "failed-tool.json");
    let args = [s(&traces), s(&failed), "--message-format", "json"];
    let (plugin_dir, wasm) = (b.dir("evaluator"), b.wasm("evaluator"));
    let mut with_run = vec![s(&plugin_dir)];
    with_run.extend_from_slice(&args);
    let by_run = flow(dir.path(), &with_run).expect_code(0);
    let mut with_eval = vec!["eval", s(&wasm)];
    with_eval.extend_from_slice(&args);
    let by_eval = run(flowtrace(dir.path()), with_eval).expect_code(0);
    let verdicts = |out: &Run| -> Vec<(String, String)> {
        messages(out, "eval-result")
            .iter()
            .map(|r| {
                (
                    r["trace-id"].as_str().unwrap().to_string(),
                    r["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&by_run).len(), 2);
    assert_eq!(verdicts(&by_run), verdicts(&by_eval));
    assert!(verdicts(&by_run).iter().any(|(_, v)| v == "failed"));
    let out = flow(
        dir.path(),
        &[
            s(&b.wasm("evaluator")),
            s(&traces),
            s(&failed),
            "--fail-on",
            "failed",
        ],
    )
    .expect_code(3);
    assert!(out.stdout.starts_with("traces "), "{}", out.stdout);
    // `eval` still refuses what is not an evaluator, and says what runs it.
    let out = run(
        flowtrace(dir.path()),
        ["eval", s(&b.wasm("exporter")), s(&traces)],
    )
    .expect_code(1);
    assert!(
        out.stderr
            .contains("; `cargo flowtrace run` runs a plugin of any kind"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_help() {
    let dir = tmp();
    let out = run(flowtrace(dir.path()), ["run", "--help"]).expect_code(0);
    assert_golden("help/run.txt", &out.stdout);
}

/// The evaluator template, changed to log: `evaluating <id>` on every trace, a line on its
/// stdout, a warning on trace `t-1`, and for a trace of more than 5 spans 60 numbered
/// warnings and then an error.
fn logging_evaluator(dir: &Path) -> PathBuf {
    let plugin = new_plugin(dir, "run-logger", "rust-evaluator");
    crate::build::edit(
        &plugin.join("src/lib.rs"),
        "        let max_ms: u64 = config::get(\"max-span-ms\")?;",
        "        flowtrace_plugin_sdk::info!(\"evaluating {}\", trace.id());\n\
         println!(\"from stdout\");\n\
         if trace.id() == \"t-1\" { flowtrace_plugin_sdk::warn!(\"t-1 looks odd\"); }\n\
         if trace.span_count() > 5 {\n\
             for i in 0..60 { flowtrace_plugin_sdk::warn!(\"line {i}\"); }\n\
             return Err(PluginError::failed(\"too many spans\"));\n\
         }\n\
         let max_ms: u64 = config::get(\"max-span-ms\")?;",
    );
    plugin
}

/// `count` JSON lines of traces `t-<i>`, trace `i` with `spans(i)` spans.
fn numbered_traces(count: usize, spans: impl Fn(usize) -> usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let mut trace = flowtrace_plugins::testing::trace_with_spans(spans(i));
        trace.id = format!("t-{i}");
        text.push_str(&serde_json::to_string(&trace).unwrap());
        text.push('\n');
    }
    text
}

#[test]
fn each_traces_plugin_log_is_in_its_result_and_under_its_error() {
    let dir = tmp();
    let plugin = logging_evaluator(dir.path());
    // 20 traces (batch calls of 16 and 4), every 7th with 6 spans: an error after 60 lines.
    let big = |i: usize| if i % 7 == 3 { 6 } else { 2 };
    fs::write(dir.path().join("traces.jsonl"), numbered_traces(20, big)).unwrap();
    let out = run(
        guest(dir.path()),
        [
            "eval",
            s(&plugin),
            "traces.jsonl",
            "--message-format",
            "json",
            "-j",
            "2",
        ],
    )
    .expect_code(0);
    let results = messages(&out, "eval-result");
    assert_eq!(results.len(), 20);
    for (i, result) in results.iter().enumerate() {
        let log = result["log"].as_array().unwrap();
        let texts: Vec<&str> = log.iter().map(|l| l["message"].as_str().unwrap()).collect();
        if big(i) == 6 {
            // The last 50 of the 62 lines, the older ones counted.
            assert_eq!(result["verdict"], "error", "{result}");
            assert_eq!(texts.len(), 50, "{result}");
            assert_eq!(texts[0], "line 10");
            assert_eq!(texts[49], "line 59");
            assert_eq!(result["log-dropped"], 12);
            assert_eq!(log[49]["level"], "warn");
        } else {
            // Its own lines only, however the traces were batched.
            let mut expected = vec![format!("evaluating t-{i}"), "from stdout".to_string()];
            if i == 1 {
                expected.push("t-1 looks odd".to_string());
            }
            assert_eq!(texts, expected, "{result}");
            assert_eq!(log[0]["level"], "info");
            assert!(result.get("log-dropped").is_none());
        }
    }

    // Human output: the log under the error.
    let out = run(guest(dir.path()), ["eval", s(&plugin), "traces.jsonl"]).expect_code(0);
    let at = out
        .stderr
        .find("error: traces.jsonl:4: trace `t-3`: plugin error: ")
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let after: Vec<&str> = out.stderr[at..].lines().skip(1).take(4).collect();
    assert_eq!(
        after,
        [
            "plugin log:",
            "  (12 earlier lines not kept)",
            "  [warn] line 10",
            "  [warn] line 11"
        ]
    );
    // Each warning once: under its trace's error, or as a warning of its trace; the log
    // sink does not print them too as they are logged.
    assert_eq!(out.stderr.matches("line 59\n").count(), 3, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("t-1 looks odd").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "warning: traces.jsonl:2: trace `t-1`: plugin log:\n  [warn] t-1 looks odd\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_transformers_log_is_in_its_run_results() {
    let b = built();
    let dir = tmp();
    let plugin = new_plugin(dir.path(), "run-logging-redactor", "rust-transformer");
    crate::build::edit(
        &plugin.join("src/lib.rs"),
        "        let replacement: String = config::get(\"replacement\")?;",
        "        let replacement: String = config::get(\"replacement\")?;\n\
         flowtrace_plugin_sdk::info!(\"redacting {}\", traces[0].id());\n\
         if traces[0].span_count() == 0 { return Err(PluginError::failed(\"no spans\")); }",
    );
    let agent = b.traces("transformer", "agent-with-emails.json");
    let trace = &parse_traces(&fs::read(&agent).unwrap()).unwrap()[0];
    let empty = dir.path().join("empty.json");
    fs::write(&empty, r#"{"id": "empty", "spans": []}"#).unwrap();
    let out = run(
        guest(dir.path()),
        [
            "run",
            s(&plugin),
            s(&agent),
            s(&empty),
            "-o",
            "out.jsonl",
            "--message-format",
            "json",
        ],
    )
    .expect_code(0);
    let results = messages(&out, "run-result");
    let logs: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["log"][0]["message"].as_str().unwrap(),
            )
        })
        .collect();
    let first = format!("redacting {}", trace.id);
    assert_eq!(logs, [("ok", first.as_str()), ("error", "redacting empty")]);
    let out = run(guest(dir.path()), ["run", s(&plugin), s(&empty), "-q"]).expect_code(0);
    assert!(
        out.stderr
            .contains("plugin error: no spans\nplugin log:\n  [info] redacting empty\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_transformer_writes_otlp_json_with_to_otlp_and_eval_reads_it_back() {
    let b = built();
    let dir = tmp();
    let agent = b.traces("transformer", "agent-with-emails.json");
    let otlp = b.traces("transformer", "otlp-agent.json");
    let flowtrace_out = dir.path().join("flowtrace.jsonl");
    let otlp_out = dir.path().join("otlp.jsonl");
    let wasm = b.wasm("transformer");
    flow(
        dir.path(),
        &[s(&wasm), s(&agent), s(&otlp), "-o", s(&flowtrace_out)],
    )
    .expect_code(0);
    flow(
        dir.path(),
        &[
            s(&wasm),
            s(&agent),
            s(&otlp),
            "--to",
            "otlp",
            "-o",
            s(&otlp_out),
        ],
    )
    .expect_code(0);
    let text = fs::read_to_string(&otlp_out).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.lines().all(|l| l.starts_with("{\"resourceSpans\":")),
        "{text}"
    );
    assert!(!text.contains("jane.doe@example.com"));
    // The same traces, read back from either format: the same facts, the same verdicts.
    let from_flowtrace = parse_traces(&fs::read(&flowtrace_out).unwrap()).unwrap();
    let from_otlp = parse_traces(text.as_bytes()).unwrap();
    assert_eq!(from_flowtrace.len(), from_otlp.len());
    for (a, b) in from_flowtrace.iter().zip(&from_otlp) {
        assert_eq!(a.id, b.id);
        let facts = |t: &Trace| -> Vec<String> {
            t.spans
                .iter()
                .map(|s| {
                    format!(
                        "{} {:?} {:?} {:?} {:?} {:?} {:?}",
                        s.id, s.kind, s.status, s.input, s.output, s.model, s.usage
                    )
                })
                .collect()
        };
        assert_eq!(facts(a), facts(b));
    }
    let verdicts = |file: &Path| -> Vec<Value> {
        let out = run(
            flowtrace(dir.path()),
            [
                "eval",
                s(&b.wasm("evaluator")),
                s(file),
                "--message-format",
                "json",
            ],
        )
        .expect_code(0);
        messages(&out, "eval-result")
            .into_iter()
            .map(|r| serde_json::json!([r["trace-id"], r["verdict"], r["score"], r["metrics"]]))
            .collect()
    };
    assert_eq!(verdicts(&flowtrace_out), verdicts(&otlp_out));

    // A trace whose ids OTLP cannot hold is that trace's error.
    let lines = format!(
        "{}\n{}\n",
        r#"{"id": "not-hex", "spans": [{"id": "s", "name": "x"}]}"#,
        fs::read_to_string(&flowtrace_out)
            .unwrap()
            .lines()
            .next()
            .unwrap()
    );
    fs::write(dir.path().join("mixed.jsonl"), lines).unwrap();
    let out = flow(dir.path(), &[s(&wasm), "mixed.jsonl", "--to", "otlp"]).expect_code(0);
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(
        out.stderr.contains(
            "error: mixed.jsonl:1: trace `not-hex`: a transformed trace cannot be written as \
             OTLP/JSON: trace id `not-hex` is not 32 hex digits, as OTLP requires"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_python_embedder_gives_the_vectors_of_the_rust_one() {
    let b = built();
    let dir = tmp();
    // The Python template, built with the toolchains the whole test run shares.
    let mut command = flowtrace(dir.path());
    command.env("FLOWTRACE_HOME", crate::support::toolchain_home());
    run(
        command,
        ["new", "run-py-embedder", "--template", "python-embedder"],
    )
    .expect_code(0);
    let text = "The refund was approved\n\nWeather in Paris is sunny\nÉté À Paris\n";
    fs::write(dir.path().join("texts.txt"), text).unwrap();
    let vectors = |plugin: &str| -> Vec<(u64, Vec<f64>)> {
        let mut command = flowtrace(dir.path());
        command.env("FLOWTRACE_HOME", crate::support::toolchain_home());
        let out = run(command, ["run", plugin, "texts.txt", "-q"]).expect_code(0);
        out.stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let vector = v["vector"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect();
                (v["line"].as_u64().unwrap(), vector)
            })
            .collect()
    };
    let python = vectors("run-py-embedder");
    let rust = vectors(s(&b.wasm("embedder")));
    assert_eq!(python.len(), 3);
    assert_eq!(
        python.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        rust.iter().map(|(l, _)| *l).collect::<Vec<_>>()
    );
    for ((_, p), (_, r)) in python.iter().zip(&rust) {
        assert_eq!(p.len(), 64);
        assert!(
            p.iter().zip(r).all(|(x, y)| (x - y).abs() < 1e-6),
            "python {p:?}\nrust {r:?}"
        );
    }
}
