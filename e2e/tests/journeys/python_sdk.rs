//! The official Python MCP SDK (pinned in e2e/python/mcp_sdk/requirements.txt) runs the whole
//! journey against an in-process stack: 401, discovery, dynamic registration, PKCE, login
//! and consent, tools as admin, the tool list and the 403 step-up as user, in both eras; and
//! with the MCP server in On-Behalf-Of mode, greet through Auth0's OBO exchange.

use e2e::TestStack;
use e2e::python::run_journey;
use mcp_server::exchange::ExchangeMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_completes_the_journey() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let run = run_journey(&stack.mcp_endpoint(), &["--mode", "both"]).await?;
    println!("{}", run.stdout);
    assert!(
        run.stdout
            .contains("python-sdk-journey: 6 passed, 0 failed"),
        "unexpected journey summary:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    stack.shutdown().await
}

/// The OBO quickstart's `.env` sets no MCP_AUTH0_SUBJECT_TOKEN_TYPE, which selects Auth0's
/// On-Behalf-Of exchange against the demo tenant (the same one the CTE journey uses): admin
/// is greeted through it, with `act` naming the MCP server's client; user is refused greet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_journey_greets_through_an_on_behalf_of_exchange() -> anyhow::Result<()> {
    let obo_env_mode = ExchangeMode::select(None, None).map_err(anyhow::Error::msg)?;
    assert_eq!(obo_env_mode, ExchangeMode::OnBehalfOf);
    let stack = TestStack::builder()
        .mcp_config(move |config| config.exchange_mode = obo_env_mode)
        .start()
        .await?;
    let run = run_journey(
        &stack.mcp_endpoint(),
        &["--mode", "auto", "--expect-actor", "mcp-server-client"],
    )
    .await?;
    println!("{}", run.stdout);
    assert!(
        run.stdout
            .contains("python-sdk-journey: 3 passed, 0 failed"),
        "unexpected journey summary:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    stack.shutdown().await
}
