//! Every plugin kind through the runtime: exporter, embedder, transformer, and an evaluator
//! whose `embeddings` import is served by an embedder plugin.

use std::sync::Arc;

use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::results::{ExportFormat, PluginError};
use flowtrace_plugins::{
    testing, CallFailure, LoadOptions, Plugin, PreparedTrace, Runtime, Services,
};

fn load(
    guest: &str,
    world: &str,
    kind: PluginKind,
    embeddings: bool,
    services: Services,
) -> Plugin {
    let bytes = testing::componentize(
        &testing::guest_wat(guest),
        &format!("package test:guest; world w {{ {world} }}"),
    )
    .unwrap();
    let mut manifest = testing::manifest(guest, kind);
    manifest.capabilities.embeddings = embeddings;
    let options = LoadOptions {
        services,
        ..LoadOptions::default()
    };
    Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap()
}

fn embedder() -> Plugin {
    load(
        "embedder",
        "export flowtrace:plugin/embedder@0.1.0;",
        PluginKind::Embedder,
        false,
        Services::default(),
    )
}

#[test]
fn embedder_returns_one_vector_per_text() {
    let plugin = embedder();
    assert_eq!(plugin.dimension().unwrap(), 3);
    let texts = vec!["a".to_string(), "hello".to_string(), String::new()];
    assert_eq!(
        plugin.embed(&texts).unwrap(),
        vec![
            vec![1.0, 1.0, 2.0],
            vec![5.0, 1.0, 2.0],
            vec![0.0, 1.0, 2.0]
        ]
    );
}

#[test]
fn embeddings_capability_is_served_by_an_embedder_plugin() {
    let services = Services {
        embeddings: Some(Arc::new(embedder())),
        ..Services::default()
    };
    let user = load(
        "embeddings-user",
        "import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
        PluginKind::Evaluator,
        true,
        services,
    );
    let r = user
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
    assert_eq!(r.score, 0.5, "len(\"hello\") / 10 from the embedder plugin");

    // Without a provider, the guest sees `unavailable` and reports it.
    let lonely = load(
        "embeddings-user",
        "import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0;",
        PluginKind::Evaluator,
        true,
        Services::default(),
    );
    let err = lonely
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap_err();
    assert!(
        matches!(&err.reason, CallFailure::Plugin(PluginError::Unavailable(m)) if m.contains("no embedding provider")),
        "{err:?}"
    );
}

#[test]
fn transformer_gets_every_trace_back_by_value() {
    let plugin = load(
        "transformer",
        "export flowtrace:plugin/transformer@0.1.0;",
        PluginKind::Transformer,
        false,
        Services::default(),
    );
    let agent = PreparedTrace::new(testing::agent_trace());
    let empty = PreparedTrace::new(testing::trace_with_spans(0));
    let out = plugin
        .transform(&[agent.clone(), empty, agent.clone()])
        .unwrap();
    assert_eq!(out.len(), 2, "the empty trace was dropped");
    assert_eq!(
        &out[0],
        agent.trace(),
        "every field survives the round trip"
    );
    assert_eq!(&out[1], agent.trace());
}

#[test]
fn exporter_lists_formats_and_exports() {
    let plugin = load(
        "exporter",
        "export flowtrace:plugin/exporter@0.1.0;",
        PluginKind::Exporter,
        false,
        Services::default(),
    );
    assert_eq!(
        plugin.formats().unwrap(),
        vec![ExportFormat {
            name: "count".into(),
            media_type: "text/plain".into(),
            file_extension: "txt".into(),
        }]
    );
    let traces = [
        PreparedTrace::new(testing::trace_with_spans(3)),
        PreparedTrace::new(testing::trace_with_spans(4)),
    ];
    assert_eq!(plugin.export("count", &traces).unwrap(), b"2 7");
}

#[test]
fn traces_capability_reads_other_traces_from_the_provider() {
    use flowtrace_plugins::services::StaticTraces;
    let provider = StaticTraces::new(
        [1, 3, 5]
            .into_iter()
            .map(|n| PreparedTrace::new(testing::trace_with_spans(n)))
            .collect(),
    );
    let bytes = testing::componentize(
        &testing::guest_wat("traces-user"),
        "package test:guest; world w { import flowtrace:plugin/traces@0.1.0; export flowtrace:plugin/evaluator@0.1.0; }",
    )
    .unwrap();
    let mut manifest = testing::manifest("reader", PluginKind::Evaluator);
    manifest.capabilities.traces = true;
    let options = LoadOptions {
        services: Services {
            traces: Some(Arc::new(provider)),
            ..Services::default()
        },
        ..LoadOptions::default()
    };
    let plugin = Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap();
    let r = plugin
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
    assert_eq!(r.score, 0.3, "trace-3 has 3 spans");
}
