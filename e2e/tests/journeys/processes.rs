//! The built binaries, configured only by environment variables as `cargo run -p <service>`
//! users and containers configure them, on free ports: the same journey through three
//! processes.
//!
//! The API identifiers stay the contract's defaults (`http://localhost:3001/`,
//! `http://localhost:8787/`): an identifier is a name, not an address, so the embedded demo
//! tenant works unchanged while the services listen elsewhere.
//!
//! mcp-server gets no MCP_AUTH0_SUBJECT_TOKEN_TYPE, as with the OBO quickstart's `.env`, so
//! its greet goes through Auth0's On-Behalf-Of exchange (the in-process journeys use Custom
//! Token Exchange, the demo's).

use e2e::DemoUser;
use e2e::mcp::StatelessMcp;
use e2e::process::{ProcessStack, binary, free_port};
use serde_json::json;

#[tokio::test]
async fn the_binaries_run_the_journey_configured_by_environment_variables() -> anyhow::Result<()> {
    let processes = ProcessStack::start_with(binary, &[("LOG_FORMAT", "json".to_owned())]).await?;
    let http = reqwest::Client::new();
    let endpoint = processes.mcp_endpoint();

    let token = processes.token_for(&http, DemoUser::Admin).await?;
    let admin = StatelessMcp::new(http.clone(), endpoint.clone()).with_token(token);
    assert_eq!(admin.list_tools().await?, DemoUser::Admin.expected_tools());
    let greeting = admin
        .call_tool("greet", json!({ "name": "process" }))
        .await?;
    assert!(
        !greeting.is_error,
        "greet across processes failed: {}",
        greeting.text
    );
    assert!(greeting.text.contains("process"), "{:?}", greeting.text);

    let token = processes.token_for(&http, DemoUser::User).await?;
    let user = StatelessMcp::new(http, endpoint).with_token(token);
    assert_eq!(user.list_tools().await?, DemoUser::User.expected_tools());

    // The container health check: the same configuration, the `healthcheck` subcommand.
    for (name, env) in processes.envs() {
        let output = tokio::process::Command::new(binary(name)?)
            .arg("healthcheck")
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(std::env::temp_dir())
            .output()
            .await?;
        assert!(
            output.status.success(),
            "{name} healthcheck exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    processes.stop().await
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_a_message_naming_the_variable() -> anyhow::Result<()> {
    let output = tokio::process::Command::new(binary("mcp-server")?)
        .env_clear()
        .env("PORT", free_port()?.to_string())
        .env("AUTH0_DOMAIN", "http://localhost:4000")
        .env("API_BASE_URL", "not a url")
        .current_dir(std::env::temp_dir())
        .output()
        .await?;
    assert!(
        !output.status.success(),
        "mcp-server started with API_BASE_URL=\"not a url\""
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("API_BASE_URL"),
        "the message does not name the variable: {stderr}"
    );
    Ok(())
}

/// What the three binaries write at their default log level while they serve: nothing per
/// request. 1,000 calls — 500 stateless `greet`s (through all three services) and 500
/// `whoami`s in a session — may add fewer than 1,000 bytes to their logs together: less
/// than a byte per call, where a single log line is a hundred and more (rmcp alone logged
/// about 1.2 KB per stateless request at `info`).
#[tokio::test]
async fn a_thousand_calls_at_the_default_log_level_add_almost_nothing_to_the_logs()
-> anyhow::Result<()> {
    const CALLS_PER_ERA: usize = 500;
    const MOST_BYTES: u64 = 1_000;
    let processes = ProcessStack::start_with(binary, &[e2e::process::DEFAULT_LOGGING]).await?;
    let http = reqwest::Client::new();
    let endpoint = processes.mcp_endpoint();
    let token = processes.token_for(&http, DemoUser::Admin).await?;
    let stateless = StatelessMcp::new(http, endpoint.clone()).with_token(token.clone());
    let session = e2e::mcp::connect_session(&endpoint, &token).await?;
    // The first greet exchanges the token and opens connections: once, not per request.
    let first = stateless
        .call_tool("greet", json!({ "name": "quiet" }))
        .await?;
    assert!(!first.is_error, "greet failed: {}", first.text);
    let logged = || -> anyhow::Result<u64> {
        processes
            .services()
            .iter()
            .map(|service| service.log_bytes())
            .sum()
    };
    let before = logged()?;

    for _ in 0..CALLS_PER_ERA {
        let greeting = stateless
            .call_tool("greet", json!({ "name": "quiet" }))
            .await?;
        assert!(!greeting.is_error, "greet failed: {}", greeting.text);
        let whoami = e2e::mcp::session_call_tool(&session, "whoami", json!({})).await?;
        assert!(!whoami.is_error, "whoami failed: {}", whoami.text);
    }

    let added = logged()? - before;
    let tails: Vec<String> = processes
        .services()
        .iter()
        .map(|service| format!("--- {} ---\n{}", service.name(), service.log_tail()))
        .collect();
    assert!(
        added < MOST_BYTES,
        "{} calls at the default log level added {added} bytes to the services' logs; they end \
         with:\n{}",
        2 * CALLS_PER_ERA,
        tails.join("\n")
    );
    session.cancel().await?;
    processes.stop().await
}
