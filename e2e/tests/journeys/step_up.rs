//! A tool the token does not allow is refused at the HTTP layer with 403
//! `insufficient_scope` (RFC 6750 §3.1), so that clients step up; a user without the
//! permission gets no further by asking again.

use e2e::{DemoUser, TestStack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn user_calling_greet_is_asked_to_step_up_with_403_insufficient_scope() -> anyhow::Result<()>
{
    let stack = TestStack::start().await?;
    let user = stack.stateless_as(DemoUser::User).await?;

    let reply = user
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

    // Stepping up: the client asks the IdP for tool:greet. The user has no such permission,
    // so the new token still lacks it and the server still refuses.
    let stepped_up = stack
        .token_for_audience(
            DemoUser::User,
            stack.mcp_url.as_str(),
            "openid tool:whoami tool:greet",
        )
        .await?;
    let reply = stack
        .stateless(stepped_up)
        .call_tool_raw("greet", json!({ "name": "Eve" }))
        .await?;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "body: {}", reply.body);

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
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{tool}: {}",
            reply.body
        );
        let challenge = reply.www_authenticate().unwrap_or_default();
        assert!(
            challenge.contains(&format!(r#"scope="{scope}""#)),
            "{tool}: {challenge}"
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
