//! The journey across three containers of the prebuilt image (`Dockerfile.prebuilt`) on one
//! Docker network, with testcontainers' generic images.
//!
//! Inside the network the services find each other by container name (the issuer is
//! `http://<fake-auth0 container>:4000/`); the test reaches them through the ports Docker
//! publishes on the host. The API identifiers stay the contract's (`http://localhost:3001/`,
//! `http://localhost:8787/`): an identifier is a name, not an address.
//!
//! The image comes from `E2E_IMAGE` (default `mcp-auth0-demo:0.1.0`, what `just images`
//! builds). Without a Docker daemon or without the image the test says so loudly and passes;
//! with `REQUIRE_DOCKER=1` (as `.ci/run` sets when Docker answers) it fails instead.

use std::io::Write as _;
use std::time::{Duration, Instant};

use e2e::DemoUser;
use e2e::mcp::StatelessMcp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testcontainers::core::IntoContainerPort as _;
use testcontainers::runners::AsyncRunner as _;
use testcontainers::{ContainerAsync, GenericImage, ImageExt as _};

const MCP_AUDIENCE: &str = "http://localhost:3001/";
const API_AUDIENCE: &str = "http://localhost:8787/";

/// Why the test cannot run here; a failure under REQUIRE_DOCKER=1, a loud skip otherwise.
fn unavailable(reason: &str) -> anyhow::Result<()> {
    if std::env::var("REQUIRE_DOCKER").is_ok_and(|value| value == "1") {
        anyhow::bail!("REQUIRE_DOCKER=1 but {reason}");
    }
    // Straight to stderr, past the test harness's output capture: a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPED the containers journey: {reason}.\n\
         !!! Build the image with `just images` (or see .ci/run) and set REQUIRE_DOCKER=1 to make this a failure.\n"
    );
    Ok(())
}

async fn docker(args: &[&str]) -> bool {
    tokio::process::Command::new("docker")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|status| status.success())
}

/// Polls `url` until it answers 2xx (the containers start in parallel with this loop).
async fn wait_ok(http: &reqwest::Client, url: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{url} did not answer 2xx within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_runs_across_three_containers() -> anyhow::Result<()> {
    if !docker(&["info"]).await {
        return unavailable("no Docker daemon answers `docker info`");
    }
    let image = std::env::var("E2E_IMAGE").unwrap_or_else(|_| "mcp-auth0-demo:0.1.0".to_owned());
    if !docker(&["image", "inspect", &image]).await {
        return unavailable(&format!("the image {image} is not built"));
    }
    let (name, tag) = image
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("E2E_IMAGE must be name:tag, got {image}"))?;

    // Names unique to this run, so parallel runs and leftovers never collide; .ci/run removes
    // anything left with its prefix.
    let prefix = format!(
        "{}-{}",
        std::env::var("E2E_RUN_ID").unwrap_or_else(|_| "e2e".to_owned()),
        std::process::id()
    );
    let network = format!("{prefix}-net");
    let idp_name = format!("{prefix}-fake-auth0");
    let api_name = format!("{prefix}-upstream-api");
    let mcp_name = format!("{prefix}-mcp-server");
    let issuer = format!("http://{idp_name}:4000/");

    let generic = |port: u16| GenericImage::new(name, tag).with_exposed_port(port.tcp());
    let idp: ContainerAsync<GenericImage> = generic(4000)
        .with_cmd(["/usr/local/bin/fake-auth0"])
        .with_env_var("FAKE_AUTH0_LISTEN", "0.0.0.0:4000")
        .with_env_var("FAKE_AUTH0_ISSUER", issuer.as_str())
        .with_network(network.as_str())
        .with_container_name(idp_name.as_str())
        .start()
        .await?;
    let upstream = generic(8787)
        .with_cmd(["/usr/local/bin/upstream-api"])
        .with_env_var("UPSTREAM_API_LISTEN", "0.0.0.0:8787")
        .with_env_var("AUTH0_DOMAIN", issuer.as_str())
        .with_env_var("API_AUTH0_AUDIENCE", API_AUDIENCE)
        .with_network(network.as_str())
        .with_container_name(api_name.as_str())
        .start()
        .await?;
    let mcp = generic(3001)
        .with_cmd(["/usr/local/bin/mcp-server"])
        .with_env_var("MCP_BIND_HOST", "0.0.0.0")
        .with_env_var("PORT", "3001")
        .with_env_var("AUTH0_DOMAIN", issuer.as_str())
        .with_env_var("AUTH0_AUDIENCE", MCP_AUDIENCE)
        .with_env_var("MCP_SERVER_URL", MCP_AUDIENCE)
        .with_env_var("API_AUTH0_AUDIENCE", API_AUDIENCE)
        .with_env_var("API_BASE_URL", format!("http://{api_name}:8787/"))
        .with_network(network.as_str())
        .with_container_name(mcp_name.as_str())
        .start()
        .await?;

    let result = journey(&idp, &mcp).await;
    if result.is_err() {
        for (label, container) in [
            ("fake-auth0", &idp),
            ("upstream-api", &upstream),
            ("mcp-server", &mcp),
        ] {
            let logs = container.stderr_to_vec().await.unwrap_or_default();
            eprintln!("--- {label} logs\n{}", String::from_utf8_lossy(&logs));
        }
    }
    mcp.rm().await?;
    upstream.rm().await?;
    idp.rm().await?;
    result
}

async fn journey(
    idp: &ContainerAsync<GenericImage>,
    mcp: &ContainerAsync<GenericImage>,
) -> anyhow::Result<()> {
    let idp_url = format!("http://127.0.0.1:{}/", idp.get_host_port_ipv4(4000).await?);
    let mcp_url = format!("http://127.0.0.1:{}/", mcp.get_host_port_ipv4(3001).await?);
    let http = reqwest::Client::new();
    wait_ok(&http, &format!("{idp_url}health"), Duration::from_secs(60)).await?;
    // Ready = the MCP server has fetched the IdP's keys across the Docker network.
    wait_ok(&http, &format!("{mcp_url}ready"), Duration::from_secs(60)).await?;

    let token = |user: DemoUser| {
        let http = http.clone();
        let endpoint = format!("{idp_url}oauth/token");
        async move {
            let body: Value = http
                .post(endpoint)
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
            body["access_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no access_token: {body}"))
        }
    };
    let endpoint = url::Url::parse(&format!("{mcp_url}mcp"))?;

    let admin =
        StatelessMcp::new(http.clone(), endpoint.clone()).with_token(token(DemoUser::Admin).await?);
    assert_eq!(admin.list_tools().await?, DemoUser::Admin.expected_tools());
    let greeting = admin
        .call_tool("greet", json!({ "name": "containers" }))
        .await?;
    assert!(
        !greeting.is_error,
        "greet across containers failed: {}",
        greeting.text
    );
    assert!(greeting.text.contains("containers"), "{:?}", greeting.text);

    let user_token = token(DemoUser::User).await?;
    let user = StatelessMcp::new(http.clone(), endpoint).with_token(user_token);
    assert_eq!(user.list_tools().await?, DemoUser::User.expected_tools());
    // user has no tool:greet permission: no step-up, a JSON-RPC error naming it.
    let refused = user.call_tool_raw("greet", json!({})).await?;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert!(refused.body.contains("tool:greet"), "{}", refused.body);
    Ok(())
}
