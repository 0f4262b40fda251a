//! Outgoing HTTP under the network allow-list, against a real server on 127.0.0.1.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flowtrace_plugins::manifest::{ConfigField, ConfigType, ConfigValue, HostPattern, PluginKind};
use flowtrace_plugins::results::PluginError;
use flowtrace_plugins::services::{HttpRequest, HttpResponse, HttpStub};
use flowtrace_plugins::{testing, CallFailure, LoadOptions, PreparedTrace, Runtime, Services};

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers `200 ok` and counts requests.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                // Read the request head up to the blank line.
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Self { port, hits }
    }
}

fn http_plugin(
    hosts: Option<Vec<HostPattern>>,
    authority: String,
    services: Services,
) -> flowtrace_plugins::Plugin {
    let bytes = testing::componentize(
        &testing::guest_wat("http"),
        "package test:guest; world w {
            import wasi:http/outgoing-handler@0.2.12;
            import flowtrace:plugin/config@0.1.0;
            export flowtrace:plugin/evaluator@0.1.0;
        }",
    )
    .unwrap();
    let mut manifest = testing::manifest("fetcher", PluginKind::Evaluator);
    manifest.capabilities.network = hosts;
    manifest.config.insert(
        "authority".into(),
        ConfigField {
            ty: ConfigType::String,
            default: None,
            description: None,
        },
    );
    let options = LoadOptions {
        config: BTreeMap::from([("authority".to_string(), ConfigValue::String(authority))]),
        services,
        ..LoadOptions::default()
    };
    Runtime::new()
        .unwrap()
        .load(&bytes, &manifest, options)
        .unwrap()
}

fn host(host: &str, port: Option<u16>) -> HostPattern {
    HostPattern {
        host: host.into(),
        wildcard: false,
        port,
    }
}

fn trace() -> PreparedTrace {
    PreparedTrace::new(testing::trace_with_spans(1))
}

#[test]
fn allowed_host_reaches_the_server() {
    let server = Server::start();
    let plugin = http_plugin(
        Some(vec![host("127.0.0.1", Some(server.port))]),
        format!("127.0.0.1:{}", server.port),
        Services::default(),
    );
    let r = plugin.evaluate(&trace()).unwrap();
    assert_eq!(r.score, 0.2, "status 200");
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn host_outside_the_allow_list_is_refused_before_any_byte_leaves() {
    let server = Server::start();
    let plugin = http_plugin(
        Some(vec![host("api.openai.com", None)]),
        format!("127.0.0.1:{}", server.port),
        Services::default(),
    );
    let err = plugin.evaluate(&trace()).unwrap_err();
    match &err.reason {
        CallFailure::CapabilityDenied {
            denials,
            plugin_error,
        } => {
            assert_eq!(denials.len(), 1);
            assert_eq!(
                denials[0].what,
                format!("GET http://127.0.0.1:{}/hello", server.port)
            );
            assert_eq!(
                denials[0].reason,
                format!(
                    "`127.0.0.1:{}` is not in the network allow-list (api.openai.com)",
                    server.port
                )
            );
            assert_eq!(
                plugin_error,
                &Some(PluginError::Unavailable("request failed".into()))
            );
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    // The same host on another port is not the allowed one either.
    let plugin = http_plugin(
        Some(vec![host("127.0.0.1", Some(server.port.wrapping_add(1)))]),
        format!("127.0.0.1:{}", server.port),
        Services::default(),
    );
    assert!(matches!(
        plugin.evaluate(&trace()).unwrap_err().reason,
        CallFailure::CapabilityDenied { .. }
    ));
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn no_network_capability_links_wasi_http_but_refuses_every_request() {
    let server = Server::start();
    let plugin = http_plugin(
        None,
        format!("127.0.0.1:{}", server.port),
        Services::default(),
    );
    let err = plugin.evaluate(&trace()).unwrap_err();
    match &err.reason {
        CallFailure::CapabilityDenied { denials, .. } => {
            assert_eq!(denials[0].reason, "the plugin has no `network` capability")
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

struct Canned;

impl HttpStub for Canned {
    fn respond(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        assert_eq!(request.method, "GET");
        assert_eq!(request.url, "http://api.example.com/hello");
        Ok(HttpResponse {
            status: 201,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"stubbed".to_vec(),
        })
    }
}

#[test]
fn stubbed_responses_answer_allowed_requests_and_the_policy_still_applies() {
    let services = Services {
        http_stub: Some(Arc::new(Canned)),
        ..Services::default()
    };
    let plugin = http_plugin(
        Some(vec![HostPattern {
            host: "example.com".into(),
            wildcard: true,
            port: None,
        }]),
        "api.example.com".into(),
        services.clone(),
    );
    assert_eq!(plugin.evaluate(&trace()).unwrap().score, 0.201);
    // A stub never widens the allow-list.
    let plugin = http_plugin(
        Some(vec![host("other.com", None)]),
        "api.example.com".into(),
        services,
    );
    assert!(matches!(
        plugin.evaluate(&trace()).unwrap_err().reason,
        CallFailure::CapabilityDenied { .. }
    ));
}
