//! The HTTP layer in front of rmcp: tokens, step-up, Origin.

use serde_json::json;

use crate::support::{ADMIN, GUEST, Stack, USER, challenge_param, json_body};

#[tokio::test]
async fn an_invalid_token_is_refused_with_invalid_token() {
    let stack = Stack::start().await;
    let response = stack
        .post_modern("not.a.token", "tools/list", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_token")
    );
    assert_eq!(
        challenge_param(challenge, "resource_metadata"),
        Some(stack.url(".well-known/oauth-protected-resource"))
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    // The server expects another audience than the one fake-auth0 issues tokens for.
    let stack = Stack::start_with(|c| c.audience = "http://127.0.0.1:9/".to_owned()).await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .post_modern(&token, "tools/list", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_token")
    );
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .http
        .post(format!("{}?access_token={token}", stack.mcp()))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    // 401, not 400: the challenge still points the client at the protected-resource metadata.
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        challenge_param(challenge, "resource_metadata").is_some(),
        "{challenge}"
    );
}

#[tokio::test]
async fn calling_greet_without_tool_greet_asks_for_a_step_up() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "greet", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("insufficient_scope")
    );
    assert_eq!(
        challenge_param(challenge, "scope").as_deref(),
        Some("tool:greet")
    );
    assert_eq!(
        challenge_param(challenge, "resource_metadata"),
        Some(stack.url(".well-known/oauth-protected-resource"))
    );
}

#[tokio::test]
async fn a_guest_calling_whoami_is_asked_for_tool_whoami() {
    let stack = Stack::start().await;
    let token = stack.token(GUEST).await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "whoami", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "scope").as_deref(),
        Some("tool:whoami")
    );
}

#[tokio::test]
async fn an_unknown_tool_is_an_ordinary_json_rpc_error() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "no_such_tool", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 403);
    assert_ne!(response.status(), 401);
    let body = json_body(response).await;
    assert!(body["error"]["code"].is_i64(), "{body}");
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let stack =
        Stack::start_with(|c| c.allowed_origins = vec!["http://app.example".to_owned()]).await;
    let token = stack.token(ADMIN).await;

    let refused = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let allowed = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    let exposed = allowed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("mcp-session-id") && exposed.contains("www-authenticate"),
        "{exposed}"
    );

    // Even without a token, a foreign Origin gets 403, not a challenge.
    let refused = stack
        .post(None, &json!({}))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_browser_preflight_is_answered_for_allowed_origins() {
    let stack =
        Stack::start_with(|c| c.allowed_origins = vec!["http://app.example".to_owned()]).await;
    let response = stack
        .http
        .request(reqwest::Method::OPTIONS, stack.mcp())
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://app.example"
    );
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_configured() {
    let stack = Stack::start_with(|c| c.allowed_hosts = vec!["mcp.internal".to_owned()]).await;
    let token = stack.token(ADMIN).await;
    let refused = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("host", "rebound.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "DNS rebinding defence");
    let extra = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("host", "mcp.internal:3001")
        .send()
        .await
        .unwrap();
    assert_eq!(extra.status(), 200);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let huge = "x".repeat(mcp_server::auth::MAX_BODY_BYTES + 1);
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "greet", "arguments": { "name": huge } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}
