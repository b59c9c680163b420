//! Malformed requests get OAuth errors or error pages, never a panic or a hang.

use crate::helpers::{MCP_API, assert_oauth_error, spawn_app};

#[tokio::test]
async fn a_missing_or_unknown_grant_type_is_an_oauth_error() {
    let app = spawn_app().await;
    let response = app.post_token(&[("client_id", "demo-cli")]).await;
    assert_oauth_error(response, 400, "invalid_request").await;
    let response = app
        .post_token(&[("grant_type", "implicit"), ("client_id", "demo-cli")])
        .await;
    assert_oauth_error(response, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn repeated_parameters_are_rejected() {
    let app = spawn_app().await;
    let response = app
        .post_token_raw(
            "application/x-www-form-urlencoded",
            "grant_type=password&client_id=demo-cli&username=a&username=b&password=x",
        )
        .await;
    let description = assert_oauth_error(response, 400, "invalid_request").await;
    assert!(description.contains("username"), "{description}");
}

#[tokio::test]
async fn malformed_bodies_are_rejected() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("application/json", "{"),
        ("application/json", "[1,2]"),
        ("text/plain", "grant_type=password"),
        ("application/x-www-form-urlencoded", "%zz=%"),
    ] {
        let response = app.post_token_raw(content_type, body).await;
        assert_oauth_error(response, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn json_bodies_work_as_auth0_accepts_them() {
    let app = spawn_app().await;
    let body = serde_json::json!({
        "grant_type": "password",
        "client_id": "demo-cli",
        "username": "admin@example.com",
        "password": "admin-pass",
        "audience": MCP_API
    });
    let response = app
        .post_token_raw("application/json", body.to_string())
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_capped() {
    let app = spawn_app().await;
    let body = format!("grant_type=password&padding={}", "a".repeat(200 * 1024));
    let response = app
        .post_token_raw("application/x-www-form-urlencoded", body)
        .await;
    assert_oauth_error(response, 413, "invalid_request").await;
}

#[tokio::test]
async fn malformed_basic_credentials_are_invalid_client() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("oauth/token"))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, 401, "invalid_client").await;
}

#[tokio::test]
async fn an_authorize_request_with_repeated_parameters_is_an_error_page() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("authorize?client_id=demo-cli&client_id=demo-cli"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn an_expired_or_forged_login_transaction_is_an_error_page() {
    let app = spawn_app().await;
    let response = app
        .post_login("forged", "admin@example.com", "admin-pass")
        .await;
    assert_eq!(response.status(), 400);
    let response = app.post_consent("forged", "accept").await;
    assert_eq!(response.status(), 400);
}
