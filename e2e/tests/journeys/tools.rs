//! Each demo user sees exactly the tools their permissions allow, in both protocol eras.

use e2e::mcp::session_tool_names;
use e2e::{DemoUser, TestStack};

#[tokio::test]
async fn each_demo_user_sees_the_tools_their_permissions_allow() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    for user in DemoUser::ALL {
        let mcp = stack.stateless_as(user).await?;
        assert_eq!(
            mcp.list_tools().await?,
            user.expected_tools(),
            "tools/list (2026-07-28) for {}",
            user.email()
        );
    }
    stack.shutdown().await
}

#[tokio::test]
async fn a_session_era_client_sees_the_same_tools() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    for user in DemoUser::ALL {
        let client = stack.session_as(user).await?;
        assert_eq!(
            session_tool_names(&client).await?,
            user.expected_tools(),
            "tools/list (session era) for {}",
            user.email()
        );
        client.cancel().await?;
    }
    stack.shutdown().await
}

#[tokio::test]
async fn get_current_time_answers_rfc3339_utc_for_everyone() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let mcp = stack.stateless_as(DemoUser::Guest).await?;
    let now = mcp
        .call_tool("get_current_time", serde_json::json!({}))
        .await?;
    assert!(!now.is_error, "get_current_time failed: {}", now.text);
    assert!(
        now.text.contains('T') && (now.text.contains('Z') || now.text.contains("+00:00")),
        "not an RFC 3339 UTC time: {:?}",
        now.text
    );
    stack.shutdown().await
}
