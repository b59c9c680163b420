//! `greet` as admin: the MCP server exchanges the caller's token (Custom Token Exchange) and
//! calls the upstream API with the new one; the answer carries the caller's `sub`.

use e2e::mcp::session_call_tool;
use e2e::{DemoUser, TestStack};
use serde_json::json;

async fn admin_sub(stack: &TestStack) -> anyhow::Result<String> {
    let who = stack
        .stateless_as(DemoUser::Admin)
        .await?
        .call_tool("whoami", json!({}))
        .await?;
    Ok(who
        .structured
        .and_then(|identity| identity["sub"].as_str().map(str::to_owned))
        .expect("whoami names the sub"))
}

#[tokio::test]
async fn admin_greet_reaches_the_upstream_through_the_exchange() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let sub = admin_sub(&stack).await?;

    let admin = stack.stateless_as(DemoUser::Admin).await?;
    let greeting = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(!greeting.is_error, "greet failed: {}", greeting.text);
    assert!(
        greeting.text.contains("Ada"),
        "not greeted by name: {:?}",
        greeting.text
    );
    assert!(
        greeting.text.contains(&sub),
        "answer lacks admin's sub {sub}: {:?}",
        greeting.text
    );
    let upstream = greeting
        .structured
        .expect("greet returns the upstream JSON");
    assert!(
        upstream.to_string().contains(&sub),
        "the upstream did not see admin's sub {sub}: {upstream}"
    );

    // Called again, the answer is the same (the exchanged token is cached, not re-fetched).
    let again = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(!again.is_error, "second greet failed: {}", again.text);
    assert!(again.text.contains(&sub));

    stack.shutdown().await
}

#[tokio::test]
async fn admin_greet_works_in_the_session_era_too() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let sub = admin_sub(&stack).await?;
    let client = stack.session_as(DemoUser::Admin).await?;
    let greeting = session_call_tool(&client, "greet", json!({ "name": "Grace" })).await?;
    assert!(!greeting.is_error, "greet failed: {}", greeting.text);
    assert!(
        greeting.text.contains("Grace") && greeting.text.contains(&sub),
        "{:?}",
        greeting.text
    );
    client.cancel().await?;
    stack.shutdown().await
}
