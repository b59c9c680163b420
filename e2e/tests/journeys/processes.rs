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

use std::time::Duration;

use e2e::DemoUser;
use e2e::mcp::StatelessMcp;
use e2e::process::{ServiceProcess, binary, free_port, free_ports};
use serde_json::{Value, json};
use url::Url;

const MCP_AUDIENCE: &str = "http://localhost:3001/";
const API_AUDIENCE: &str = "http://localhost:8787/";
const READY_WITHIN: Duration = Duration::from_secs(30);

struct Processes {
    idp: ServiceProcess,
    upstream: ServiceProcess,
    mcp: ServiceProcess,
    /// Each binary's name and environment, for the `healthcheck` subcommand.
    envs: Vec<(&'static str, Vec<(&'static str, String)>)>,
}

async fn start_processes() -> anyhow::Result<Processes> {
    let [idp_port, api_port, mcp_port] = free_ports::<3>()?;
    let issuer = format!("http://127.0.0.1:{idp_port}/");
    let idp_env = vec![
        ("FAKE_AUTH0_LISTEN", format!("127.0.0.1:{idp_port}")),
        ("FAKE_AUTH0_ISSUER", issuer.clone()),
        ("LOG_FORMAT", "json".to_owned()),
    ];
    let idp = ServiceProcess::start(
        "fake-auth0",
        Url::parse(&issuer)?,
        "health",
        &idp_env,
        READY_WITHIN,
    )
    .await?;
    let api_url = format!("http://127.0.0.1:{api_port}/");
    let api_env = vec![
        ("UPSTREAM_API_LISTEN", format!("127.0.0.1:{api_port}")),
        ("AUTH0_DOMAIN", issuer.clone()),
        ("API_AUTH0_AUDIENCE", API_AUDIENCE.to_owned()),
    ];
    let upstream = ServiceProcess::start(
        "upstream-api",
        Url::parse(&api_url)?,
        "health",
        &api_env,
        READY_WITHIN,
    )
    .await?;
    let mcp_url = format!("http://127.0.0.1:{mcp_port}/");
    let mcp_env = vec![
        ("PORT", mcp_port.to_string()),
        ("AUTH0_DOMAIN", issuer.clone()),
        ("AUTH0_AUDIENCE", MCP_AUDIENCE.to_owned()),
        ("MCP_SERVER_URL", mcp_url.clone()),
        ("API_AUTH0_AUDIENCE", API_AUDIENCE.to_owned()),
        ("API_BASE_URL", api_url),
        ("MCP_AUTH0_CLIENT_ID", "mcp-server-client".to_owned()),
        ("MCP_AUTH0_CLIENT_SECRET", "mcp-server-secret".to_owned()),
    ];
    let mcp = ServiceProcess::start(
        "mcp-server",
        Url::parse(&mcp_url)?,
        "health",
        &mcp_env,
        READY_WITHIN,
    )
    .await?;
    Ok(Processes {
        idp,
        upstream,
        mcp,
        envs: vec![
            ("fake-auth0", idp_env),
            ("upstream-api", api_env),
            ("mcp-server", mcp_env),
        ],
    })
}

async fn password_token(
    http: &reqwest::Client,
    issuer: &Url,
    user: DemoUser,
) -> anyhow::Result<String> {
    let response: Value = http
        .post(issuer.join("oauth/token")?)
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", user.email()),
            ("password", user.password()),
            ("audience", MCP_AUDIENCE),
            ("scope", "openid tool:whoami tool:greet"),
        ])
        .send()
        .await?
        .json()
        .await?;
    response["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no access_token: {response}"))
}

#[tokio::test]
async fn the_binaries_run_the_journey_configured_by_environment_variables() -> anyhow::Result<()> {
    let processes = start_processes().await?;
    let http = reqwest::Client::new();
    let endpoint = processes.mcp.base_url.join("mcp")?;

    // Wait until the MCP server has the IdP's keys (it fetches them in the background).
    let ready = processes.mcp.base_url.join("ready")?;
    let deadline = std::time::Instant::now() + READY_WITHIN;
    while !http.get(ready.clone()).send().await?.status().is_success() {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "mcp-server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let token = password_token(&http, &processes.idp.base_url, DemoUser::Admin).await?;
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

    let token = password_token(&http, &processes.idp.base_url, DemoUser::User).await?;
    let user = StatelessMcp::new(http, endpoint).with_token(token);
    assert_eq!(user.list_tools().await?, DemoUser::User.expected_tools());

    // The container health check: the same configuration, the `healthcheck` subcommand.
    for (name, env) in &processes.envs {
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

    processes.mcp.stop().await?;
    processes.upstream.stop().await?;
    processes.idp.stop().await
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
