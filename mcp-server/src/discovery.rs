//! Discovery documents served without authentication: the protected resource metadata
//! (RFC 9728) that a 401 points clients at, and a cached copy of the authorization
//! server's metadata (RFC 8414) for clients of the 2025-03-26 era, which look for it on the
//! MCP server's own origin.
//!
//! The copy is fetched with bearer-auth's [`IssuerMetadata`] (bounded, `issuer` checked
//! exactly): the RFC 8414 document first, the OpenID Connect one when the issuer does not
//! serve it (Auth0 serves both), then re-served byte for byte.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use bearer_auth::Issuer;
use bearer_auth::discovery::{DiscoveryError, FetchLimits, IssuerMetadata, MetadataDocument};
use bytes::Bytes;
use serde::Serialize;

use crate::config::Config;
use crate::permissions::ALL_PERMISSIONS;

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
pub(crate) struct Discovery {
    inner: Arc<DiscoveryInner>,
}

struct DiscoveryInner {
    protected_resource: Bytes,
    issuer: Issuer,
    http: reqwest::Client,
    /// The issuer's metadata, refetched at most every few minutes; concurrent misses share
    /// one fetch.
    as_metadata: moka::future::Cache<(), Bytes>,
}

/// How long a fetched copy of the issuer's metadata is served.
const AS_METADATA_TTL: Duration = Duration::from_secs(300);

/// The authorization server's metadata could not be served: answered 502 with an OAuth
/// error body; the cause is logged.
#[derive(Debug)]
pub(crate) struct MetadataUnavailable(Arc<DiscoveryError>);

impl IntoResponse for MetadataUnavailable {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self.0, "serving authorization server metadata failed");
        let body = serde_json::json!({
            "error": "temporarily_unavailable",
            "error_description": "The authorization server's metadata could not be fetched",
        });
        (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
    }
}

impl Discovery {
    /// Builds the documents from the configuration; `http` reaches the issuer.
    pub(crate) fn new(config: &Config, http: reqwest::Client) -> Self {
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
                issuer: config.issuer.clone(),
                http,
                as_metadata: moka::future::Cache::builder()
                    .max_capacity(1)
                    .time_to_live(AS_METADATA_TTL)
                    .build(),
            }),
        }
    }

    /// The issuer's RFC 8414 metadata, or its OpenID Connect discovery document when the
    /// RFC 8414 one cannot be had (no answer, or not 200). A document that is answered but
    /// wrong (another issuer, not JSON, too large) is an error at once.
    async fn fetch_as_metadata(&self) -> Result<Bytes, DiscoveryError> {
        let fetch = |document| {
            IssuerMetadata::fetch_document(
                &self.inner.http,
                &self.inner.issuer,
                document,
                FetchLimits::default(),
            )
        };
        let metadata = match fetch(MetadataDocument::OAuthAuthorizationServer).await {
            Err(
                DiscoveryError::Unreachable { .. }
                | DiscoveryError::Timeout { .. }
                | DiscoveryError::Status { .. },
            ) => fetch(MetadataDocument::OpenIdConfiguration).await?,
            other => other?,
        };
        Ok(Bytes::from(metadata.into_document()))
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
pub(crate) async fn protected_resource(State(discovery): State<Discovery>) -> Response {
    json(discovery.inner.protected_resource.clone())
}

/// `GET /.well-known/oauth-authorization-server`.
pub(crate) async fn authorization_server(
    State(discovery): State<Discovery>,
) -> Result<Response, MetadataUnavailable> {
    let body = discovery
        .inner
        .as_metadata
        .try_get_with((), discovery.fetch_as_metadata())
        .await
        .map_err(MetadataUnavailable)?;
    Ok(json(body))
}
