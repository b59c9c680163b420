//! What a `greet` pays for the token exchange when the token is already cached: hashing
//! the subject token into the cache key and one moka lookup. The target is ≤ 2 µs.
//!
//! The cache is primed with one real exchange against an in-process stand-in IdP (a
//! discovery document and a token endpoint), so the measured path is exactly the one
//! `TokenExchanger::exchange` takes on a hit.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_auth::Issuer;
use criterion::{Criterion, criterion_group, criterion_main};
use mcp_server::exchange::{ExchangeConfig, ExchangeGrant, TokenExchanger};
use mcp_server::metrics::Metrics;
use serde_json::json;
use url::Url;

/// A subject token about as long as an Auth0 RFC 9068 access token with permissions.
fn subject_token(user: usize) -> String {
    format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.{user:0>600}.{:0>342}",
        ""
    )
}

async fn stand_in_idp() -> Url {
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

fn cache_hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let expires_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let exchanger = runtime.block_on(async {
        let issuer = stand_in_idp().await;
        let config = ExchangeConfig::new(
            Issuer::from_auth0_domain(issuer.as_str()).unwrap(),
            "mcp-server-client",
            "mcp-server-secret".into(),
            ExchangeGrant::custom_token_exchange(
                "urn:fastmcp:mcp",
                "http://localhost:8787/",
                Some("read:private".to_owned()),
            ),
        );
        let exchanger = TokenExchanger::new(config, Metrics::new()).unwrap();
        // A cache holding many users, as a busy server's would.
        for user in 0..1000 {
            exchanger
                .exchange(&subject_token(user), expires_at)
                .await
                .unwrap();
        }
        exchanger
    });
    let token = subject_token(500);
    assert_eq!(token.len(), 984);

    c.bench_function(
        "exchange cache hit (984-byte subject token, 1000 entries)",
        |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(
                    exchanger
                        .exchange(black_box(&token), expires_at)
                        .await
                        .unwrap(),
                )
            });
        },
    );
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
