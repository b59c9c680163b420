//! /userinfo, /v2/logout and /health.

use crate::helpers::{MCP_API, spawn_app};

#[tokio::test]
async fn userinfo_returns_the_profile_for_an_openid_token() {
    let app = spawn_app().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "openid email")
        .await;
    let response = app.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200);
    let profile: serde_json::Value = response.json().await.unwrap();
    assert_eq!(profile["sub"], "auth0|admin");
    assert_eq!(profile["email"], "admin@example.com");
}

#[tokio::test]
async fn userinfo_refuses_tokens_without_the_userinfo_audience() {
    let app = spawn_app().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "tool:whoami")
        .await;
    let response = app.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let response = app.userinfo("garbage").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn logout_redirects_only_to_allowed_urls() {
    let app = spawn_app().await;
    let response = app
        .logout(&[("client_id", "demo-cli"), ("returnTo", "http://localhost/")])
        .await;
    assert_eq!(response.status(), 302);
    let response = app
        .logout(&[
            ("client_id", "demo-cli"),
            ("returnTo", "https://evil.example/"),
        ])
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(app.logout(&[]).await.status(), 200);
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("health").await;
    assert_eq!(response.status(), 200);
}
