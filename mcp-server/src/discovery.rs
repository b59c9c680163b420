//! Discovery documents served without authentication: the protected resource metadata
//! (RFC 9728) that a 401 points clients at, and a cached copy of the authorization
//! server's metadata (RFC 8414) for clients of the 2025-03-26 era, which look for it on the
//! MCP server's own origin.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::Serialize;

use crate::config::Config;
use crate::tools::ALL_PERMISSIONS;

/// RFC 9728 §2 protected resource metadata.
#[derive(Debug, Serialize)]
struct ProtectedResourceMetadata<'a> {
    resource: &'a str,
    authorization_servers: [&'a str; 1],
    scopes_supported: &'a [&'a str],
    bearer_methods_supported: [&'a str; 1],
    resource_name: &'a str,
}

/// The discovery documents, shared by all requests.
#[derive(Clone)]
pub struct Discovery {
    inner: Arc<DiscoveryInner>,
}

struct DiscoveryInner {
    protected_resource: Bytes,
    issuer: String,
    http: reqwest::Client,
    /// The issuer's metadata, refetched at most every few minutes; concurrent misses share
    /// one fetch.
    as_metadata: moka::future::Cache<(), Bytes>,
}

/// How long a fetched copy of the issuer's metadata is served.
const AS_METADATA_TTL: Duration = Duration::from_secs(300);

/// Why the authorization server metadata could not be served.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The issuer could not be reached, or answered something unusable.
    #[error("the authorization server's metadata is unavailable: {0}")]
    Upstream(String),
}

impl IntoResponse for DiscoveryError {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "serving authorization server metadata failed");
        let body = serde_json::json!({
            "error": "temporarily_unavailable",
            "error_description": "The authorization server's metadata could not be fetched",
        });
        (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
    }
}

impl Discovery {
    /// Builds the documents from the configuration.
    pub fn new(config: &Config, http: reqwest::Client) -> Self {
        let document = ProtectedResourceMetadata {
            resource: &config.audience,
            authorization_servers: [config.issuer.as_str()],
            scopes_supported: ALL_PERMISSIONS,
            bearer_methods_supported: ["header"],
            resource_name: "MCP Tools API",
        };
        let protected_resource =
            Bytes::from(serde_json::to_vec(&document).expect("metadata serialises"));
        Self {
            inner: Arc::new(DiscoveryInner {
                protected_resource,
                issuer: config.issuer.as_str().to_owned(),
                http,
                as_metadata: moka::future::Cache::builder()
                    .max_capacity(1)
                    .time_to_live(AS_METADATA_TTL)
                    .build(),
            }),
        }
    }

    /// Fetches the issuer's RFC 8414 metadata, falling back to its OpenID Connect
    /// discovery document (Auth0 serves both), and checks the `issuer` field.
    async fn fetch_as_metadata(&self) -> Result<Bytes, DiscoveryError> {
        let issuer = self.inner.issuer.as_str();
        let mut last_error = String::new();
        for path in [
            ".well-known/oauth-authorization-server",
            ".well-known/openid-configuration",
        ] {
            let url = format!("{issuer}{path}");
            let response = match self.inner.http.get(&url).send().await {
                Ok(r) if r.status().is_success() => r,
                Ok(r) => {
                    last_error = format!("{url} answered {}", r.status());
                    continue;
                }
                Err(e) => {
                    last_error = format!("{url}: {e}");
                    continue;
                }
            };
            let body = response
                .bytes()
                .await
                .map_err(|e| DiscoveryError::Upstream(format!("{url}: {e}")))?;
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| DiscoveryError::Upstream(format!("{url}: not JSON: {e}")))?;
            if value.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
                return Err(DiscoveryError::Upstream(format!(
                    "{url}: issuer does not match {issuer}"
                )));
            }
            return Ok(body);
        }
        Err(DiscoveryError::Upstream(last_error))
    }
}

fn json(body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`.
pub async fn protected_resource(State(discovery): State<Discovery>) -> Response {
    json(discovery.inner.protected_resource.clone())
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn authorization_server(
    State(discovery): State<Discovery>,
) -> Result<Response, DiscoveryError> {
    let body = discovery
        .inner
        .as_metadata
        .try_get_with((), discovery.fetch_as_metadata())
        .await
        .map_err(|e: Arc<DiscoveryError>| DiscoveryError::Upstream(e.to_string()))?;
    Ok(json(body))
}
