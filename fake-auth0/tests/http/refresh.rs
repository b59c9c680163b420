//! Rotating refresh tokens, reuse detection and revocation.

use crate::helpers::{MCP_API, assert_oauth_error, spawn_app};

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.post_token(&[
        ("grant_type", "refresh_token"),
        ("client_id", "demo-cli"),
        ("refresh_token", token),
    ])
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .password_token(
            "admin@example.com",
            "admin-pass",
            MCP_API,
            "openid offline_access",
        )
        .await;
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();

    // Act: rotate once.
    let response = refresh(&app, &first_refresh).await;
    assert_eq!(response.status(), 200);
    let second: serde_json::Value = response.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first_refresh, second_refresh);
    app.verify(second["access_token"].as_str().unwrap(), MCP_API)
        .await;

    // Act: replay the spent token.
    assert_oauth_error(refresh(&app, &first_refresh).await, 400, "invalid_grant").await;

    // Assert: the newer token of the family is revoked too.
    assert_oauth_error(refresh(&app, &second_refresh).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let app = spawn_app().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "openid")
        .await;
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn revocation_kills_the_family() {
    let app = spawn_app().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "offline_access")
        .await;
    let token = body["refresh_token"].as_str().unwrap();
    let response = app
        .revoke(&[("client_id", "demo-cli"), ("token", token)])
        .await;
    assert_eq!(response.status(), 200);
    assert_oauth_error(refresh(&app, token).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_rejected() {
    let app = spawn_app().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "offline_access")
        .await;
    let response = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .await;
    // management-cli may not use the refresh_token grant at all.
    assert_oauth_error(response, 403, "unauthorized_client").await;
    // The token is still good for its own client.
    assert_eq!(
        refresh(&app, body["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_refresh_keeps_its_audience_and_refuses_another_one() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "offline_access")
        .await;
    let token = first["refresh_token"].as_str().unwrap();
    let with_audience = |audience: &'static str| {
        [
            ("grant_type", "refresh_token"),
            ("client_id", "demo-cli"),
            ("refresh_token", token),
            ("audience", audience),
        ]
    };

    // Act: another API is refused, and the token stays usable for its own API.
    let refused = app
        .post_token(&with_audience("http://localhost:8787/"))
        .await;
    let same = app.post_token(&with_audience(MCP_API)).await;

    // Assert
    assert_oauth_error(refused, 400, "invalid_target").await;
    assert_eq!(same.status(), 200);
    let body: serde_json::Value = same.json().await.unwrap();
    app.verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
}
