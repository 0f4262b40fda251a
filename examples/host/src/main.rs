//! An example host: embeds `flowtrace-plugins` the way the Flowtrace app does.
//!
//! ```text
//! flowtrace-example-host <FLOWTRACE_HOME> <TRACES>...
//! ```
//!
//! It opens the plugin registry at `FLOWTRACE_HOME`, loads every enabled plugin of each
//! kind as a typed handle (`Evaluator`, `Exporter`, `Embedder`, `Transformer`), reads the
//! trace files (OTLP JSON or protobuf, Flowtrace JSON), then runs the transformers over the
//! traces, the evaluators on two threads, the embedders over the root span names, and the
//! exporters in their first format. Each plugin call is printed to stdout by a
//! `CallObserver` (`call` lines) and to stderr as a closed `flowtrace.plugin.call` span, with
//! the log lines of the plugins inside it. A plugin that does not load is reported with what
//! would fix it, and the others still run.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use flowtrace_plugins::registry::{LoadedPlugin, Registry};
use flowtrace_plugins::{
    trace, CallObserver, CallRecord, Embedder, Evaluator, Exporter, HostCaps, KindHandle,
    PreparedTrace, Runtime, RuntimeConfig, Services, Transformer,
};
use tracing_subscriber::fmt::format::FmtSpan;

/// Prints one line per call: what it cost and how it ended.
struct PrintCalls;

impl CallObserver for PrintCalls {
    fn call_finished(&self, r: &CallRecord) {
        println!(
            "call {:>3}  {:<26} {:<14} traces={:<2} outcome={:<14} queued={:?} instantiate={:?} \
             run={:?} epochs={} memory={}KiB output={}B cache={}",
            r.call,
            r.plugin.as_str(),
            r.function,
            r.traces.len(),
            r.outcome.as_str(),
            r.queued,
            r.instantiate,
            r.run,
            r.epochs,
            r.memory_peak >> 10,
            r.output_bytes,
            r.cache.as_str(),
        );
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let home = PathBuf::from(
        args.next()
            .ok_or("usage: flowtrace-example-host <FLOWTRACE_HOME> <TRACES>...")?,
    );
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();

    // Every call is a span: printed when it closes, with the fields the runtime recorded.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_span_events(FmtSpan::CLOSE)
        .with_env_filter("flowtrace::plugin=info")
        .init();

    // One runtime per process: one engine, one policy, shared by every plugin. Calls that
    // find the instance pool full wait for a slot; no plugin holds more than 8 at once.
    // Plugins may return up to 16 MiB (an exporter's file, an embedder's vectors).
    let runtime = Runtime::with_config(RuntimeConfig {
        caps: HostCaps {
            output: 16 << 20,
            ..HostCaps::default()
        },
        observer: Some(Arc::new(PrintCalls)),
        pool_share: Some(8),
        ..RuntimeConfig::default()
    })?;
    let registry = Registry::open(&home)?;
    // Log lines go to `tracing` (inside each call's span), `kv` to memory.
    let services = Services::default();

    let evaluators = loaded::<Evaluator>(&registry, &runtime, &services)?;
    let exporters = loaded::<Exporter>(&registry, &runtime, &services)?;
    let embedders = loaded::<Embedder>(&registry, &runtime, &services)?;
    let transformers = loaded::<Transformer>(&registry, &runtime, &services)?;
    // Which embedder serves which plugin's `embeddings`, as the registry names it.
    for summary in registry.enabled(None)? {
        if let Some(choice) = registry.info(&summary.id)?.embedder {
            println!("wiring: `{}` gets its embeddings from {choice}", summary.id);
        }
    }

    let mut traces = Vec::new();
    for file in &files {
        let bytes =
            std::fs::read(file).map_err(|e| format!("failed to read `{}`: {e}", file.display()))?;
        for t in trace::parse_traces(&bytes).map_err(|e| format!("`{}`: {e}", file.display()))? {
            traces.push(runtime.prepare(t)?);
        }
    }
    println!("traces: {} from {} files", traces.len(), files.len());

    // Transformers, one after the other.
    for transformer in &transformers {
        match transformer.transform(&traces) {
            Ok(out) => {
                println!(
                    "transform: `{}` gave {} traces",
                    transformer.id(),
                    out.len()
                );
                traces = out.into_iter().map(PreparedTrace::new).collect();
            }
            Err(e) => println!("transform: {e}"),
        }
    }

    // Evaluators: the traces split over two threads, every evaluator on each half.
    let half = traces.len().div_ceil(2);
    std::thread::scope(|s| {
        for (worker, part) in traces.chunks(half.max(1)).enumerate() {
            let evaluators = &evaluators;
            s.spawn(move || {
                for evaluator in evaluators {
                    for (t, e) in part.iter().zip(evaluator.evaluate_each(part)) {
                        match e.result {
                            Ok(r) => println!(
                                "evaluate: thread {worker} `{}` trace {}: score {:.3} passed {}",
                                evaluator.id(),
                                t.trace().id,
                                r.score,
                                r.passed
                            ),
                            Err(e) => {
                                println!("evaluate: thread {worker} trace {}: {e}", t.trace().id)
                            }
                        }
                    }
                }
            });
        }
    });

    // Embedders: the name of each trace's first span.
    let names: Vec<String> = traces
        .iter()
        .filter_map(|t| t.trace().spans.first().map(|s| s.name.clone()))
        .collect();
    for embedder in &embedders {
        let dimension = embedder.dimension()?;
        let vectors = embedder.embed(&names)?;
        println!(
            "embed: `{}` gave {} vectors of dimension {dimension}",
            embedder.id(),
            vectors.len()
        );
    }

    // Exporters: every trace in the first format each offers.
    for exporter in &exporters {
        let formats = exporter.formats()?;
        let Some(format) = formats.first() else {
            println!("export: `{}` offers no format", exporter.id());
            continue;
        };
        let bytes = exporter.export(&format.name, &traces)?;
        println!(
            "export: `{}` wrote {} bytes of {} ({})",
            exporter.id(),
            bytes.len(),
            format.name,
            format.media_type
        );
    }
    Ok(())
}

/// The enabled plugins of `H`'s kind that loaded; those that did not are reported, with
/// what would fix them.
fn loaded<H: KindHandle>(
    registry: &Registry,
    runtime: &Runtime,
    services: &Services,
) -> Result<Vec<H>, Box<dyn Error>> {
    let mut handles = Vec::new();
    for LoadedPlugin { id, kind, plugin } in registry.load_enabled_as::<H>(runtime, services)? {
        match plugin {
            Ok(handle) => {
                println!("loaded: {kind} `{id}`");
                handles.push(handle);
            }
            Err(e) => {
                println!("not loaded: {kind} `{id}`: {e}");
                let fix = match &e {
                    flowtrace_plugins::registry::LoadEnabledError::Registry(e) => e.help(),
                    _ => None,
                };
                if let Some(help) = fix {
                    println!("  help: {help}");
                }
            }
        }
    }
    Ok(handles)
}
