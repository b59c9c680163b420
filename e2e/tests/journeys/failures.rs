//! Outages: with the IdP or the upstream API down, or hung (accepting connections and never
//! answering), `greet` answers a tool error (within the configured timeout, for a hung peer)
//! while the tools that need neither keep working, and the server stays healthy.

use std::time::Duration;

use e2e::hostile::HangingPeer;
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
    // The keys are cached: the token still verifies, so whoami works with the IdP down.
    let whoami = admin.call_tool("whoami", json!({})).await?;
    assert!(
        !whoami.is_error,
        "whoami failed with the IdP down: {}",
        whoami.text
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

/// The timeouts towards the IdP and the upstream API the hanging journeys configure.
const CONFIGURED: Duration = Duration::from_secs(1);
/// How long a hanging journey waits for the tool error: far above `CONFIGURED`, so that
/// only a call that is never bounded fails it.
const GENEROUS: Duration = Duration::from_secs(20);

/// Calls `greet` and checks it is a tool error saying `timed_out` (which peer did not
/// answer in time), within the generous deadline.
async fn greet_times_out(admin: &e2e::mcp::StatelessMcp, timed_out: &str) -> anyhow::Result<()> {
    let greeting =
        tokio::time::timeout(GENEROUS, admin.call_tool("greet", json!({ "name": "Ada" })))
            .await
            .map_err(|_| anyhow::anyhow!("greet was still waiting after {GENEROUS:?}"))??;
    assert!(
        greeting.is_error,
        "greet succeeded against a hung peer: {}",
        greeting.text
    );
    assert!(
        greeting.text.contains(timed_out),
        "the tool error does not say `{timed_out}`: {}",
        greeting.text
    );
    assert!(
        !greeting.text.contains("eyJ"),
        "a token leaked: {}",
        greeting.text
    );
    Ok(())
}

fn socket_addr(url: &url::Url) -> anyhow::Result<std::net::SocketAddr> {
    url.socket_addrs(|| None)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{url} has no address"))
}

#[tokio::test]
async fn with_the_upstream_hanging_greet_is_a_tool_error_within_the_configured_timeout()
-> anyhow::Result<()> {
    let mut stack = TestStack::builder()
        .mcp_config(|config| config.upstream_timeout = CONFIGURED)
        .start()
        .await?;
    let admin = stack.stateless_as(DemoUser::Admin).await?;
    let upstream = socket_addr(&stack.upstream_url)?;
    stack.stop_upstream().await?;
    // Something answers the upstream's port, accepts, and never says a word.
    let hanging = HangingPeer::bind(upstream).await?;

    greet_times_out(&admin, "the upstream API did not answer in time").await?;
    assert!(
        hanging.accepted() > 0,
        "the upstream call never reached the hung peer"
    );
    // Nothing is left waiting on the hung peer: the server let go of its connection.
    hanging.until_all_closed(GENEROUS).await?;
    // And the server keeps serving.
    assert!(!admin.call_tool("whoami", json!({})).await?.is_error);
    stack.shutdown().await
}

#[tokio::test]
async fn with_the_idp_hanging_whoami_keeps_working_and_greet_is_a_tool_error_within_the_timeout()
-> anyhow::Result<()> {
    let mut stack = TestStack::builder()
        .mcp_config(|config| {
            config.exchange_connect_timeout = CONFIGURED;
            config.exchange_timeout = CONFIGURED;
        })
        .start()
        .await?;
    let admin = stack.stateless_as(DemoUser::Admin).await?;
    let idp = socket_addr(&stack.idp_url)?;
    stack.stop_idp().await?;
    let hanging = HangingPeer::bind(idp).await?;

    // The keys are cached: verifying the token needs no IdP.
    let whoami = admin.call_tool("whoami", json!({})).await?;
    assert!(
        !whoami.is_error,
        "whoami failed with the IdP hung: {}",
        whoami.text
    );

    greet_times_out(&admin, "the identity provider did not answer in time").await?;
    assert!(
        hanging.accepted() > 0,
        "the exchange never reached the hung IdP"
    );
    assert!(!admin.call_tool("whoami", json!({})).await?.is_error);
    stack.shutdown().await
}

#[tokio::test]
async fn when_the_idp_returns_greet_works_again() -> anyhow::Result<()> {
    // A data dir, as a real tenant keeps its keys: the user's token stays valid across the
    // restart.
    let data_dir = std::env::temp_dir().join(format!(
        "e2e-idp-recovery-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    ));
    let mut stack = TestStack::builder()
        .idp_config({
            let data_dir = data_dir.clone();
            move |config| config.data_dir = Some(data_dir)
        })
        .start()
        .await?;
    let admin = stack.stateless_as(DemoUser::Admin).await?;
    stack.stop_idp().await?;
    let down = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(
        down.is_error,
        "greet succeeded without an IdP: {}",
        down.text
    );

    stack.restart_idp().await?;

    // The failed exchange was not cached: the next call exchanges again, and succeeds.
    let greeting = admin.call_tool("greet", json!({ "name": "Ada" })).await?;
    assert!(
        !greeting.is_error,
        "greet failed after the IdP returned: {}",
        greeting.text
    );
    assert!(greeting.text.contains("Ada"), "{}", greeting.text);
    assert!(!admin.call_tool("whoami", json!({})).await?.is_error);
    stack.shutdown().await?;
    std::fs::remove_dir_all(&data_dir)?;
    Ok(())
}
