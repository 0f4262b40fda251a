//! Outgoing HTTP (`wasi:http/outgoing-handler`, capability `network`): every request, each
//! redirect hop included (wasi:http does not follow redirects, the guest sends each hop as a
//! new request), is checked against the manifest's host allow-list before anything leaves.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::host::services::{HttpRequest, LogLevel};
use crate::host::CallScope;

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

/// The per-store HTTP policy: allow-list check, then the network or the stub.
pub(crate) struct HttpPolicy {
    pub(crate) scope: Arc<CallScope>,
}

impl HttpPolicy {
    /// `Some(reason)` when the request must be refused.
    fn refusal(&self, uri: &http::Uri) -> Option<String> {
        let Some(host) = uri.host() else {
            return Some("the URL has no host".into());
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        let allowed = self.scope.ctx.grants.network.as_deref().unwrap_or_default();
        if allowed.is_empty() {
            return Some("the plugin has no `network` capability".into());
        }
        if allowed.iter().any(|p| p.matches_authority(host, port)) {
            None
        } else {
            Some(format!(
                "`{host}:{port}` is not in the network allow-list ({})",
                allowed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> SendFuture {
        drop(fut);
        if let Some(reason) = self.refusal(request.uri()) {
            self.scope.log_line(
                LogLevel::Warn,
                &format!("http request to {} refused: {reason}", request.uri()),
            );
            self.scope
                .record_denial(format!("{} {}", request.method(), request.uri()), reason);
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        match self.scope.ctx.services.http_stub.clone() {
            None => Box::new(async move {
                let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
                Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as IoFuture))
            }),
            Some(stub) => Box::new(async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await?.to_bytes();
                let req = HttpRequest {
                    method: parts.method.to_string(),
                    url: parts.uri.to_string(),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                    body: body.to_vec(),
                };
                let resp = stub.respond(&req).map_err(|_| Error::ConnectionRefused)?;
                let mut builder = http::Response::builder().status(resp.status);
                for (k, v) in &resp.headers {
                    builder = builder.header(k, v);
                }
                let body = Full::new(Bytes::from(resp.body))
                    .map_err(|never| match never {})
                    .boxed_unsync();
                let response = builder
                    .body(body)
                    .map_err(|e| Error::InternalError(Some(e.to_string())))?;
                Ok((response, Box::new(async { Ok(()) }) as IoFuture))
            }),
        }
    }
}
