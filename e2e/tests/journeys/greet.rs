//! `greet` as admin: the MCP server exchanges the caller's token (Custom Token Exchange) and
//! calls the upstream API with the new one; the answer carries the caller's `sub`, and a
//! second call reuses the exchanged token.

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

/// Successful token exchanges the MCP server made at the IdP, from its `/metrics` (what an
/// operator watches): `mcp_token_exchanges_total{outcome="ok"}`.
async fn exchanges_done(stack: &TestStack) -> anyhow::Result<u64> {
    let metrics = stack
        .http()
        .get(stack.mcp_url.join("metrics")?)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let line = metrics
        .lines()
        .find_map(|line| line.strip_prefix(r#"mcp_token_exchanges_total{outcome="ok"} "#));
    Ok(line.map_or(Ok(0), str::parse)?)
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

    assert_eq!(
        exchanges_done(&stack).await?,
        1,
        "the first greet exchanged once"
    );

    // Called again, the answer is the same and comes from the cached exchanged token: the
    // MCP server's own count of token exchanges at the IdP stays at one.
    let again = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(!again.is_error, "second greet failed: {}", again.text);
    assert!(again.text.contains(&sub));
    assert_eq!(
        exchanges_done(&stack).await?,
        1,
        "the second greet exchanged again instead of using the cache"
    );

    stack.shutdown().await
}

/// The quickstart's `.env` asks the exchange for `openid offline_access read:private`
/// (`MCP_AUTH0_EXCHANGE_SCOPE`). The demo tenant's Custom Token Exchange Action grants what
/// the upstream allows, so the quickstart's value works verbatim.
#[tokio::test]
async fn greet_works_with_the_quickstarts_exchange_scope() -> anyhow::Result<()> {
    let stack = TestStack::builder()
        .mcp_config(|config| config.exchange_scope = "openid offline_access read:private".into())
        .start()
        .await?;
    let greeting = stack
        .stateless_as(DemoUser::Admin)
        .await?
        .call_tool("greet", json!({ "name": "Ada" }))
        .await?;
    assert!(!greeting.is_error, "greet failed: {}", greeting.text);
    assert!(
        greeting.text.contains("Upstream API Response"),
        "{}",
        greeting.text
    );
    stack.shutdown().await
}
