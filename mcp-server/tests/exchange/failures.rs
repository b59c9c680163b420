//! Failures reaching or understanding the IdP and the upstream API come back quickly as
//! errors that say what went wrong.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mcp_server::exchange::{ExchangeError, Stage, TokenExchanger};
use mcp_server::metrics::Metrics;
use mcp_server::upstream::UpstreamError;

use crate::support::{
    Idp, IdpAnswer, SHORT, Upstream, closed_url, exchange_config, exchanger, in_secs,
    upstream_client,
};

#[tokio::test]
async fn an_idp_that_is_down_gives_a_clean_error_quickly() {
    let issuer = closed_url().await;
    let (exchanger, metrics) = exchanger(&issuer);

    let started = Instant::now();
    let err = exchanger
        .exchange("token", in_secs(3600))
        .await
        .unwrap_err();

    assert_eq!(
        err,
        ExchangeError::Unreachable {
            stage: Stage::Discovery
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.to_string(),
        "the identity provider could not be reached (discovery)"
    );
    assert!(
        metrics
            .render()
            .contains(r#"mcp_token_exchanges_total{outcome="unreachable"} 1"#)
    );
}

#[tokio::test]
async fn an_idp_that_does_not_answer_times_out() {
    let idp = Idp::start(IdpAnswer::Hang).await;
    let mut config = exchange_config(&idp.issuer);
    config.timeout = SHORT;
    let exchanger = TokenExchanger::new(config, Metrics::new()).unwrap();

    let started = Instant::now();
    let err = exchanger
        .exchange("token", in_secs(3600))
        .await
        .unwrap_err();

    assert_eq!(
        err,
        ExchangeError::Timeout {
            stage: Stage::TokenEndpoint
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_idp_error_answer_carries_the_oauth_error() {
    let idp = Idp::start(IdpAnswer::Refuse {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_scope",
        description: "Unauthorized scopes requested: write:private",
    })
    .await;
    let (exchanger, _) = exchanger(&idp.issuer);

    let err = exchanger
        .exchange("token", in_secs(3600))
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "the identity provider refused the token exchange: invalid_scope \
         (Unauthorized scopes requested: write:private)"
    );
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    // The same server under a different spelling of the issuer.
    let other = url::Url::parse(&idp.issuer.as_str().replace("127.0.0.1", "localhost")).unwrap();
    let (exchanger, _) = exchanger(&other);

    let err = exchanger
        .exchange("token", in_secs(3600))
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            ExchangeError::Malformed {
                stage: Stage::Discovery,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(idp.exchanges(), 0);
}

#[tokio::test]
async fn an_upstream_refusal_is_an_error_naming_the_status() {
    let upstream = Upstream::start("").await;
    upstream.status(StatusCode::FORBIDDEN);
    let metrics = Metrics::new();
    let client = upstream_client(&upstream.base, metrics.clone());
    let token = exchanged().await;

    let err = client.private_scope(&token).await.unwrap_err();

    assert_eq!(err, UpstreamError::Status { status: 403 });
    assert!(err.to_string().contains("403"), "{err}");
    let text = metrics.render();
    assert!(
        text.contains(r#"mcp_upstream_request_duration_seconds_count{outcome="status"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_upstream_requests_total{outcome="status"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn an_upstream_that_is_down_gives_a_clean_error_quickly() {
    let client = upstream_client(&closed_url().await, Metrics::new());
    let token = exchanged().await;

    let started = Instant::now();
    let err = client.private_scope(&token).await.unwrap_err();

    assert_eq!(err, UpstreamError::Unreachable);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A token as the IdP would have issued it.
async fn exchanged() -> mcp_server::exchange::AccessToken {
    mcp_server::exchange::AccessToken::new("exchanged-1-for-token")
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_times_out() {
    // The listener is kept but never accepts: the connection opens, no answer comes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let mut config = mcp_server::upstream::UpstreamConfig::new(base);
    config.timeout = SHORT;
    let client = mcp_server::upstream::UpstreamClient::new(&config, Metrics::new()).unwrap();

    let started = Instant::now();
    let err = client.private_scope(&exchanged().await).await.unwrap_err();

    assert_eq!(err, UpstreamError::Timeout);
    assert_eq!(err.to_string(), "the upstream API did not answer in time");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(listener);
}
