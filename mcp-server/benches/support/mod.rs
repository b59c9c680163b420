//! What the exchange-cache benchmarks share: an Auth0-sized subject token, an in-process
//! stand-in IdP (a discovery document and a token endpoint that always issues), and the
//! exchange configuration pointed at it.

use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_auth::Issuer;
use mcp_server::exchange::{ExchangeConfig, ExchangeGrant};
use serde_json::json;
use url::Url;

/// A subject token about as long as an Auth0 RFC 9068 access token with permissions (984
/// bytes), one per `user`.
pub fn subject_token(user: usize) -> String {
    format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.{user:0>600}.{:0>342}",
        ""
    )
}

/// Serves the stand-in IdP on 127.0.0.1:0 and returns its issuer URL.
pub async fn stand_in_idp() -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let discovery = json!({
        "issuer": issuer.as_str(),
        "token_endpoint": issuer.join("oauth/token").unwrap().as_str(),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route(
            "/oauth/token",
            post(|| async {
                Json(json!({"access_token": "exchanged", "token_type": "Bearer", "expires_in": 86400}))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

/// The demo's Custom Token Exchange against the stand-in IdP at `issuer`.
pub fn exchange_config(issuer: &Url) -> ExchangeConfig {
    ExchangeConfig::new(
        Issuer::from_auth0_domain(issuer.as_str()).unwrap(),
        "mcp-server-client",
        "mcp-server-secret".into(),
        ExchangeGrant::custom_token_exchange(
            "urn:fastmcp:mcp",
            "http://localhost:8787/",
            Some("read:private".to_owned()),
        ),
    )
}
