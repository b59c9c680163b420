//! The password grant, RBAC, token dialects and audience selection.

use crate::helpers::{MCP_API, UPSTREAM_API, assert_oauth_error, scopes, spawn_app};

#[tokio::test]
async fn the_admin_gets_an_rfc9068_token_with_every_permission() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "")
        .await;

    // Assert
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    let token = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(token.typ.as_deref(), Some("at+jwt"));
    let claims = &token.claims;
    assert_eq!(claims["sub"], "auth0|admin");
    assert_eq!(claims["aud"], MCP_API);
    assert_eq!(claims["client_id"], "demo-cli");
    assert_eq!(
        claims["permissions"],
        serde_json::json!(["tool:whoami", "tool:greet"])
    );
    assert_eq!(scopes(claims), ["tool:whoami", "tool:greet"]);
    assert!(claims.contains_key("jti") && claims.contains_key("iat"));
    assert!(!claims.contains_key("gty"), "RFC 9068 tokens carry no gty");
}

#[tokio::test]
async fn a_user_gets_only_the_requested_scopes_their_role_allows() {
    let app = spawn_app().await;
    let body = app
        .password_token(
            "user@example.com",
            "user-pass",
            MCP_API,
            "tool:whoami tool:greet",
        )
        .await;
    assert_eq!(body["scope"], "tool:whoami");
    let token = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(
        token.claims["permissions"],
        serde_json::json!(["tool:whoami"])
    );
}

#[tokio::test]
async fn the_guest_gets_a_token_without_permissions() {
    let app = spawn_app().await;
    let body = app
        .password_token("guest@example.com", "guest-pass", MCP_API, "tool:whoami")
        .await;
    let token = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(token.claims["permissions"], serde_json::json!([]));
    assert!(!token.claims.contains_key("scope"));
}

#[tokio::test]
async fn auth0_dialect_tokens_carry_azp_and_gty() {
    let app = spawn_app().await;
    let body = app
        .password_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;
    let token = app
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(token.typ.as_deref(), Some("JWT"));
    assert_eq!(token.claims["azp"], "demo-cli");
    assert_eq!(token.claims["gty"], "password");
    assert!(!token.claims.contains_key("permissions"));
    assert_eq!(token.claims["scope"], "read:private");
}

#[tokio::test]
async fn openid_adds_an_id_token_and_the_userinfo_audience() {
    let app = spawn_app().await;
    let body = app
        .password_token(
            "admin@example.com",
            "admin-pass",
            MCP_API,
            "openid profile email",
        )
        .await;
    let access = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(
        access.claims["aud"],
        serde_json::json!([MCP_API, app.url("userinfo")])
    );
    let id = app
        .verify(body["id_token"].as_str().unwrap(), "demo-cli")
        .await;
    assert_eq!(id.claims["sub"], "auth0|admin");
    assert_eq!(id.claims["email"], "admin@example.com");
    assert_eq!(id.claims["name"], "Ada Admin");
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let app = spawn_app().await;
    let response = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "nope"),
        ])
        .await;
    let description = assert_oauth_error(response, 403, "invalid_grant").await;
    assert_eq!(description, "Wrong email or password.");
}

#[tokio::test]
async fn an_unknown_audience_is_service_not_found() {
    let app = spawn_app().await;
    let response = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
            ("audience", "https://nowhere.example/"),
        ])
        .await;
    let description = assert_oauth_error(response, 403, "access_denied").await;
    assert_eq!(description, "Service not found: https://nowhere.example/");
}

#[tokio::test]
async fn a_client_without_the_password_grant_is_refused() {
    let app = spawn_app().await;
    let response = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
        ])
        .await;
    assert_oauth_error(response, 403, "unauthorized_client").await;
}

/// admin's password grant with these audience and resource parameters.
fn admin_login_naming<'a>(api: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", "demo-cli"),
        ("username", "admin@example.com"),
        ("password", "admin-pass"),
    ];
    form.extend_from_slice(api);
    form
}

#[tokio::test]
async fn resource_is_the_same_as_audience_and_audience_wins_when_they_differ() {
    let app = spawn_app().await;
    for api in [
        &[("resource", MCP_API)][..],
        // Auth0's compatibility profile checks audience first.
        &[("audience", MCP_API), ("resource", UPSTREAM_API)],
    ] {
        let response = app.post_token(&admin_login_naming(api)).await;
        assert_eq!(response.status(), 200, "{api:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        app.verify(body["access_token"].as_str().unwrap(), MCP_API)
            .await;
    }
}

#[tokio::test]
async fn a_tenant_set_to_refuse_gets_invalid_target_for_audience_and_resource_that_differ() {
    let mut tenant = fake_auth0::Tenant::demo();
    tenant.settings.audience_resource_conflict =
        fake_auth0::model::AudienceResourceConflict::Refuse;
    let app = crate::helpers::spawn_app_with(tenant).await;
    let form = admin_login_naming(&[("audience", MCP_API), ("resource", UPSTREAM_API)]);
    let response = app.post_token(&form).await;
    assert_oauth_error(response, 400, "invalid_target").await;
}
