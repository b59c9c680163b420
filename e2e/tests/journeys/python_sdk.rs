//! The official Python MCP SDK (pinned in e2e/python/mcp_sdk/requirements.txt) runs the whole
//! journey against an in-process stack: 401, discovery, dynamic registration, PKCE, login
//! and consent, tools as admin, the 403 step-up of a client granted too little (admin
//! consenting first to tool:whoami only), the tool list and a readable refusal as user, and
//! guest, in both eras; and with the MCP server in On-Behalf-Of mode, greet through Auth0's
//! OBO exchange; and with a Client ID Metadata Document instead of dynamic registration.

use e2e::metadata_document::{JOURNEY_REDIRECT_URI, MetadataDocument};
use e2e::python::{run_journey, run_script};
use e2e::{DemoUser, TestStack};
use mcp_server::exchange::ExchangeMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_completes_the_journey() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let run = run_journey(&stack.mcp_endpoint(), &["--mode", "both"]).await?;
    println!("{}", run.stdout);
    run.expect_summary("python-sdk-journey: 8 passed, 0 failed")?;
    stack.shutdown().await
}

/// The SDK 1.20 (what Auth0's Python sample locks; protocol 2025-06-18) through whole
/// sessions: no SSE priming event for it to trip on, a session close it counts as success,
/// refusals it can show, and so nothing it logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_1_20_completes_its_sessions_without_a_traceback() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let admin = stack.token_for(DemoUser::Admin).await?;
    let user = stack.token_for(DemoUser::User).await?;
    let guest = stack.token_for(DemoUser::Guest).await?;
    let endpoint = stack.mcp_endpoint();
    let run = run_script(
        "mcp_sdk_1_20",
        "journey.py",
        &["--mcp-url", endpoint.as_str()],
        &[
            ("JOURNEY_TOKEN_ADMIN", &admin),
            ("JOURNEY_TOKEN_USER", &user),
            ("JOURNEY_TOKEN_GUEST", &guest),
        ],
    )
    .await?;
    println!("{}", run.stdout);
    run.expect_summary("mcp-1.20-journey: 3 passed, 0 failed")?;
    // The SDK logs what went wrong (a traceback per unparsable event, "Session termination
    // failed: 202") at WARNING or above, to stderr.
    assert!(
        run.stderr.trim().is_empty(),
        "the SDK logged:\n{}",
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
    run.expect_summary("python-sdk-journey: 4 passed, 0 failed")?;
    stack.shutdown().await
}

/// The SDK's `client_metadata_url`: the journey's document served over HTTPS on loopback
/// (a certificate from fake-auth0's local CA, which fake-auth0 trusts through `ca_file`);
/// fake-auth0 fetches it, admin logs in, greets and refreshes, and the SDK never calls
/// dynamic registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_journey_uses_a_client_id_metadata_document() -> anyhow::Result<()> {
    // Arrange: the document server.
    let document = MetadataDocument::serve(JOURNEY_REDIRECT_URI).await?;
    let ca_file = document.ca_file.clone();
    let stack = TestStack::builder()
        .idp_config(move |config| config.ca_file = Some(ca_file))
        .start()
        .await?;

    // Act and assert
    document.run_admin_journey(&stack.mcp_endpoint()).await?;
    stack.shutdown().await
}
