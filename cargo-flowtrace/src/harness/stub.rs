//! The HTTP stub a case's plugin talks to instead of the network.

use std::sync::Mutex;

use flowtrace_plugins::services::{HttpRequest, HttpResponse, HttpStub};

use super::fixture::StubbedResponse;

/// Answers each request the policy allowed from the fixture's `[[http]]` entries (the first
/// that matches); remembers every request and each one nothing matched.
#[derive(Debug, Default)]
pub struct FixtureHttp {
    responses: Vec<StubbedResponse>,
    seen: Mutex<Vec<String>>,
    unmatched: Mutex<Vec<String>>,
}

impl FixtureHttp {
    /// A stub giving these responses.
    pub fn new(responses: Vec<StubbedResponse>) -> Self {
        Self {
            responses,
            ..Self::default()
        }
    }

    /// `METHOD url` of every request that reached the stub, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `METHOD url` of every request no entry matched, in order.
    pub fn unmatched(&self) -> Vec<String> {
        self.unmatched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl HttpStub for FixtureHttp {
    fn respond(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let what = format!("{} {}", request.method, request.url);
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what.clone());
        match self
            .responses
            .iter()
            .find(|r| r.matches(&request.method, &request.url))
        {
            Some(r) => Ok(HttpResponse {
                status: r.status,
                headers: r.headers.clone(),
                body: r.body.clone(),
            }),
            None => {
                self.unmatched
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(what.clone());
                Err(format!("no stubbed response for {what}"))
            }
        }
    }
}
