//! `whoami` tells the caller who the MCP server thinks they are.

use e2e::{DemoUser, TestStack};
use serde_json::{Value, json};

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn whoami_names_the_caller_and_their_permissions() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;

    let admin = stack.stateless_as(DemoUser::Admin).await?;
    let who = admin.call_tool("whoami", json!({})).await?;
    assert!(!who.is_error, "whoami failed: {}", who.text);
    let identity = who
        .structured
        .clone()
        .expect("whoami returns structured content");
    let sub = identity["sub"].as_str().unwrap_or_default();
    assert!(!sub.is_empty(), "whoami names no sub: {identity}");
    let admin_permissions = strings(identity.get("permissions"));
    assert!(
        admin_permissions.iter().any(|p| p == "tool:greet"),
        "admin's permissions lack tool:greet: {identity}"
    );

    let user = stack.stateless_as(DemoUser::User).await?;
    let who = user.call_tool("whoami", json!({})).await?;
    let identity = who
        .structured
        .clone()
        .expect("whoami returns structured content");
    assert_ne!(identity["sub"].as_str(), Some(sub), "two users share a sub");
    let user_permissions = strings(identity.get("permissions"));
    assert!(
        user_permissions.iter().any(|p| p == "tool:whoami"),
        "{identity}"
    );
    assert!(
        !user_permissions.iter().any(|p| p == "tool:greet"),
        "{identity}"
    );

    stack.shutdown().await
}
