//! Dynamic client registration (RFC 7591).

use serde_json::json;

use crate::helpers::{assert_oauth_error, spawn_app, spawn_app_configured};

#[tokio::test]
async fn a_confidential_client_registers_and_gets_a_secret() {
    let app = spawn_app().await;
    let response = app
        .register(&json!({
            "client_name": "Inspector",
            "redirect_uris": ["https://app.example/cb", "http://localhost:6274/oauth/callback"]
        }))
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["client_id"].is_string());
    assert!(body["client_secret"].is_string());
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
}

#[tokio::test]
async fn a_public_client_gets_no_secret() {
    let app = spawn_app().await;
    let body: serde_json::Value = app
        .register(&json!({
            "redirect_uris": ["http://127.0.0.1:9999/cb"],
            "token_endpoint_auth_method": "none"
        }))
        .await
        .json()
        .await
        .unwrap();
    assert!(body.get("client_secret").is_none());
}

#[tokio::test]
async fn bad_metadata_is_rejected() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "invalid_redirect_uri"),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["not a url"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://a.example/cb"}),
            "invalid_client_metadata",
        ),
    ];
    for (metadata, error) in cases {
        let response = app.register(&metadata).await;
        assert_oauth_error(response, 400, error).await;
    }
    let response = app
        .http
        .post(app.url("oidc/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, 400, "invalid_client_metadata").await;
}

#[tokio::test]
async fn a_registered_confidential_client_authenticates_with_http_basic() {
    // Arrange: register, then log in through the consent step.
    let app = spawn_app().await;
    let registered: serde_json::Value = app
        .register(&json!({"redirect_uris": ["http://127.0.0.1:7777/cb"]}))
        .await
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", "http://127.0.0.1:7777/cb"),
        ("code_challenge", crate::helpers::CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let html = app.authorize(&query).await.text().await.unwrap();
    let transaction = crate::helpers::hidden_input(&html, "transaction");
    let html = app
        .post_login(&transaction, "admin@example.com", "admin-pass")
        .await
        .text()
        .await
        .unwrap();
    let transaction = crate::helpers::hidden_input(&html, "transaction");
    let redirect = crate::helpers::location(&app.post_consent(&transaction, "accept").await);
    let code = crate::helpers::query_param(&redirect, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:7777/cb"),
        ("code_verifier", crate::helpers::VERIFIER),
    ];

    // Act: a wrong secret is refused, then the right one over Basic works.
    let mut with_post = form.to_vec();
    with_post.extend([
        ("client_id", client_id),
        ("client_secret", "not-the-secret"),
    ]);
    let refused = app.post_token(&with_post).await;
    let accepted = app.post_token_basic(client_id, secret, &form).await;

    // Assert: the refused attempt did not reach the code, so Basic still gets the token.
    assert_oauth_error(refused, 401, "invalid_client").await;
    assert_eq!(accepted.status(), 200);
    let body: serde_json::Value = accepted.json().await.unwrap();
    let token = app
        .verify(body["access_token"].as_str().unwrap(), &app.url("userinfo"))
        .await;
    assert_eq!(token.claims["sub"], "auth0|admin");
    assert_eq!(token.claims["azp"], client_id);
}

/// An unauthenticated loop on `/oidc/register` stops at the tenant's cap
/// (`--max-registrations`), refused the RFC 7591 way; clients registered before keep
/// working.
#[tokio::test]
async fn registrations_past_the_cap_are_refused_as_invalid_client_metadata() {
    let app = spawn_app_configured(|config| config.max_registrations = 3).await;
    let metadata = json!({
        "redirect_uris": ["http://127.0.0.1:9999/cb"],
        "token_endpoint_auth_method": "none"
    });
    let mut registered = Vec::new();
    for _ in 0..3 {
        let response = app.register(&metadata).await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        registered.push(body["client_id"].as_str().unwrap().to_owned());
    }

    let description = assert_oauth_error(
        app.register(&metadata).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    assert!(description.contains("limit"), "{description}");

    // A client registered under the cap still starts an authorization request.
    let response = app
        .authorize(&[
            ("response_type", "code"),
            ("client_id", registered[0].as_str()),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
            ("code_challenge", crate::helpers::CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s"),
        ])
        .await;
    assert_eq!(response.status(), 200, "the login page");
}

/// The registration body has the same size limit as every other route, refused in the
/// registration endpoint's own error format.
#[tokio::test]
async fn an_oversized_registration_body_is_refused_as_invalid_client_metadata() {
    let app = spawn_app().await;
    let metadata = json!({
        "redirect_uris": ["http://127.0.0.1:9999/cb"],
        "client_name": "x".repeat(200 * 1024),
    });
    assert_oauth_error(
        app.register(&metadata).await,
        413,
        "invalid_client_metadata",
    )
    .await;
}
