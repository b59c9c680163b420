//! `greet` end to end against the stand-ins: the upstream API sees only the exchanged
//! token, and its answer comes back with the greeting.

use axum::http::StatusCode;
use bearer_auth::VerifiedToken;
use mcp_server::exchange::ExchangeError;
use mcp_server::greet::{GreetError, Greeter};
use mcp_server::metrics::Metrics;
use mcp_server::upstream::UpstreamError;
use serde_json::{Map, json};
use url::Url;

use crate::support::{
    Idp, IdpAnswer, Upstream, closed_url, exchanged_token, exchanger, in_secs, upstream_client,
};

fn caller(sub: &str, claims: serde_json::Value) -> VerifiedToken {
    let mut claims: Map<String, serde_json::Value> = serde_json::from_value(claims).unwrap();
    claims.insert("sub".to_owned(), json!(sub));
    VerifiedToken {
        subject: sub.to_owned(),
        scopes: vec!["tool:greet".to_owned()],
        permissions: Some(vec!["tool:greet".to_owned()]),
        client_id: Some("demo-cli".to_owned()),
        expires_at: in_secs(3600),
        claims,
    }
}

async fn greeter(idp: &Idp, base: &Url) -> Greeter {
    let (exchanger, metrics) = exchanger(&idp.issuer);
    Greeter::from_parts(exchanger, upstream_client(base, metrics))
}

#[tokio::test]
async fn greet_answers_with_the_upstream_json_fetched_with_the_exchanged_token() {
    // Arrange
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("").await;
    let greeter = greeter(&idp, &upstream.base).await;
    let admin = caller("auth0|admin", json!({}));

    // Act
    let out = greeter
        .greet(&admin, "admin-inbound-token", Some("Ada".to_owned()))
        .await
        .unwrap();

    // Assert
    assert_eq!(out.message, "Hello, Ada (auth0|admin)!");
    assert_eq!(out.subject, "auth0|admin");
    let exchanged = exchanged_token("admin-inbound-token", 1);
    assert_eq!(out.upstream["token"], json!(exchanged));
    assert_eq!(upstream.bearers(), vec![exchanged]);
}

#[tokio::test]
async fn the_upstream_never_sees_the_inbound_token() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("").await;
    let greeter = greeter(&idp, &upstream.base).await;

    for user in ["alice", "bob", "alice"] {
        greeter
            .greet(&caller(user, json!({})), &format!("{user}-inbound"), None)
            .await
            .unwrap();
    }

    assert_eq!(idp.exchanges(), 2);
    let bearers = upstream.bearers();
    assert_eq!(bearers.len(), 3);
    assert!(
        bearers.iter().all(|b| b.starts_with("exchanged-")),
        "{bearers:?}"
    );
}

#[tokio::test]
async fn without_a_name_greet_uses_the_name_or_email_claim_or_there() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("").await;
    let greeter = greeter(&idp, &upstream.base).await;
    let check = |claims, expected: &'static str| {
        let greeter = greeter.clone();
        async move {
            let out = greeter
                .greet(&caller("auth0|u", claims), "t", None)
                .await
                .unwrap();
            assert_eq!(out.message, expected);
        }
    };

    check(
        json!({"name": "Grace Hopper", "email": "grace@example.com"}),
        "Hello, Grace Hopper (auth0|u)!",
    )
    .await;
    check(
        json!({"email": "grace@example.com"}),
        "Hello, grace@example.com (auth0|u)!",
    )
    .await;
    check(json!({}), "Hello, there (auth0|u)!").await;
    // A blank argument counts as none.
    let out = greeter
        .greet(&caller("auth0|u", json!({})), "t", Some("  ".to_owned()))
        .await
        .unwrap();
    assert_eq!(out.message, "Hello, there (auth0|u)!");
}

#[tokio::test]
async fn api_base_url_works_with_and_without_a_trailing_slash() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("/v1").await;
    let with_slash = upstream.base.clone();
    let without_slash = Url::parse(upstream.base.as_str().trim_end_matches('/')).unwrap();
    assert!(with_slash.as_str().ends_with("/v1/") && without_slash.as_str().ends_with("/v1"));

    for base in [with_slash, without_slash] {
        let greeter = greeter(&idp, &base).await;
        greeter
            .greet(&caller("auth0|u", json!({})), "t", None)
            .await
            .unwrap();
    }

    assert_eq!(upstream.bearers().len(), 2);
}

#[tokio::test]
async fn an_upstream_refusal_is_a_greet_error_naming_the_status() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("").await;
    upstream.status(StatusCode::FORBIDDEN);
    let greeter = greeter(&idp, &upstream.base).await;

    let err = greeter
        .greet(&caller("auth0|u", json!({})), "t", None)
        .await
        .unwrap_err();

    assert_eq!(
        err,
        GreetError::Upstream(UpstreamError::Status { status: 403 })
    );
    assert_eq!(
        err.to_string(),
        "greet could not call the upstream API: the upstream API answered HTTP 403 Forbidden"
    );
}

#[tokio::test]
async fn an_idp_refusal_is_a_greet_error_and_the_upstream_is_not_called() {
    let idp = Idp::start(IdpAnswer::Refuse {
        status: StatusCode::FORBIDDEN,
        error: "invalid_grant",
        description: "Subject token validation failed.",
    })
    .await;
    let upstream = Upstream::start("").await;
    let greeter = greeter(&idp, &upstream.base).await;

    let err = greeter
        .greet(&caller("auth0|u", json!({})), "secret-inbound", None)
        .await
        .unwrap_err();

    assert!(matches!(
        err,
        GreetError::Exchange(ExchangeError::Refused { .. })
    ));
    let text = err.to_string();
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(!text.contains("secret-inbound"), "{text}");
    assert!(upstream.bearers().is_empty());
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_greet_error() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let greeter = greeter(&idp, &closed_url().await).await;

    let err = greeter
        .greet(&caller("auth0|u", json!({})), "t", None)
        .await
        .unwrap_err();

    assert_eq!(err, GreetError::Upstream(UpstreamError::Unreachable));
}

#[tokio::test]
async fn a_greeter_built_from_the_server_configuration_uses_it() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 3600 }).await;
    let upstream = Upstream::start("").await;
    let config = mcp_server::Config {
        issuer: bearer_auth::Issuer::from_auth0_domain(idp.issuer.as_str()).unwrap(),
        api_base_url: upstream.base.clone(),
        exchange_scope: String::new(),
        ..mcp_server::Config::default()
    };
    let greeter = Greeter::new(&config, &[], Metrics::new(), None).unwrap();

    greeter
        .greet(&caller("auth0|u", json!({})), "t", None)
        .await
        .unwrap();

    let form = &idp.forms()[0];
    assert_eq!(
        form.get("audience").map(String::as_str),
        Some("http://localhost:8787/")
    );
    assert_eq!(
        form.get("client_id").map(String::as_str),
        Some("mcp-server-client")
    );
    assert!(!form.contains_key("scope"));
    assert_eq!(upstream.bearers().len(), 1);
}
