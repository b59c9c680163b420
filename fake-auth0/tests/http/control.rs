//! The control surface (`--control`): the clock makes codes, refresh tokens and access
//! tokens expire; reset; mint; and who may call it.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{
    DEMO_CALLBACK, MCP_API, TestApp, VERIFIER, assert_oauth_error, demo_authorize_query,
    query_param, spawn_app, spawn_app_with_control,
};

impl TestApp {
    /// A control request with the token.
    fn control_request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.control_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn control(&self, path: &str, body: &Value) -> reqwest::Response {
        self.control_request(self.http.post(self.url(&format!("_control/{path}"))))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn control_get(&self, path: &str) -> reqwest::Response {
        self.control_request(self.http.get(self.url(&format!("_control/{path}"))))
            .send()
            .await
            .unwrap()
    }

    /// Sets the clock; asserts success and returns the new state.
    async fn set_clock(&self, change: Value) -> Value {
        let response = self.control("clock", &change).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

/// Asserts an RFC 9457 problem answer and returns its `detail`.
async fn assert_problem(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(body.get("error").is_none(), "not an OAuth error: {body}");
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_clock_freezes_advances_and_returns_to_real_time() {
    let app = spawn_app_with_control().await;

    let frozen = app.set_clock(json!({"freeze_at": 2_000_000_000})).await;
    assert_eq!(frozen["mode"], "frozen");
    assert_eq!(frozen["now"], 2_000_000_000_u64);

    let moved = app.set_clock(json!({"advance_by": 90})).await;
    assert_eq!(moved["now"], 2_000_000_090_u64);
    let read: Value = app.control_get("clock").await.json().await.unwrap();
    assert_eq!(read["now"], 2_000_000_090_u64);

    let real = app.set_clock(json!({"real": true})).await;
    assert_eq!(real["mode"], "real");
    assert!(real["now"].as_u64().unwrap() < 2_000_000_000);
}

#[tokio::test]
async fn tokens_issued_at_a_frozen_time_carry_that_time() {
    let app = spawn_app_with_control().await;
    // Far enough ahead that the token is still valid by the system clock.
    let at = 4_000_000_000_u64;
    app.set_clock(json!({"freeze_at": at})).await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "")
        .await;
    let token = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(token.claims["iat"], at);
    assert_eq!(token.claims["exp"], at + 86_400);
}

#[tokio::test]
async fn an_authorization_code_expires_after_sixty_seconds() {
    let app = spawn_app_with_control().await;
    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid", MCP_API),
            "admin@example.com",
            "admin-pass",
        )
        .await;
    let code = query_param(&redirect, "code").unwrap();

    app.set_clock(json!({"advance_by": 61})).await;

    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-cli"),
            ("code", &code),
            ("redirect_uri", DEMO_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_oauth_error(response, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_refresh_token_expires_after_thirty_days() {
    let app = spawn_app_with_control().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "offline_access")
        .await;
    let refresh_token = body["refresh_token"].as_str().unwrap();

    app.set_clock(json!({"advance_by": 30 * 86_400 + 1})).await;

    let response = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-cli"),
            ("refresh_token", refresh_token),
        ])
        .await;
    assert_oauth_error(response, 400, "invalid_grant").await;
}

#[tokio::test]
async fn an_access_token_expires_at_its_lifetime() {
    let app = spawn_app_with_control().await;
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "openid")
        .await;
    let token = body["access_token"].as_str().unwrap();
    let lifetime = body["expires_in"].as_i64().unwrap();
    assert_eq!(app.userinfo(token).await.status(), 200);

    app.set_clock(json!({"advance_by": lifetime - 5})).await;
    assert_eq!(app.userinfo(token).await.status(), 200);
    app.set_clock(json!({"advance_by": 10})).await;
    assert_eq!(app.userinfo(token).await.status(), 401);
}

#[tokio::test]
async fn reset_forgets_registered_clients_and_refresh_tokens_and_the_clock() {
    let app = spawn_app_with_control().await;
    let registered: Value = app
        .register(&json!({"redirect_uris": ["http://127.0.0.1:9999/cb"]}))
        .await
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let body = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "offline_access")
        .await;
    app.set_clock(json!({"advance_by": 3_600})).await;
    let revoke_as_registered = || {
        app.http
            .post(app.url("oauth/revoke"))
            .basic_auth(client_id, Some(secret))
            .form(&[("token", "not-a-token")])
            .send()
    };
    assert_eq!(revoke_as_registered().await.unwrap().status(), 200);

    let response = app.control("reset", &json!({})).await;
    assert_eq!(response.status(), 204);

    assert_oauth_error(revoke_as_registered().await.unwrap(), 401, "invalid_client").await;
    let refreshed = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-cli"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_oauth_error(refreshed, 400, "invalid_grant").await;
    let clock: Value = app.control_get("clock").await.json().await.unwrap();
    assert_eq!(clock["mode"], "real");
    // The tenant itself still works, and its keys were kept.
    let fresh = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "")
        .await;
    app.verify(fresh["access_token"].as_str().unwrap(), MCP_API)
        .await;
}

#[tokio::test]
async fn a_minted_token_verifies_against_the_served_jwks() {
    let app = spawn_app_with_control().await;
    let response = app
        .control(
            "mint",
            &json!({
                "audience": MCP_API,
                "sub": "auth0|someone",
                "scope": "tool:greet",
                "permissions": ["tool:greet"],
                "expires_in": 120,
                "claims": {"https://example.com/tenant": "acme"}
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);

    let token = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(token.claims["iss"], app.issuer.as_str());
    assert_eq!(token.claims["sub"], "auth0|someone");
    assert_eq!(token.claims["permissions"], json!(["tool:greet"]));
    assert_eq!(token.claims["scope"], "tool:greet");
    assert_eq!(token.claims["https://example.com/tenant"], "acme");
    let lifetime = token.claims["exp"].as_u64().unwrap() - token.claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 120);
}

#[tokio::test]
async fn a_minted_token_for_a_foreign_audience_is_signed_the_same_way() {
    let app = spawn_app_with_control().await;
    let body: Value = app
        .control(
            "mint",
            &json!({"audience": "https://other.example/", "sub": "s"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = app
        .verify(
            body["access_token"].as_str().unwrap(),
            "https://other.example/",
        )
        .await;
    assert_eq!(token.claims["aud"], "https://other.example/");
}

#[tokio::test]
async fn control_mistakes_are_problem_details_not_oauth_errors() {
    let app = spawn_app_with_control().await;
    let detail = assert_problem(
        app.control("clock", &json!({"freeze_at": 1, "real": true}))
            .await,
        422,
    )
    .await;
    assert!(detail.contains("exactly one"), "{detail}");
    assert_problem(app.control("clock", &json!({"when": "now"})).await, 422).await;
    let detail = assert_problem(
        app.control(
            "mint",
            &json!({"audience": MCP_API, "sub": "s", "claims": {"iss": "x"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(detail.contains("`iss`"), "{detail}");
    let not_json = app
        .control_request(app.http.post(app.url("_control/clock")))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 400).await;
}

#[tokio::test]
async fn without_control_the_routes_do_not_exist() {
    let app = spawn_app().await;
    for path in ["reset", "clock", "mint"] {
        assert_eq!(app.control(path, &json!({})).await.status(), 404, "{path}");
    }
    assert_eq!(app.control_get("clock").await.status(), 404);
}

#[tokio::test]
async fn requests_from_web_pages_are_refused() {
    let app = spawn_app_with_control().await;
    let response = app
        .control_request(app.http.post(app.url("_control/reset")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
}

#[tokio::test]
async fn loopback_callers_without_the_control_token_get_401() {
    let app = spawn_app_with_control().await;
    for token in [None, Some("wrong"), Some("")] {
        let request = app.http.post(app.url("_control/mint"));
        let request = match token {
            Some(token) => request.header("authorization", format!("Bearer {token}")),
            None => request,
        };
        let response = request
            .json(&json!({"audience": MCP_API, "sub": "auth0|admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="fake-auth0 control""#
        );
        let detail = assert_problem(response, 401).await;
        assert!(detail.contains("control token"), "{detail}");
    }
}

/// Who calls is decided from the connection's peer address; a request from another host
/// (here: a request carrying such an address, sent to the application in process) or one
/// whose peer is unknown is refused.
#[tokio::test]
async fn only_loopback_callers_are_answered() {
    let config = fake_auth0::Config {
        control: true,
        control_token: Some(fake_auth0::ControlToken::new("test-token")),
        ..fake_auth0::Config::default()
    };
    let app = fake_auth0::router(config).unwrap();
    let remote: SocketAddr = "192.0.2.10:50000".parse().unwrap();
    let local: SocketAddr = "[::ffff:127.0.0.1]:50000".parse().unwrap();
    let cases = [(Some(remote), 403), (None, 403), (Some(local), 200)];
    for (peer, status) in cases {
        let mut request = http::Request::get("/_control/clock")
            .header("authorization", "Bearer test-token")
            .body(axum::body::Body::empty())
            .unwrap();
        if let Some(peer) = peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), status, "{peer:?}");
    }
}
