//! Only the token's `scope` grants a tool (RFC 9068 §2.2.3). Where the user has the
//! permission but this client's token lacks it, the server answers HTTP 403
//! `insufficient_scope` (RFC 6750 §3.1) so that clients step up, and stepping up works; a
//! user without the permission gets a JSON-RPC error naming it, since asking again cannot
//! help.

use e2e::{DemoUser, TestStack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_client_granted_only_whoami_steps_up_to_greet() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    // Admin has tool:greet, but this client asked only for tool:whoami.
    let narrowed = stack
        .token_with_scope(DemoUser::Admin, "openid tool:whoami")
        .await?;
    let admin = stack.stateless(narrowed);
    // greet is listed: the user can use it after consenting.
    assert_eq!(admin.list_tools().await?, DemoUser::Admin.expected_tools());

    let reply = admin
        .call_tool_raw("greet", json!({ "name": "Eve" }))
        .await?;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "body: {}", reply.body);
    let challenge = reply
        .www_authenticate()
        .expect("a 403 carries WWW-Authenticate");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="tool:greet""#), "{challenge}");
    let metadata = stack.mcp_url.join(".well-known/oauth-protected-resource")?;
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{metadata}""#)),
        "the step-up does not point at {metadata}: {challenge}"
    );
    let message = reply.message.as_ref().expect("a JSON-RPC error body");
    assert!(
        message["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("tool:greet")),
        "{message}"
    );

    // Stepping up: the client asks again with tool:greet, and now greet runs.
    let stepped_up = stack
        .token_with_scope(DemoUser::Admin, "openid tool:whoami tool:greet")
        .await?;
    let greeting = stack
        .stateless(stepped_up)
        .call_tool("greet", json!({ "name": "Eve" }))
        .await?;
    assert!(!greeting.is_error, "{}", greeting.text);
    stack.shutdown().await
}

#[tokio::test]
async fn user_calling_greet_gets_a_json_rpc_error_naming_the_permission() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let user = stack.stateless_as(DemoUser::User).await?;

    let reply = user
        .call_tool_raw("greet", json!({ "name": "Eve" }))
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "body: {}", reply.body);
    assert!(
        reply.www_authenticate().is_none(),
        "no step-up: it cannot help"
    );
    let message = reply.message.as_ref().expect("a JSON-RPC answer");
    let text = message["error"]["message"].as_str().unwrap_or_default();
    assert!(
        text.contains("greet") && text.contains("tool:greet"),
        "{message}"
    );

    // The refusal does not spoil the rest: whoami and get_current_time still work.
    assert!(!user.call_tool("whoami", json!({})).await?.is_error);
    assert!(
        !user
            .call_tool("get_current_time", json!({}))
            .await?
            .is_error
    );
    stack.shutdown().await
}

#[tokio::test]
async fn guest_is_refused_whoami_and_greet_but_not_the_clock() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let guest = stack.stateless_as(DemoUser::Guest).await?;
    for (tool, scope) in [("whoami", "tool:whoami"), ("greet", "tool:greet")] {
        let reply = guest.call_tool_raw(tool, json!({})).await?;
        assert_eq!(reply.status, StatusCode::OK, "{tool}: {}", reply.body);
        let message = reply.message.as_ref().expect("a JSON-RPC answer");
        assert!(
            message["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(scope)),
            "{tool}: {message}"
        );
    }
    assert!(
        !guest
            .call_tool("get_current_time", json!({}))
            .await?
            .is_error
    );
    stack.shutdown().await
}
