//! Auth0's On-Behalf-Of token exchange over HTTP, against the demo tenant (whose MCP server
//! client is a Custom API client with a user-delegated grant for the upstream API): the
//! documented request, the issued token as the upstream API would verify it, and every
//! documented refusal with its status.

use serde_json::{Value, json};

use crate::helpers::{
    MCP_API, TestApp, UPSTREAM_API, assert_oauth_error, scopes, spawn_app, spawn_app_with_control,
    with_changes,
};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

impl TestApp {
    /// A demo user's access token for the MCP server, issued to `demo-cli`.
    async fn mcp_token(&self, email: &str, password: &str) -> String {
        let body = self
            .password_token(email, password, MCP_API, "tool:whoami")
            .await;
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The MCP server's OBO request (secret in the body), with `changes` applied (an empty
    /// value removes the parameter).
    async fn obo(&self, subject_token: &str, changes: &[(&str, &str)]) -> reqwest::Response {
        let form = vec![
            ("grant_type", EXCHANGE),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
            ("subject_token", subject_token),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
            ("scope", "read:private"),
        ];
        self.post_token(&with_changes(form, changes)).await
    }

    /// A token minted through the control surface for the MCP API with `claims`.
    async fn minted(&self, sub: &str, claims: Value) -> String {
        let response = self
            .http
            .post(self.url("_control/mint"))
            .bearer_auth(self.control_token.as_deref().unwrap())
            .json(&json!({
                "audience": MCP_API, "sub": sub, "client_id": "demo-cli", "claims": claims,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn the_admin_gets_a_token_for_the_upstream_api_naming_both_clients_in_act() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    let response = app.obo(&subject, &[]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["expires_in"], 86_400);
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
    // The scope is what was asked for, so Auth0 does not repeat it.
    assert!(body.get("scope").is_none(), "{body}");

    let token = app
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(token.claims["sub"], "auth0|admin");
    assert_eq!(token.claims["azp"], "mcp-server-client");
    assert_eq!(scopes(&token.claims), ["read:private"]);
    assert_eq!(
        token.claims["act"],
        json!({"sub": "mcp-server-client", "act": {"sub": "demo-cli"}})
    );
}

#[tokio::test]
async fn basic_authentication_works_and_no_scope_means_every_granted_one() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    let response = app
        .post_token_basic(
            "mcp-server-client",
            "mcp-server-secret",
            &[
                ("grant_type", EXCHANGE),
                ("subject_token", &subject),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("requested_token_type", ACCESS_TOKEN_TYPE),
                ("audience", UPSTREAM_API),
                // The OBO sample's scope: the OpenID scopes bring no ID or refresh token.
                ("scope", "openid offline_access"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "read:private", "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
}

#[tokio::test]
async fn bad_requests_are_400_invalid_request() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    for (changes, description) in [
        (
            &[("subject_token", "")][..],
            "Missing required parameter: subject_token",
        ),
        (
            &[("requested_token_type", "")][..],
            "Missing required parameter: requested_token_type",
        ),
        (
            &[("audience", "")][..],
            "Missing required parameter: audience",
        ),
        (
            &[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            )][..],
            "Invalid subject_token_type and requested_token_type combination.",
        ),
    ] {
        let response = app.obo(&subject, changes).await;
        let got = assert_oauth_error(response, 400, "invalid_request").await;
        assert_eq!(got, description, "{changes:?}");
    }
}

#[tokio::test]
async fn bad_subject_tokens_and_credentials_are_401() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    let wrong_secret = app.obo(&subject, &[("client_secret", "nope")]).await;
    assert_oauth_error(wrong_secret, 401, "invalid_client").await;

    let garbage = app.obo("not-a-jwt", &[]).await;
    let description = assert_oauth_error(garbage, 401, "invalid_grant").await;
    assert_eq!(description, "Invalid subject token");

    // A token for the upstream API is not a token for the MCP server's API.
    let other_audience = app
        .password_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;
    let response = app
        .obo(other_audience["access_token"].as_str().unwrap(), &[])
        .await;
    let description = assert_oauth_error(response, 401, "invalid_grant").await;
    assert!(
        description.contains("resource_server_identifier"),
        "{description}"
    );
}

#[tokio::test]
async fn a_user_without_the_permission_is_403_naming_the_scope() {
    let app = spawn_app().await;
    let subject = app.mcp_token("user@example.com", "user-pass").await;
    let response = app.obo(&subject, &[]).await;
    let description = assert_oauth_error(response, 403, "access_denied").await;
    assert_eq!(description, "The user does not hold: read:private");
}

#[tokio::test]
async fn clients_that_are_not_custom_api_clients_or_have_no_grant_are_403() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    // management-cli is a machine client, not a Custom API client.
    let response = app
        .obo(
            &subject,
            &[
                ("client_id", "management-cli"),
                ("client_secret", "management-secret"),
            ],
        )
        .await;
    let description = assert_oauth_error(response, 403, "unauthorized_client").await;
    assert!(description.contains("Custom API client"), "{description}");

    // The MCP API has no user-delegated grant for the MCP server.
    let response = app
        .obo(&subject, &[("audience", MCP_API), ("scope", "")])
        .await;
    let description = assert_oauth_error(response, 403, "access_denied").await;
    assert!(description.contains("user-delegated"), "{description}");

    let response = app
        .obo(&subject, &[("audience", "https://unknown.example/")])
        .await;
    assert_oauth_error(response, 403, "access_denied").await;
}

#[tokio::test]
async fn a_delegation_chain_four_deep_is_refused_and_three_deep_extends() {
    let app = spawn_app_with_control().await;
    let chain = |depth: usize| {
        let mut act = json!({"sub": "client-1"});
        for level in 2..=depth {
            act = json!({"sub": format!("client-{level}"), "act": act});
        }
        json!({ "act": act })
    };
    let three = app.minted("auth0|admin", chain(3)).await;
    let response = app.obo(&three, &[]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = app
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(token.claims["act"]["sub"], "mcp-server-client");
    assert_eq!(token.claims["act"]["act"], chain(3)["act"]);

    let four = app.minted("auth0|admin", chain(4)).await;
    let response = app.obo(&four, &[]).await;
    let description = assert_oauth_error(response, 400, "invalid_request").await;
    assert_eq!(
        description,
        "Delegation chain (`act` claim) depth exceeds the maximum allowed limit of 4"
    );
}

#[tokio::test]
async fn custom_token_exchange_still_answers_its_own_subject_token_type() {
    let app = spawn_app().await;
    let subject = app.mcp_token("admin@example.com", "admin-pass").await;
    let response = app
        .obo(
            &subject,
            &[
                ("subject_token_type", "urn:fastmcp:mcp"),
                ("requested_token_type", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = app
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert!(token.claims.get("act").is_none(), "CTE writes no act here");
}
