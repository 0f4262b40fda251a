//! The contract suite: the same plugin of each kind written in Rust, Python and TypeScript
//! (`plugins/`), built with the CLI's build and run through the runtime over one set of
//! edge-case traces (`flowtrace_contract::traces`). Every case's outcome, results and errors
//! alike, must be byte-identical across the three languages; where a language documents
//! that it cannot show a trace exactly (`flowtrace_contract::python_view`), its outcome must
//! be exactly the documented one.
//!
//! Outcomes are compared as their `{:#?}` text: deterministic, and explicit about NaN,
//! infinities and negative zero (`serde_json` writes all of them as `null`). Each language's
//! outcome of a failing case is written to `target/contract-out/` for diffing.
//!
//! `cargo test -p flowtrace-contract -- FILTER...` runs the cases whose name contains a
//! filter (and builds only the plugins they need).

mod plugins;

use std::time::Instant;

use flowtrace_contract::{python_view, texts, traces, ABOVE_F64_INTEGERS, LARGE_TRACE_SPANS};
use flowtrace_plugins::error::CallFailure;
use flowtrace_plugins::manifest::{ConfigValue, PluginKind};
use flowtrace_plugins::results::{EvalResult, PluginError};
use flowtrace_plugins::trace::Trace;
use flowtrace_plugins::{Plugin, PreparedTrace};

use plugins::{Plugins, LANGUAGES};

/// What a case calls.
#[derive(Clone)]
enum Call {
    /// `evaluate`, one call per trace.
    Evaluate,
    /// `Plugin::evaluate_each` over all the traces: a fresh instance per trace.
    EvaluateEach,
    /// One `evaluate-batch` call over all the traces, in one instance.
    EvaluateBatch,
    Formats,
    Export(&'static str),
    Transform,
    Dimension,
    Embed(Vec<String>),
}

impl Call {
    fn kind(&self) -> PluginKind {
        match self {
            Call::Evaluate | Call::EvaluateEach | Call::EvaluateBatch => PluginKind::Evaluator,
            Call::Formats | Call::Export(_) => PluginKind::Exporter,
            Call::Transform => PluginKind::Transformer,
            Call::Dimension | Call::Embed(_) => PluginKind::Embedder,
        }
    }
}

struct Case {
    name: String,
    call: Call,
    config: Vec<(&'static str, ConfigValue)>,
    traces: Vec<Trace>,
}

impl Case {
    fn new(name: impl Into<String>, call: Call, traces: Vec<Trace>) -> Self {
        Self {
            name: name.into(),
            call,
            config: Vec::new(),
            traces,
        }
    }
}

/// A call's outcome: evaluations stay structured (a documented difference replaces some of
/// their metrics), the rest is text.
#[derive(Debug)]
enum Outcome {
    Evals(Vec<Result<EvalResult, CallFailure>>),
    Text(String),
}

impl Outcome {
    fn text(&self) -> String {
        match self {
            Outcome::Evals(evals) => format!("{evals:#?}"),
            Outcome::Text(text) => text.clone(),
        }
    }
}

fn run(plugin: &Plugin, call: &Call, traces: &[Trace]) -> Outcome {
    let prepared: Vec<PreparedTrace> = traces.iter().cloned().map(PreparedTrace::new).collect();
    let text = |r: &dyn std::fmt::Debug| Outcome::Text(format!("{r:#?}"));
    match call {
        Call::Evaluate => Outcome::Evals(
            prepared
                .iter()
                .map(|t| plugin.evaluate(t).map_err(|e| e.reason))
                .collect(),
        ),
        Call::EvaluateEach => Outcome::Evals(
            plugin
                .evaluate_each(&prepared)
                .into_iter()
                .map(|e| e.result.map_err(|e| e.reason))
                .collect(),
        ),
        Call::EvaluateBatch => match plugin.evaluate_batch(&prepared) {
            Ok(evals) => Outcome::Evals(evals),
            Err(e) => text(&e.reason),
        },
        Call::Formats => text(&plugin.formats().map_err(|e| e.reason)),
        Call::Export(format) => text(
            &plugin
                .export(format, &prepared)
                .map(String::from_utf8)
                .map_err(|e| e.reason),
        ),
        Call::Transform => text(&plugin.transform(&prepared).map_err(|e| e.reason)),
        Call::Dimension => text(&plugin.dimension().map_err(|e| e.reason)),
        Call::Embed(texts) => text(&plugin.embed(texts).map_err(|e| e.reason)),
    }
}

/// What the Python plugin must return where it differs: the Rust plugin's outcome on the
/// trace as the Python SDK shows it (`python_view`); `None` where the view is the trace. An
/// evaluation reads span facts (attribute counts among them) from the host as they are, so
/// there only the metrics of attributes (`...attr.*`) come from the view.
fn python_expected(rust: &Plugin, case: &Case) -> Option<Outcome> {
    let viewed: Vec<Trace> = case.traces.iter().map(python_view).collect();
    if format!("{viewed:?}") == format!("{:?}", case.traces) {
        return None;
    }
    Some(
        match (
            run(rust, &case.call, &case.traces),
            run(rust, &case.call, &viewed),
        ) {
            (Outcome::Evals(real), Outcome::Evals(view)) => Outcome::Evals(
                real.into_iter()
                    .zip(view)
                    .map(|pair| match pair {
                        (Ok(mut real), Ok(view)) => {
                            for metric in &mut real.metrics {
                                let seen = view.metrics.iter().find(|m| m.name == metric.name);
                                if let (true, Some(seen)) = (metric.name.contains("attr."), seen) {
                                    metric.value = seen.value.clone();
                                }
                            }
                            Ok(real)
                        }
                        (real, _) => real,
                    })
                    .collect(),
            ),
            (_, view) => view,
        },
    )
}

const CONFIG_CASES: &str = "evaluator/config/";

/// A config case TypeScript refuses, as documented in its README: `config.integer` will not
/// round an integer past 2^53 into a `number`.
const UNSAFE_DETAIL: &str = "integer-past-2^53";

/// The documented differences of the TypeScript SDK: the outcome it must have instead.
fn typescript_expected(case: &Case) -> Option<Outcome> {
    (case.name == format!("{CONFIG_CASES}{UNSAFE_DETAIL}")).then(|| {
        let why =
            format!("config `detail`: {ABOVE_F64_INTEGERS} is too large for a JavaScript number");
        Outcome::Evals(vec![Err(CallFailure::Plugin(PluginError::InvalidConfig(
            why,
        )))])
    })
}

fn cases() -> Vec<Case> {
    let all = traces();
    let full = all.iter().find(|(n, _)| *n == "full").unwrap().1.clone();
    let large = all.iter().find(|(n, _)| *n == "large").unwrap().1.clone();
    let every: Vec<Trace> = all.iter().map(|(_, t)| t.clone()).collect();
    let mut cases = Vec::new();
    for (name, trace) in &all {
        cases.push(Case::new(
            format!("evaluator/{name}"),
            Call::Evaluate,
            vec![trace.clone()],
        ));
        cases.push(Case::new(
            format!("exporter/dump/{name}"),
            Call::Export("dump"),
            vec![trace.clone()],
        ));
        cases.push(Case::new(
            format!("transformer/{name}"),
            Call::Transform,
            vec![trace.clone()],
        ));
    }
    cases.push(Case::new(
        "evaluator/batch",
        Call::EvaluateEach,
        every.clone(),
    ));
    cases.push(Case::new(
        "evaluator/evaluate-batch",
        Call::EvaluateBatch,
        every.clone(),
    ));
    let text = |s: &str| ConfigValue::String(s.into());
    let list = |l: &[&str]| ConfigValue::StringList(l.iter().map(|s| s.to_string()).collect());
    let configs = [
        (
            "extremes",
            vec![
                ("label", text("ünï 😀 \u{5d0}\u{5d1} e\u{301}")),
                ("scale", ConfigValue::Integer(i64::MIN)),
                ("weight", ConfigValue::Float(f64::NAN)),
                ("strict", ConfigValue::Boolean(true)),
                ("tags", list(&[])),
                ("detail", ConfigValue::Integer(0)),
            ],
        ),
        (
            "maxima",
            vec![
                ("label", text("")),
                ("scale", ConfigValue::Integer(i64::MAX)),
                ("weight", ConfigValue::Float(f64::NEG_INFINITY)),
                ("tags", list(&["😀", "", "e\u{301}", "\u{0}"])),
                ("detail", ConfigValue::Integer(1000)),
            ],
        ),
        (
            "unsafe-integers",
            vec![
                ("scale", ConfigValue::Integer(-(1 << 53) - 1)),
                ("weight", ConfigValue::Float(f64::INFINITY)),
                ("detail", ConfigValue::Integer(-1)),
            ],
        ),
        ("negative-zero", vec![("weight", ConfigValue::Float(-0.0))]),
        (
            UNSAFE_DETAIL,
            vec![("detail", ConfigValue::Integer(ABOVE_F64_INTEGERS as i64))],
        ),
    ];
    for (name, config) in configs {
        let mut case = Case::new(
            format!("{CONFIG_CASES}{name}"),
            Call::Evaluate,
            vec![full.clone()],
        );
        case.config = config;
        cases.push(case);
    }
    cases.push(Case::new("exporter/formats", Call::Formats, Vec::new()));
    cases.push(Case::new(
        "exporter/dump/all",
        Call::Export("dump"),
        every.clone(),
    ));
    cases.push(Case::new(
        "exporter/ids",
        Call::Export("ids"),
        every.clone(),
    ));
    cases.push(Case::new(
        "exporter/unknown-format",
        Call::Export("yaml"),
        vec![full.clone()],
    ));
    cases.push(Case::new("transformer/all", Call::Transform, every));
    cases.push(Case::new("transformer/none", Call::Transform, Vec::new()));
    cases.push(Case::new("embedder/dimension", Call::Dimension, Vec::new()));
    cases.push(Case::new(
        "embedder/texts",
        Call::Embed(texts()),
        Vec::new(),
    ));
    cases.push(Case::new(
        "embedder/no-texts",
        Call::Embed(Vec::new()),
        Vec::new(),
    ));
    let names: Vec<String> = large.spans.iter().map(|s| s.name.clone()).collect();
    assert_eq!(names.len(), LARGE_TRACE_SPANS);
    cases.push(Case::new(
        "embedder/large-trace-names",
        Call::Embed(names),
        Vec::new(),
    ));
    cases.push(Case::new(
        "embedder/refused",
        Call::Embed(vec!["ok".into(), "fail".into()]),
        Vec::new(),
    ));
    cases
}

/// The padding that brings the evaluator's result on `trace` to exactly its output limit,
/// found from the size the host reports for a result over it.
fn padding_at_limit(rust: &Plugin, trace: &Trace) -> Result<i64, String> {
    let limit = rust.limits().output as i64;
    let prepared = PreparedTrace::new(trace.clone());
    match rust.evaluate(&prepared).map_err(|e| e.reason) {
        Err(CallFailure::OutputTooLarge { size, .. }) => Ok(limit - (size as i64 - limit)),
        other => Err(format!("padding {limit} bytes gave {other:?}")),
    }
}

/// Isolation: the evaluator counts the traces its instance evaluated (`instance.evaluations`),
/// and every trace, of a batch too, must have had an instance of its own.
/// (`evaluate-batch` itself is one call in one instance: its traces count 1, 2, 3...)
fn isolation(language: &str, call: &Call, outcome: &Outcome) -> Option<String> {
    let Outcome::Evals(evals) = outcome else {
        return None;
    };
    if matches!(call, Call::EvaluateBatch) {
        return None;
    }
    let counts: Vec<String> = evals
        .iter()
        .flatten()
        .filter_map(|r| r.metrics.iter().find(|m| m.name == "instance.evaluations"))
        .map(|m| format!("{:?}", m.value))
        .collect();
    let shared = counts.iter().any(|c| c != "Integer(1)");
    shared.then(|| {
        format!(
            "{language}: traces shared an instance (`instance.evaluations` {})",
            counts.join(", ")
        )
    })
}

fn check(plugins: &Plugins, case: &Case) -> Result<(), String> {
    let kind = case.call.kind();
    let rust = plugins.load(LANGUAGES[0], kind, &case.config)?;
    let reference = run(&rust, &case.call, &case.traces);
    let mut problems: Vec<String> = isolation(LANGUAGES[0], &case.call, &reference)
        .into_iter()
        .collect();
    let reference = reference.text();
    let out = plugins::target_dir().join("contract-out");
    for language in &LANGUAGES[1..] {
        let plugin = plugins.load(language, kind, &case.config)?;
        let actual = run(&plugin, &case.call, &case.traces);
        problems.extend(isolation(language, &case.call, &actual));
        let actual = actual.text();
        let expected = match *language {
            "python" => python_expected(&rust, case),
            _ => typescript_expected(case),
        }
        .map(|o| o.text())
        .unwrap_or_else(|| reference.clone());
        if actual == expected {
            continue;
        }
        let file = |who: &str| out.join(format!("{}.{who}.txt", case.name.replace('/', "-")));
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        std::fs::write(file(language), &actual).map_err(|e| e.to_string())?;
        std::fs::write(file(&format!("{language}-expected")), &expected)
            .map_err(|e| e.to_string())?;
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        let at = |text: &str| text.lines().nth(line).unwrap_or("<end>").to_string();
        problems.push(format!(
            "{language} differs at line {}: `{}`, expected `{}` (both in {})",
            line + 1,
            at(&actual),
            at(&expected),
            out.display()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The output-limit cases also check what the reference did: the padding that fills the
/// limit exactly passes, one byte more is refused with the size.
fn expect_limit(plugins: &Plugins, case: &Case) -> Result<(), String> {
    let over = match case.name.as_str() {
        "evaluator/output-at-limit" => false,
        "evaluator/output-over-limit" => true,
        _ => return Ok(()),
    };
    let rust = plugins.load(LANGUAGES[0], PluginKind::Evaluator, &case.config)?;
    let limit = rust.limits().output;
    let outcome = rust
        .evaluate(&PreparedTrace::new(case.traces[0].clone()))
        .map_err(|e| e.reason);
    match outcome {
        Ok(_) if !over => Ok(()),
        Err(CallFailure::OutputTooLarge { size, .. }) if over && size == limit + 1 => Ok(()),
        other => Err(format!(
            "at the output limit ({limit} bytes) the result was {other:?}"
        )),
    }
}

fn main() {
    plugins::set_up_environment();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    // Like libtest: `--ignored` runs the ignored cases (there are none), `--list` names them.
    let ignored = args.iter().any(|a| a == "--ignored");
    let selected = |name: &str| {
        !ignored && (filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
    };
    let mut cases: Vec<Case> = cases().into_iter().filter(|c| selected(&c.name)).collect();
    let limit_cases = ["evaluator/output-at-limit", "evaluator/output-over-limit"];
    if args.iter().any(|a| a == "--list") {
        let names = cases.iter().map(|c| c.name.as_str()).chain(limit_cases);
        for name in names.filter(|n| selected(n)) {
            println!("{name}: test");
        }
        return;
    }
    let limits = limit_cases.iter().any(|n| selected(n));
    let mut kinds: Vec<PluginKind> = cases.iter().map(|c| c.call.kind()).collect();
    if limits {
        kinds.push(PluginKind::Evaluator);
    }
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        println!("\nrunning 0 contract cases\n\ntest result: ok. 0 passed; 0 failed\n");
        return;
    }

    let started = Instant::now();
    let plugins = match Plugins::build(&kinds) {
        Ok(plugins) => plugins,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(101);
        }
    };
    eprintln!(
        "built {} plugins in {:.1?}",
        kinds.len() * 3,
        started.elapsed()
    );
    let mut failed = Vec::new();
    if limits {
        let full = traces().into_iter().find(|(n, _)| *n == "full").unwrap().1;
        let pad = plugins
            .load(
                "rust",
                PluginKind::Evaluator,
                &[("pad", ConfigValue::Integer(1 << 16))],
            )
            .and_then(|rust| padding_at_limit(&rust, &full));
        match pad {
            Ok(pad) => {
                for (name, pad) in limit_cases.into_iter().zip([pad, pad + 1]) {
                    let mut case = Case::new(name, Call::Evaluate, vec![full.clone()]);
                    case.config = vec![("pad", ConfigValue::Integer(pad))];
                    cases.push(case);
                }
            }
            Err(e) => failed.push(("evaluator/output-limit".to_string(), e)),
        }
    }
    println!("\nrunning {} contract cases", cases.len());
    let run_started = Instant::now();
    for case in &cases {
        let outcome = check(&plugins, case).and_then(|()| expect_limit(&plugins, case));
        match outcome {
            Ok(()) => println!("test {} ... ok", case.name),
            Err(e) => {
                println!("test {} ... FAILED", case.name);
                failed.push((case.name.clone(), e));
            }
        }
    }
    eprintln!("ran the cases in {:.1?}", run_started.elapsed());
    for (name, e) in &failed {
        println!("\n---- {name} ----\n{e}");
    }
    let passed = cases
        .iter()
        .filter(|c| failed.iter().all(|(n, _)| *n != c.name))
        .count();
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; finished in {:.1?}\n",
        failed.len(),
        started.elapsed()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}
