//! Outages: with the IdP or the upstream API down, `greet` answers a tool error while the
//! tools that need neither keep working, and the server stays healthy.

use e2e::{DemoUser, TestStack};
use serde_json::json;

#[tokio::test]
async fn with_the_idp_stopped_greet_is_a_tool_error_and_the_clock_still_works() -> anyhow::Result<()>
{
    let mut stack = TestStack::start().await?;
    // Tokens and keys are fetched while the IdP is up; the exchange has not happened yet.
    let admin = stack.stateless_as(DemoUser::Admin).await?;
    assert!(!admin.call_tool("whoami", json!({})).await?.is_error);

    stack.stop_idp().await?;

    let greeting = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(
        greeting.is_error,
        "greet succeeded without an IdP: {}",
        greeting.text
    );
    // The error names what failed, so an outage of the IdP reads differently from one of
    // the upstream API (the journey below).
    assert!(
        greeting
            .text
            .contains("could not get a token for the upstream API")
            && greeting
                .text
                .contains("the identity provider could not be reached"),
        "the tool error does not say the IdP is unreachable: {}",
        greeting.text
    );
    assert!(
        !greeting.text.contains("eyJ"),
        "a token leaked into the error: {}",
        greeting.text
    );

    let now = admin.call_tool("get_current_time", json!({})).await?;
    assert!(
        !now.is_error,
        "get_current_time failed with the IdP down: {}",
        now.text
    );
    let health = stack
        .http()
        .get(stack.mcp_url.join("health")?)
        .send()
        .await?;
    assert!(
        health.status().is_success(),
        "mcp-server unhealthy: {}",
        health.status()
    );
    stack.shutdown().await
}

#[tokio::test]
async fn with_the_upstream_stopped_greet_is_a_tool_error() -> anyhow::Result<()> {
    let mut stack = TestStack::start().await?;
    let admin = stack.stateless_as(DemoUser::Admin).await?;

    stack.stop_upstream().await?;

    let greeting = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(
        greeting.is_error,
        "greet succeeded without the upstream: {}",
        greeting.text
    );
    assert!(
        greeting.text.contains("could not call the upstream API")
            && greeting
                .text
                .contains("the upstream API could not be reached")
            && !greeting.text.contains("identity provider"),
        "the tool error does not say the upstream API is unreachable: {}",
        greeting.text
    );
    assert!(
        !greeting.text.contains("eyJ"),
        "a token leaked into the error: {}",
        greeting.text
    );
    assert!(
        !admin
            .call_tool("get_current_time", json!({}))
            .await?
            .is_error
    );
    assert!(!admin.call_tool("whoami", json!({})).await?.is_error);
    stack.shutdown().await
}
