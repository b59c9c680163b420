//! Machine tokens per client grant, and client authentication failures.

use crate::helpers::{MCP_API, assert_oauth_error, spawn_app};

#[tokio::test]
async fn a_client_grant_gives_a_machine_token_with_its_scopes() {
    let app = spawn_app().await;
    let audience = app.url("api/v2/");
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("audience", &audience),
            ("scope", "read:clients read:users delete:everything"),
        ])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "read:clients read:users");
    let token = app
        .verify(body["access_token"].as_str().unwrap(), &audience)
        .await;
    assert_eq!(token.claims["sub"], "management-cli@clients");
    assert_eq!(token.claims["gty"], "client-credentials");
    assert_eq!(token.claims["azp"], "management-cli");
}

#[tokio::test]
async fn without_scope_the_whole_client_grant_is_given() {
    let app = spawn_app().await;
    let audience = app.url("api/v2/");
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("audience", &audience),
        ])
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["scope"].as_str().unwrap().contains("read:clients"));
}

#[tokio::test]
async fn a_client_with_a_secret_may_use_basic_or_the_body_whatever_it_registered() {
    // Arrange: management-cli is registered with client_secret_post, as the quickstart's
    // clients are; Auth0's Python SDK authenticates with Basic, its JS SDK with the body.
    let app = spawn_app().await;
    let audience = app.url("api/v2/");
    let form = [
        ("grant_type", "client_credentials"),
        ("audience", audience.as_str()),
    ];

    // Act
    let basic = app
        .post_token_basic("management-cli", "management-secret", &form)
        .await;
    let mut with_body = form.to_vec();
    with_body.extend([
        ("client_id", "management-cli"),
        ("client_secret", "management-secret"),
    ]);
    let body = app.post_token(&with_body).await;

    // Assert
    assert_eq!(basic.status(), 200);
    assert_eq!(body.status(), 200);
}

#[tokio::test]
async fn both_methods_at_once_or_a_secret_from_a_public_client_are_invalid_client() {
    let app = spawn_app().await;
    let audience = app.url("api/v2/");
    let both = app
        .post_token_basic(
            "management-cli",
            "management-secret",
            &[
                ("grant_type", "client_credentials"),
                ("audience", &audience),
                ("client_secret", "management-secret"),
            ],
        )
        .await;
    assert!(both.headers().contains_key("www-authenticate"));
    assert_oauth_error(both, 401, "invalid_client").await;
    let public_with_secret = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("client_secret", "anything"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
        ])
        .await;
    assert_oauth_error(public_with_secret, 401, "invalid_client").await;
    let confidential_without_secret = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("audience", &audience),
        ])
        .await;
    assert_oauth_error(confidential_without_secret, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    for (id, secret) in [
        ("management-cli", "wrong"),
        ("nobody", "x"),
        ("management-cli", ""),
    ] {
        let response = app
            .post_token(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("audience", MCP_API),
            ])
            .await;
        assert_oauth_error(response, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn an_api_without_a_client_grant_is_access_denied() {
    let app = spawn_app().await;
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
            ("audience", MCP_API),
        ])
        .await;
    assert_oauth_error(response, 403, "access_denied").await;
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
        ])
        .await;
    assert_oauth_error(response, 403, "access_denied").await;
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let app = spawn_app().await;
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-cli"),
            ("audience", MCP_API),
        ])
        .await;
    assert_oauth_error(response, 403, "unauthorized_client").await;
}
