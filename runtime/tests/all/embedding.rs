//! The runtime as a host embeds it: typed handles per kind, every call observed (the
//! `CallObserver`, `tracing` spans, log lines with their call and trace), and calls that wait
//! for an instance slot instead of failing.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowtrace_plugins::cache::CacheOutcome;
use flowtrace_plugins::manifest::{Limits, PluginKind};
use flowtrace_plugins::results::PluginError;
use flowtrace_plugins::services::{BoxFuture, EmbeddingProvider, LogLevel, LogRecord, LogSink};
use flowtrace_plugins::{
    testing, CallFailure, CallId, CallObserver, CallOutcome, CallRecord, Embedder, Evaluator,
    Exporter, KindHandle, KindMismatch, LoadOptions, Plugin, PreparedTrace, Runtime, RuntimeConfig,
    Services, Transformer, CALL_SPAN,
};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

// ---------------------------------------------------------------------------------------
// Helpers

/// The guests of `tests/guests/` by kind, with the world each is built for.
const GUESTS: [(&str, &str, PluginKind); 4] = [
    (
        "behaviors",
        "import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
        PluginKind::Evaluator,
    ),
    (
        "exporter",
        "export flowtrace:plugin/exporter@0.1.0;",
        PluginKind::Exporter,
    ),
    (
        "embedder",
        "export flowtrace:plugin/embedder@0.1.0;",
        PluginKind::Embedder,
    ),
    (
        "transformer",
        "export flowtrace:plugin/transformer@0.1.0;",
        PluginKind::Transformer,
    ),
];

fn component(guest: &str, world: &str) -> Vec<u8> {
    testing::componentize(
        &testing::guest_wat(guest),
        &format!("package test:guest; world w {{ {world} }}"),
    )
    .unwrap()
}

fn load_guest(runtime: &Runtime, guest: &str, services: Services) -> Plugin {
    let (_, world, kind) = GUESTS.iter().find(|(g, ..)| *g == guest).unwrap();
    let manifest = testing::manifest(guest, *kind);
    let options = LoadOptions {
        services,
        ..LoadOptions::default()
    };
    runtime
        .load(&component(guest, world), &manifest, options)
        .unwrap()
}

/// An evaluator that embeds "hello" through `embeddings` and scores vector[0] / 10.
fn embeddings_user(runtime: &Runtime, id: &str, services: Services) -> Plugin {
    let bytes = component(
        "embeddings-user",
        "import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
    );
    let mut manifest = testing::manifest(id, PluginKind::Evaluator);
    manifest.capabilities.embeddings = true;
    let options = LoadOptions {
        services,
        ..LoadOptions::default()
    };
    runtime.load(&bytes, &manifest, options).unwrap()
}

fn trace(spans: usize, id: &str) -> PreparedTrace {
    let mut trace = testing::trace_with_spans(spans);
    trace.id = id.to_string();
    PreparedTrace::new(trace)
}

/// Keeps every call record.
#[derive(Default)]
struct Records(Mutex<Vec<CallRecord>>);

impl Records {
    fn all(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }
}

impl CallObserver for Records {
    fn call_finished(&self, record: &CallRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

fn observed_runtime(records: &Arc<Records>) -> Runtime {
    Runtime::with_config(RuntimeConfig {
        observer: Some(records.clone()),
        ..RuntimeConfig::default()
    })
    .unwrap()
}

/// A log line with its call and trace.
type Line = (Option<CallId>, Option<String>, LogLevel, String);

/// Keeps every log line with its call and trace.
#[derive(Default)]
struct Lines(Mutex<Vec<Line>>);

impl LogSink for Lines {
    fn log(&self, _: &flowtrace_plugins::manifest::PluginId, _: LogLevel, _: &str) {
        panic!("the runtime calls `record`, with the call and trace");
    }

    fn record(&self, r: &LogRecord<'_>) {
        self.0.lock().unwrap().push((
            r.call,
            r.trace.map(str::to_string),
            r.level,
            r.message.to_string(),
        ));
    }
}

/// A span or an event as a `tracing` subscriber saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    name: String,
    fields: BTreeMap<String, String>,
    /// For an event: the fields of the span it happened in.
    parent: Option<BTreeMap<String, String>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").replace('"', ""),
        );
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

/// A `tracing` layer that keeps the closed spans and the events, and tells `waiting` of the
/// event a call logs when it waits for an instance slot.
#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<Seen>>>,
    events: Arc<Mutex<Vec<Seen>>>,
    waiting: Arc<Mutex<Option<mpsc::Sender<()>>>>,
}

struct Open(Seen);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: Context<'_, S>,
    ) {
        let mut seen = Seen {
            name: attrs.metadata().name().to_string(),
            ..Seen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        cx.span(id).unwrap().extensions_mut().insert(Open(seen));
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        cx: Context<'_, S>,
    ) {
        let span = cx.span(id).unwrap();
        let mut ext = span.extensions_mut();
        let open = ext.get_mut::<Open>().unwrap();
        values.record(&mut Fields(&mut open.0.fields));
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
        let mut seen = Seen::default();
        event.record(&mut Fields(&mut seen.fields));
        seen.parent = cx
            .event_span(event)
            .and_then(|s| s.extensions().get::<Open>().map(|o| o.0.fields.clone()));
        if seen.fields.get("message").map(String::as_str) == Some("waiting for an instance slot") {
            if let Some(tx) = self.waiting.lock().unwrap().as_ref() {
                let _ = tx.send(());
            }
        }
        self.events.lock().unwrap().push(seen);
    }

    fn on_close(&self, id: tracing::span::Id, cx: Context<'_, S>) {
        let span = cx.span(&id).unwrap();
        let seen = span.extensions().get::<Open>().map(|open| open.0.clone());
        if let Some(seen) = seen {
            self.spans.lock().unwrap().push(seen);
        }
    }
}

impl Capture {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        tracing_subscriber::registry().with(self.clone())
    }
}

/// Serves `embeddings`, and holds each call inside the guest until the test lets it go:
/// the calling plugin's instance stays alive meanwhile.
struct Gate {
    entered: mpsc::Sender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Gate {
    fn new() -> (Arc<Gate>, mpsc::Receiver<()>, mpsc::Sender<()>) {
        let (entered, on_enter) = mpsc::channel();
        let (release, on_release) = mpsc::channel();
        let gate = Arc::new(Gate {
            entered,
            release: Mutex::new(on_release),
        });
        (gate, on_enter, release)
    }
}

impl EmbeddingProvider for Gate {
    fn dimension(&self) -> BoxFuture<'_, Result<u32, PluginError>> {
        Box::pin(async { Ok(3) })
    }

    fn embed(&self, texts: Vec<String>) -> BoxFuture<'_, Result<Vec<Vec<f32>>, PluginError>> {
        Box::pin(async move {
            self.entered.send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
            Ok(vec![vec![5.0, 1.0, 2.0]; texts.len()])
        })
    }
}

// ---------------------------------------------------------------------------------------
// 1. Typed handles

/// Each handle of a kind, from a plugin of every kind: only the plugin of its own kind
/// gives one.
fn handles_of<H: KindHandle>(plugins: &[Plugin]) -> Vec<Result<H, KindMismatch>> {
    plugins.iter().map(|p| p.typed::<H>()).collect()
}

#[test]
fn a_typed_handle_exists_only_for_a_plugin_of_its_kind() {
    let runtime = Runtime::new().unwrap();
    let plugins: Vec<Plugin> = GUESTS
        .iter()
        .map(|(guest, ..)| load_guest(&runtime, guest, Services::default()))
        .collect();
    fn kinds_given<H: KindHandle>(plugins: &[Plugin]) -> Vec<PluginKind> {
        handles_of::<H>(plugins)
            .into_iter()
            .filter_map(|h| h.ok().map(|h| h.plugin().kind()))
            .collect()
    }
    assert_eq!(kinds_given::<Evaluator>(&plugins), [PluginKind::Evaluator]);
    assert_eq!(kinds_given::<Exporter>(&plugins), [PluginKind::Exporter]);
    assert_eq!(kinds_given::<Embedder>(&plugins), [PluginKind::Embedder]);
    assert_eq!(
        kinds_given::<Transformer>(&plugins),
        [PluginKind::Transformer]
    );

    let exporter = &plugins[1];
    let err = exporter.as_evaluator().unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `exporter` is an exporter, not an evaluator"
    );
    assert_eq!(err.kind, PluginKind::Exporter);
    assert_eq!(err.expected, PluginKind::Evaluator);
    let err = Embedder::try_from(plugins[3].clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `transformer` is a transformer, not an embedder"
    );

    // Each handle makes its kind's calls.
    let evaluator = plugins[0].as_evaluator().unwrap();
    assert_eq!(evaluator.evaluate(&trace(7, "t")).unwrap().score, 0.5);
    let results = evaluator.evaluate_each(&[trace(0, "a"), trace(7, "b")]);
    let scores: Vec<f64> = results
        .iter()
        .map(|e| e.result.as_ref().unwrap().score)
        .collect();
    assert_eq!(scores, [1.0, 0.5]);
    let exporter = plugins[1].as_exporter().unwrap();
    assert_eq!(exporter.formats().unwrap()[0].name, "count");
    assert_eq!(
        exporter
            .export("count", &[trace(3, "a"), trace(4, "b")])
            .unwrap(),
        b"2 7"
    );
    let embedder = plugins[2].as_embedder().unwrap();
    assert_eq!(embedder.dimension().unwrap(), 3);
    assert_eq!(
        embedder.embed(&["hello".to_string()]).unwrap(),
        [vec![5.0, 1.0, 2.0]]
    );
    let transformer = plugins[3].as_transformer().unwrap();
    let agent = PreparedTrace::new(testing::agent_trace());
    assert_eq!(
        transformer.transform(std::slice::from_ref(&agent)).unwrap(),
        [agent.trace().clone()]
    );
    // Back to the plugin, and the handle is `Send + Sync + Clone` as the plugin is.
    fn shareable<T: Send + Sync + Clone + 'static>(_: &T) {}
    shareable(&transformer);
    assert_eq!(Plugin::from(transformer).kind(), PluginKind::Transformer);
}

#[test]
fn an_embedder_handle_serves_embeddings() {
    let runtime = Runtime::new().unwrap();
    let embedder = load_guest(&runtime, "embedder", Services::default())
        .as_embedder()
        .unwrap();
    let user = embeddings_user(
        &runtime,
        "embeddings-user",
        Services {
            embeddings: Some(Arc::new(embedder)),
            ..Services::default()
        },
    )
    .as_evaluator()
    .unwrap();
    assert_eq!(user.evaluate(&trace(0, "t")).unwrap().score, 0.5);
}

// ---------------------------------------------------------------------------------------
// 4. Observability

#[test]
fn every_call_is_recorded_with_its_costs_and_outcome() {
    let records = Arc::new(Records::default());
    let runtime = observed_runtime(&records);
    let bytes = component(
        "behaviors",
        "import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
    );
    let mut manifest = testing::manifest("behaviors", PluginKind::Evaluator);
    manifest.limits = Limits {
        memory: Some(4 << 20),
        timeout: Some(Duration::from_millis(100)),
        output: None,
    };
    let plugin = runtime
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap();

    plugin.evaluate(&trace(0, "ok-trace")).unwrap();
    plugin.evaluate(&trace(2, "bomb-trace")).unwrap_err();
    plugin.evaluate(&trace(1, "loop-trace")).unwrap_err();
    plugin.evaluate(&trace(4, "big-trace")).unwrap_err();
    let exporter = load_guest(&runtime, "exporter", Services::default());
    exporter
        .export("count", &[trace(3, "x"), trace(4, "y")])
        .unwrap();

    let all = records.all();
    let summary: Vec<(&str, Vec<&str>, &str)> = all
        .iter()
        .map(|r| {
            (
                r.function,
                r.traces.iter().map(String::as_str).collect(),
                r.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("evaluate", vec!["ok-trace"], "ok"),
            ("evaluate", vec!["bomb-trace"], "memory-limit"),
            ("evaluate", vec!["loop-trace"], "timeout"),
            ("evaluate", vec!["big-trace"], "output-too-large"),
            ("export", vec!["x", "y"], "ok"),
        ]
    );
    let ids: Vec<u64> = all.iter().map(|r| r.call.get()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for r in &all {
        assert!(r.instantiate > Duration::ZERO, "{r:?}");
        assert!(r.memory_peak > 0, "{r:?}");
        assert_eq!(r.cache, CacheOutcome::Disabled);
        assert_eq!(r.queued, Duration::ZERO.max(r.queued));
    }
    let (ok, bomb, looped, big, export) = (&all[0], &all[1], &all[2], &all[3], &all[4]);
    assert_eq!(ok.plugin.as_str(), "behaviors");
    assert_eq!(ok.kind, PluginKind::Evaluator);
    // The memory bomb grew up to its 4 MiB limit; the ok call stayed far below.
    assert!(
        bomb.memory_peak > 3 << 20 && bomb.memory_peak <= 4 << 20,
        "{bomb:?}"
    );
    assert!(ok.memory_peak < bomb.memory_peak);
    // A call that ran its 100 ms deadline out saw the epoch advance.
    assert!(looped.epochs >= 1, "{looped:?}");
    assert!(looped.run >= Duration::from_millis(100), "{looped:?}");
    // Output as the meter counts it: a result record, and the 2 MiB label refused.
    assert!(ok.output_bytes > 0 && ok.output_bytes < 1024, "{ok:?}");
    assert!(big.output_bytes > 2 << 20, "{big:?}");
    assert_eq!(export.output_bytes, 3, "`2 7`");
    assert_eq!(export.kind, PluginKind::Exporter);
}

#[test]
fn a_batch_call_is_one_record_with_all_its_traces() {
    let records = Arc::new(Records::default());
    let runtime = observed_runtime(&records);
    let bytes =
        testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD).unwrap();
    let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
    manifest.capabilities.storage = true;
    manifest.capabilities.traces = true;
    let counter = runtime
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap()
        .as_evaluator()
        .unwrap();
    let traces: Vec<PreparedTrace> = (0..3).map(|i| trace(7, &format!("t{i}"))).collect();
    let results = counter.evaluate_batch(&traces).unwrap();
    assert_eq!(results.len(), 3);
    // `behaviors` traps in `evaluate-batch`.
    let behaviors = load_guest(&runtime, "behaviors", Services::default());
    let err = behaviors.evaluate_batch(&traces[..2]).unwrap_err();
    assert!(matches!(err.reason, CallFailure::Trap { .. }), "{err:?}");
    let all = records.all();
    let summary: Vec<(&str, &str, Vec<&str>, &str)> = all
        .iter()
        .map(|r| {
            (
                r.plugin.as_str(),
                r.function,
                r.traces.iter().map(String::as_str).collect(),
                r.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("counter", "evaluate-batch", vec!["t0", "t1", "t2"], "ok"),
            ("behaviors", "evaluate-batch", vec!["t0", "t1"], "trap"),
        ]
    );
}

#[test]
fn each_call_is_a_span_and_its_log_lines_carry_the_call_and_trace() {
    let records = Arc::new(Records::default());
    let runtime = observed_runtime(&records);
    let bytes = testing::componentize(
        &testing::guest_wat("services"),
        "package test:guest; world w { import flowtrace:plugin/log@0.1.0; \
         import flowtrace:plugin/config@0.1.0; import flowtrace:plugin/kv@0.1.0; \
         import wasi:cli/stdout@0.2.12; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    let mut manifest = testing::manifest("services", PluginKind::Evaluator);
    manifest.capabilities.storage = true;
    manifest.config.insert(
        "threshold".into(),
        flowtrace_plugins::manifest::ConfigField {
            ty: flowtrace_plugins::manifest::ConfigType::Float,
            default: Some(flowtrace_plugins::manifest::ConfigValue::Float(0.25)),
            description: None,
        },
    );
    let plugin = runtime
        .load(&bytes, &manifest, LoadOptions::default())
        .unwrap();

    // With the default sink, lines are `tracing` events inside the call's span.
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.subscriber(), || {
        plugin.evaluate(&trace(0, "first")).unwrap();
    });
    let spans = capture.spans.lock().unwrap().clone();
    let calls: Vec<&Seen> = spans.iter().filter(|s| s.name == CALL_SPAN).collect();
    assert_eq!(calls.len(), 1, "{spans:?}");
    let f = &calls[0].fields;
    let record = &records.all()[0];
    for (key, value) in [
        ("flowtrace.plugin.id", "services"),
        ("flowtrace.plugin.version", "0.1.0"),
        ("flowtrace.plugin.kind", "evaluator"),
        ("flowtrace.plugin.function", "evaluate"),
        ("flowtrace.plugin.cache", "disabled"),
        ("flowtrace.trace.id", "first"),
        ("flowtrace.trace.count", "1"),
        ("flowtrace.call.outcome", "ok"),
        ("otel.status_code", "OK"),
        ("otel.name", "evaluate services"),
    ] {
        assert_eq!(f.get(key).map(String::as_str), Some(value), "{key}: {f:?}");
    }
    assert_eq!(f["flowtrace.call.id"], record.call.to_string());
    assert_eq!(
        f["flowtrace.call.memory_peak_bytes"],
        record.memory_peak.to_string()
    );
    assert_eq!(
        f["flowtrace.call.output_bytes"],
        record.output_bytes.to_string()
    );
    for key in [
        "flowtrace.call.queued_us",
        "flowtrace.call.instantiate_us",
        "flowtrace.call.run_us",
        "flowtrace.call.epochs",
    ] {
        assert!(f[key].parse::<u64>().is_ok(), "{key}: {f:?}");
    }
    let events = capture.events.lock().unwrap().clone();
    let line = events
        .iter()
        .find(|e| e.fields.get("message").map(String::as_str) == Some("hello from the guest"))
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(line.fields["flowtrace.call.id"], record.call.to_string());
    assert_eq!(line.fields["flowtrace.trace.id"], "first");
    assert_eq!(line.fields["flowtrace.plugin.id"], "services");
    assert_eq!(
        line.parent.as_ref().unwrap()["flowtrace.call.id"],
        record.call.to_string(),
        "logged inside the call's span"
    );

    // A sink of its own gets each line with its call and trace: calls on two threads at
    // once are told apart.
    let lines = Arc::new(Lines::default());
    let plugin = runtime
        .load(
            &bytes,
            &manifest,
            LoadOptions {
                services: Services {
                    log: lines.clone(),
                    ..Services::default()
                },
                ..LoadOptions::default()
            },
        )
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..2 {
            let plugin = &plugin;
            s.spawn(move || {
                for i in 0..5 {
                    plugin
                        .evaluate(&trace(0, &format!("thread{t}-{i}")))
                        .unwrap();
                }
            });
        }
    });
    let calls: BTreeMap<CallId, Vec<String>> = records
        .all()
        .into_iter()
        .map(|r| (r.call, r.traces))
        .collect();
    let lines = lines.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 20, "a log line and a printed line per call");
    for (call, trace, level, message) in &lines {
        let call = call.expect("logged in a call");
        assert_eq!(
            calls[&call].first(),
            trace.as_ref(),
            "the line's trace is its call's"
        );
        match level {
            LogLevel::Info => {
                assert!(message == "hello from the guest" || message == "printed line")
            }
            other => panic!("{other:?} {message}"),
        }
    }
    let per_call: BTreeMap<CallId, usize> = lines.iter().fold(BTreeMap::new(), |mut m, l| {
        *m.entry(l.0.unwrap()).or_default() += 1;
        m
    });
    assert_eq!(per_call.len(), 10, "ten calls, told apart");
    assert!(per_call.values().all(|n| *n == 2));
}

// ---------------------------------------------------------------------------------------
// 5. Backpressure

/// A runtime with `pool` slots, a plugin whose call holds its slot until released, and a
/// second plugin.
struct Held {
    runtime: Runtime,
    records: Arc<Records>,
    holder: Plugin,
    on_enter: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

fn held(pool: u32, wait: Duration, share: Option<u32>) -> Held {
    let records = Arc::new(Records::default());
    let runtime = Runtime::with_config(RuntimeConfig {
        pool_size: Some(pool),
        pool_wait: wait,
        pool_share: share,
        observer: Some(records.clone()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let (gate, on_enter, release) = Gate::new();
    let holder = embeddings_user(
        &runtime,
        "holder",
        Services {
            embeddings: Some(gate),
            ..Services::default()
        },
    );
    Held {
        runtime,
        records,
        holder,
        on_enter,
        release,
    }
}

#[test]
fn a_call_waits_for_a_free_slot_instead_of_failing() {
    let h = held(1, Duration::from_secs(60), None);
    let other = load_guest(&h.runtime, "behaviors", Services::default());
    let capture = Capture::default();
    let (waiting_tx, waiting) = mpsc::channel();
    *capture.waiting.lock().unwrap() = Some(waiting_tx);
    std::thread::scope(|s| {
        let first = s.spawn(|| h.holder.evaluate(&trace(0, "first")));
        h.on_enter.recv().unwrap();
        // The one slot is taken: the second call waits for it.
        let second = s.spawn(|| {
            tracing::subscriber::with_default(capture.subscriber(), || {
                other.evaluate(&trace(0, "second"))
            })
        });
        waiting.recv().unwrap();
        h.release.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap().score, 0.5);
        assert_eq!(second.join().unwrap().unwrap().score, 1.0);
    });
    let all = h.records.all();
    let second = all.iter().find(|r| r.traces == ["second"]).unwrap();
    assert!(second.queued > Duration::ZERO, "{second:?}");
    assert_eq!(second.outcome, CallOutcome::Ok);
}

#[test]
fn a_call_that_waits_past_pool_wait_fails_saying_so() {
    let h = held(1, Duration::from_millis(50), None);
    let other = load_guest(&h.runtime, "behaviors", Services::default());
    std::thread::scope(|s| {
        let first = s.spawn(|| h.holder.evaluate(&trace(0, "first")));
        h.on_enter.recv().unwrap();
        let err = other.evaluate(&trace(0, "second")).unwrap_err();
        assert!(
            matches!(&err.reason, CallFailure::PoolExhausted(m) if m == "no instance slot came free within 50ms"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "plugin `behaviors` failed: the host's instance pool is exhausted (no instance slot \
             came free within 50ms); retry when other calls finish"
        );
        h.release.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap().score, 0.5);
    });
    let outcomes: Vec<&str> = h.records.all().iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["pool-exhausted", "ok"]);
}

#[test]
fn a_plugin_holds_no_more_than_its_share_of_the_pool() {
    let h = held(4, Duration::from_millis(50), Some(1));
    let other = load_guest(&h.runtime, "behaviors", Services::default());
    std::thread::scope(|s| {
        let first = s.spawn(|| h.holder.evaluate(&trace(0, "first")));
        h.on_enter.recv().unwrap();
        // The pool has room, so another plugin runs at once...
        assert_eq!(other.evaluate(&trace(0, "other")).unwrap().score, 1.0);
        // ...but the holder has used its share of one.
        let err = h.holder.evaluate(&trace(0, "again")).unwrap_err();
        assert!(
            matches!(err.reason, CallFailure::PoolExhausted(_)),
            "{err:?}"
        );
        h.release.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap().score, 0.5);
    });
    // Its share is free again.
    let holder = &h.holder;
    let again = std::thread::scope(|s| {
        let call = s.spawn(|| holder.evaluate(&trace(0, "later")));
        h.on_enter.recv().unwrap();
        h.release.send(()).unwrap();
        call.join().unwrap()
    });
    assert_eq!(again.unwrap().score, 0.5);
}

#[test]
fn a_batch_calls_log_lines_carry_the_trace_the_guest_was_on() {
    let records = Arc::new(Records::default());
    let runtime = observed_runtime(&records);
    let lines = Arc::new(Lines::default());
    let bytes =
        testing::componentize(&testing::guest_wat("counter"), testing::COUNTER_WORLD).unwrap();
    let mut manifest = testing::manifest("counter", PluginKind::Evaluator);
    manifest.capabilities.storage = true;
    manifest.capabilities.traces = true;
    manifest.limits.timeout = Some(Duration::from_millis(100));
    let options = LoadOptions {
        services: Services {
            log: lines.clone(),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let counter = runtime.load(&bytes, &manifest, options).unwrap();
    // The second trace (one span) logs `looping` and loops past its deadline.
    let err = counter
        .evaluate_batch(&[trace(2, "quick"), trace(1, "looping"), trace(2, "never")])
        .unwrap_err();
    assert!(matches!(err.reason, CallFailure::Timeout { .. }), "{err:?}");
    let call = records.all()[0].call;
    let lines = lines.0.lock().unwrap().clone();
    assert_eq!(
        lines,
        [(
            Some(call),
            Some("looping".to_string()),
            LogLevel::Warn,
            "looping".to_string()
        )]
    );
}
