//! The axum layer and extractor, driven through a router as a client would.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use bearer_auth::{Authenticated, BearerAuthLayer};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{AUDIENCE, quick_settings, ready, server_with_key, verifier};

const METADATA: &str = "http://localhost:3001/.well-known/oauth-protected-resource";

fn app(layer: BearerAuthLayer) -> Router {
    Router::new()
        .route(
            "/me",
            get(|Authenticated(token): Authenticated| async move { token.subject }),
        )
        .route(
            "/unprotected",
            get(|Authenticated(token): Authenticated| async move { token.subject }),
        )
        .route_layer(layer)
        .route("/open", get(|| async { "open" }))
        .route(
            "/maybe",
            get(|token: Option<Authenticated>| async move {
                token.map_or_else(|| "anonymous".to_owned(), |t| t.0.subject)
            }),
        )
        .route(
            "/forgot-the-layer",
            get(|Authenticated(token): Authenticated| async move { token.subject }),
        )
}

/// Sends a GET and returns status, `WWW-Authenticate` and the body.
async fn get_with(
    app: &Router,
    uri: &str,
    authorization: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get(uri);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_layer_answers_each_request_shape_with_the_right_challenge() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    let verifier = verifier(&server, quick_settings());
    ready(&verifier).await;
    let app =
        app(BearerAuthLayer::new(verifier).with_challenge_param("resource_metadata", METADATA));
    let valid = format!(
        "Bearer {}",
        key.token(server.issuer(), AUDIENCE, json!({ "sub": "auth0|me" }))
    );
    let expired = format!(
        "Bearer {}",
        key.token(
            server.issuer(),
            AUDIENCE,
            json!({ "exp": 1000, "iat": 900 })
        )
    );
    let other_audience = format!(
        "Bearer {}",
        key.token(server.issuer(), "http://localhost:3001/", json!({}))
    );
    let bare = format!("Bearer resource_metadata=\"{METADATA}\"");
    let invalid = |description: &str, code: &str| {
        format!(
            "Bearer error=\"{code}\", error_description=\"{description}\", resource_metadata=\"{METADATA}\""
        )
    };

    // (name, uri, Authorization, expected status, expected WWW-Authenticate)
    type Case = (
        &'static str,
        String,
        Option<String>,
        StatusCode,
        Option<String>,
    );
    let cases: Vec<Case> = vec![
        (
            "valid token",
            "/me".to_owned(),
            Some(valid.clone()),
            StatusCode::OK,
            None,
        ),
        (
            // RFC 7235 §2.1: the auth-scheme is case-insensitive.
            "lower-case scheme",
            "/me".to_owned(),
            Some(valid.replacen("Bearer", "bearer", 1)),
            StatusCode::OK,
            None,
        ),
        (
            "no header",
            "/me".to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
            Some(bare.clone()),
        ),
        (
            "Basic scheme",
            "/me".to_owned(),
            Some("Basic dXNlcjpwYXNz".to_owned()),
            StatusCode::UNAUTHORIZED,
            Some(bare.clone()),
        ),
        (
            "expired token",
            "/me".to_owned(),
            Some(expired),
            StatusCode::UNAUTHORIZED,
            Some(invalid("The access token has expired", "invalid_token")),
        ),
        (
            "token for the MCP server",
            "/me".to_owned(),
            Some(other_audience),
            StatusCode::UNAUTHORIZED,
            Some(invalid(
                "The token is meant for another audience",
                "invalid_token",
            )),
        ),
        (
            "garbage token",
            "/me".to_owned(),
            Some("Bearer not-a-jwt".to_owned()),
            StatusCode::UNAUTHORIZED,
            Some(invalid("The access token is malformed", "invalid_token")),
        ),
        (
            "empty Bearer",
            "/me".to_owned(),
            Some("Bearer ".to_owned()),
            StatusCode::UNAUTHORIZED,
            Some(invalid(
                "The Bearer credentials are malformed",
                "invalid_request",
            )),
        ),
        (
            "token in the query string",
            "/me?access_token=abc".to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
            Some(invalid(
                "Access tokens in the query string are not accepted",
                "invalid_request",
            )),
        ),
        (
            "token in the query string besides a valid header",
            "/me?access_token=abc".to_owned(),
            Some(valid.clone()),
            StatusCode::UNAUTHORIZED,
            Some(invalid(
                "Access tokens in the query string are not accepted",
                "invalid_request",
            )),
        ),
        ("open route", "/open".to_owned(), None, StatusCode::OK, None),
        (
            "optional extractor, anonymous",
            "/maybe".to_owned(),
            None,
            StatusCode::OK,
            None,
        ),
        (
            "extractor without the layer fails closed",
            "/forgot-the-layer".to_owned(),
            Some(valid.clone()),
            StatusCode::UNAUTHORIZED,
            Some("Bearer".to_owned()),
        ),
        (
            "unknown route",
            "/nope".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            None,
        ),
    ];

    let mut failures = Vec::new();
    for (name, uri, authorization, status, challenge) in cases {
        let (got_status, got_challenge, body) =
            get_with(&app, &uri, authorization.as_deref()).await;
        if got_status != status || got_challenge != challenge {
            failures.push(format!(
                "{name}: expected {status} {challenge:?}, got {got_status} {got_challenge:?} {body}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_extractor_sees_the_verified_token_and_errors_have_a_json_body() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    let verifier = verifier(&server, quick_settings());
    ready(&verifier).await;
    let app = app(BearerAuthLayer::new(verifier));
    let token = key.token(server.issuer(), AUDIENCE, json!({ "sub": "auth0|me" }));

    // Act
    let (ok_status, _, ok_body) = get_with(&app, "/me", Some(&format!("Bearer {token}"))).await;
    let (status, _, body) = get_with(&app, "/me", Some("Bearer a.b.c")).await;

    // Assert
    assert_eq!((ok_status, ok_body.as_str()), (StatusCode::OK, "auth0|me"));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({ "error": "invalid_token", "error_description": "The access token is malformed" })
    );
}

#[tokio::test]
async fn before_keys_load_requests_get_503_at_once() {
    // Arrange: the IdP is down from the start.
    let (server, key) = server_with_key("key-a").await;
    server.set_down(true);
    let verifier = verifier(&server, quick_settings());
    let app = app(BearerAuthLayer::new(verifier));
    server.wait_for_discovery_fetches(2).await;
    let token = key.token(server.issuer(), AUDIENCE, json!({}));

    // Act
    let started = Instant::now();
    let (status, challenge, body) = get_with(&app, "/me", Some(&format!("Bearer {token}"))).await;
    let (malformed_status, _, _) = get_with(&app, "/me", Some("Bearer nope")).await;

    // Assert
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(challenge, None);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "temporarily_unavailable"
    );
    assert_eq!(malformed_status, StatusCode::UNAUTHORIZED);
}
