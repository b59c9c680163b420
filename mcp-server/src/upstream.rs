//! The client for the upstream API that `greet` calls on the user's behalf.
//!
//! It sends only exchanged tokens (audience = the upstream API), never the inbound one.
//! A non-2xx answer is an error naming the status, never a success: the tool must not
//! present a refusal as data.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use crate::exchange::AccessToken;
use crate::metrics::Metrics;
use crate::outbound::{self, ReadError};

/// The path, relative to API_BASE_URL, of the quickstart's protected endpoint.
const PRIVATE_SCOPE_PATH: &str = "api/private-scope";

/// The most of an upstream answer we read.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where the upstream API is and how long to wait for it.
#[derive(Clone, Debug)]
pub struct UpstreamConfig {
    /// API_BASE_URL, with or without a trailing `/`.
    pub base_url: Url,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub timeout: Duration,
    /// Root certificates trusted besides the system's (`--ca-file`).
    pub root_certificates: Vec<reqwest::Certificate>,
}

impl UpstreamConfig {
    /// A configuration with the default timeouts (2 s connect, 5 s total).
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            root_certificates: Vec::new(),
        }
    }
}

/// Why an upstream call failed. The messages never hold a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// No connection to the upstream API.
    #[error("the upstream API could not be reached")]
    Unreachable,
    /// No answer within the configured time.
    #[error("the upstream API did not answer in time")]
    Timeout,
    /// A non-2xx answer.
    #[error("the upstream API answered HTTP {status}{}", reason(*.status))]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// A 2xx answer whose body is not JSON.
    #[error("the upstream API's answer was not JSON")]
    Malformed,
}

fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl UpstreamError {
    /// A metric label for this failure.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Unreachable => "unreachable",
            UpstreamError::Timeout => "timeout",
            UpstreamError::Status { .. } => "status",
            UpstreamError::Malformed => "malformed",
        }
    }

    fn transport(err: &reqwest::Error) -> Self {
        tracing::warn!(error = %err, "upstream request failed");
        if err.is_timeout() {
            UpstreamError::Timeout
        } else {
            UpstreamError::Unreachable
        }
    }
}

/// `{base}/api/private-scope`, with exactly one `/` between them: the base is made to end
/// with `/` first, so that URL joining keeps its last path segment (RFC 3986 §5.2.3).
fn private_scope_url(base: &Url) -> Result<Url, url::ParseError> {
    let mut base = base.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(PRIVATE_SCOPE_PATH)
}

/// Calls the upstream API. Cheap to clone.
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    private_scope: Url,
    metrics: Metrics,
}

impl fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("private_scope", &self.private_scope.as_str())
            .finish_non_exhaustive()
    }
}

/// Why an [`UpstreamClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamBuildError {
    /// API_BASE_URL cannot carry a path (e.g. `mailto:`).
    #[error("API_BASE_URL cannot be joined with {PRIVATE_SCOPE_PATH}")]
    BaseUrl(#[from] url::ParseError),
    /// The HTTP client could not be built.
    #[error("could not build the upstream HTTP client")]
    Client(#[from] reqwest::Error),
}

impl UpstreamClient {
    /// Builds the client; makes no request yet. Each call's latency is recorded in
    /// `metrics`, labelled with its outcome.
    pub fn new(config: &UpstreamConfig, metrics: Metrics) -> Result<Self, UpstreamBuildError> {
        if config.base_url.cannot_be_a_base() {
            return Err(url::ParseError::RelativeUrlWithCannotBeABaseBase.into());
        }
        let private_scope = private_scope_url(&config.base_url)?;
        let http = outbound::token_carrying_client(
            config.connect_timeout,
            config.timeout,
            &config.root_certificates,
        )?;
        Ok(Self {
            http,
            private_scope,
            metrics,
        })
    }

    /// `GET {API_BASE_URL}/api/private-scope` with the exchanged token; the JSON answer.
    pub async fn private_scope(&self, token: &AccessToken) -> Result<Value, UpstreamError> {
        let started = Instant::now();
        let result = self.get_json(token).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.outcome(),
        };
        self.metrics
            .upstream_latency(started.elapsed().as_secs_f64(), outcome);
        self.metrics.upstream_request(outcome);
        result
    }

    async fn get_json(&self, token: &AccessToken) -> Result<Value, UpstreamError> {
        let response = self
            .http
            .get(self.private_scope.clone())
            .bearer_auth(token.secret())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| UpstreamError::transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(status = status.as_u16(), "upstream API refused the call");
            return Err(UpstreamError::Status {
                status: status.as_u16(),
            });
        }
        let body = outbound::read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::Transport(e) => UpstreamError::transport(&e),
                ReadError::TooLarge => UpstreamError::Malformed,
            })?;
        serde_json::from_slice(&body).map_err(|_| UpstreamError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_joined_with_one_slash_whatever_the_base() {
        for (base, expected) in [
            (
                "http://localhost:8787/",
                "http://localhost:8787/api/private-scope",
            ),
            (
                "http://localhost:8787",
                "http://localhost:8787/api/private-scope",
            ),
            (
                "https://api.example/v1",
                "https://api.example/v1/api/private-scope",
            ),
            (
                "https://api.example/v1/",
                "https://api.example/v1/api/private-scope",
            ),
            (
                "https://api.example/v1/?x=1#f",
                "https://api.example/v1/api/private-scope",
            ),
        ] {
            let url = private_scope_url(&Url::parse(base).unwrap()).unwrap();
            assert_eq!(url.as_str(), expected, "{base}");
        }
    }

    #[test]
    fn a_status_error_names_the_status() {
        assert_eq!(
            UpstreamError::Status { status: 403 }.to_string(),
            "the upstream API answered HTTP 403 Forbidden"
        );
        assert_eq!(
            UpstreamError::Status { status: 599 }.to_string(),
            "the upstream API answered HTTP 599"
        );
    }

    #[test]
    fn a_base_that_cannot_have_a_path_is_refused() {
        let config = UpstreamConfig::new(Url::parse("mailto:api@example.com").unwrap());
        assert!(UpstreamClient::new(&config, Metrics::new()).is_err());
    }
}
