//! The root `cargo run`, as its user meets it: the demo binary starts all three services,
//! prints where they are, the demo users and how to connect (README "Run the demo"), serves
//! on the URLs it printed, stops cleanly on Ctrl-C, and names the flag to use when a port is
//! taken. Every run binds port 0, so the tests run in parallel and beside a running demo.

use std::process::Stdio;
use std::time::Duration;

use e2e::metadata_document::{JOURNEY_REDIRECT_URI, MetadataDocument};
use reqwest::StatusCode;
use stack::DemoUser;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::process::{Child, Command};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const FLAGS: [&str; 3] = ["--idp-port", "--api-port", "--mcp-port"];

/// The demo on the given ports, logging warnings only (the banner is on stdout).
fn demo(ports: [u16; 3]) -> Command {
    let mut command = Command::new(DEMO);
    for (flag, port) in FLAGS.iter().zip(ports) {
        command.arg(flag).arg(port.to_string());
    }
    command
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The URL the banner prints after `label` on one of its lines.
fn url_after(banner: &str, label: &str) -> anyhow::Result<url::Url> {
    let line = banner
        .lines()
        .find(|line| line.trim_start().starts_with(label))
        .ok_or_else(|| anyhow::anyhow!("the banner has no {label:?} line:\n{banner}"))?;
    let url = line[line.find(label).unwrap_or(0) + label.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default();
    Ok(url::Url::parse(url)?)
}

/// Reads the demo's stdout until the banner's service lines are out, failing with what the
/// demo printed if it exits first.
async fn read_banner(
    demo: &mut Child,
) -> anyhow::Result<(String, BufReader<tokio::process::ChildStdout>)> {
    let mut stdout = BufReader::new(demo.stdout.take().expect("piped"));
    let mut banner = String::new();
    let read = async {
        while !banner.contains("mcp-server ") {
            if stdout.read_line(&mut banner).await? == 0 {
                let mut stderr = String::new();
                if let Some(mut pipe) = demo.stderr.take() {
                    pipe.read_to_string(&mut stderr).await?;
                }
                anyhow::bail!("the demo exited before its banner:\n{banner}\n{stderr}");
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .map_err(|_| anyhow::anyhow!("no banner within 60 s:\n{banner}"))??;
    Ok((banner, stdout))
}

#[tokio::test]
async fn the_demo_serves_where_its_banner_says_and_stops_on_ctrl_c() -> anyhow::Result<()> {
    let mut demo = demo([0, 0, 0]).spawn()?;
    let (mut banner, mut rest) = read_banner(&mut demo).await?;
    let idp = url_after(&banner, "fake-auth0 (issuer)")?;
    let upstream = url_after(&banner, "upstream-api")?;
    let mcp = url_after(&banner, "mcp-server")?;
    let endpoint = mcp.join("mcp")?;

    // The banner comes once the stack is ready: each printed URL answers at once.
    let http = reqwest::Client::new();
    let discovery: serde_json::Value = http
        .get(idp.join(".well-known/openid-configuration")?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(discovery["issuer"], idp.as_str(), "{discovery}");
    http.get(upstream.join("health")?)
        .send()
        .await?
        .error_for_status()?;
    http.get(mcp.join("ready")?)
        .send()
        .await?
        .error_for_status()?;
    let unauthenticated = http
        .post(endpoint.clone())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await?;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let challenge = unauthenticated
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains("resource_metadata="),
        "the 401 does not point MCP clients at the resource metadata: {challenge:?}"
    );

    // Ctrl-C is SIGINT.
    let pid = demo.id().expect("running").to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().await?;
    assert!(status.success(), "kill -INT {pid}: {status}");
    let exit = tokio::time::timeout(Duration::from_secs(20), demo.wait()).await??;
    rest.read_to_string(&mut banner).await?;
    let mut stderr = String::new();
    demo.stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .await?;
    assert!(
        exit.success(),
        "the demo did not stop cleanly on Ctrl-C: {exit}\n{stderr}"
    );
    assert!(stderr.contains("stopping"), "{stderr}");

    for expected in [
        format!("claude mcp add --transport http auth0-demo {endpoint}"),
        format!(r#"{{"mcpServers": {{"auth0-demo": {{"type": "http", "url": "{endpoint}"}}}}}}"#),
    ] {
        assert!(
            banner.contains(&expected),
            "the banner lacks {expected:?}:\n{banner}"
        );
    }
    for user in DemoUser::ALL {
        assert!(
            banner
                .lines()
                .any(|line| line.contains(user.email()) && line.contains(user.password())),
            "the banner lacks the sign-in of {}:\n{banner}",
            user.email()
        );
    }
    Ok(())
}

/// Starts the demo with `flag`'s port taken (the other two ephemeral) and checks the one
/// line it prints.
async fn a_taken_port_is_named_with_its_flag(flag: &str) -> anyhow::Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port();
    let ports = FLAGS.map(|each| if each == flag { port } else { 0 });
    let output = tokio::time::timeout(Duration::from_secs(60), demo(ports).output()).await??;
    assert!(
        !output.status.success(),
        "the demo started with {flag} {port} taken"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(
        lines[0].contains(&format!(":{port} is already in use")),
        "{stderr}"
    );
    assert!(
        lines[0].contains(&format!("choose another with {flag} ")),
        "{stderr}"
    );
    drop(taken);
    Ok(())
}

#[tokio::test]
async fn a_taken_idp_port_gets_one_line_naming_idp_port() -> anyhow::Result<()> {
    a_taken_port_is_named_with_its_flag("--idp-port").await
}

#[tokio::test]
async fn a_taken_api_port_gets_one_line_naming_api_port() -> anyhow::Result<()> {
    a_taken_port_is_named_with_its_flag("--api-port").await
}

#[tokio::test]
async fn a_taken_mcp_port_gets_one_line_naming_mcp_port() -> anyhow::Result<()> {
    a_taken_port_is_named_with_its_flag("--mcp-port").await
}

/// Against the binary itself, as `cargo run --` with `--idp-ca-file`: an MCP client that
/// names itself by a Client ID Metadata Document URL (the official Python SDK's
/// `client_metadata_url`, the document served over HTTPS on loopback) logs in, greets and
/// refreshes, and never registers dynamically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_metadata_document_client_logs_in_greets_and_refreshes() -> anyhow::Result<()> {
    let document = MetadataDocument::serve(JOURNEY_REDIRECT_URI).await?;
    let mut command = demo([0, 0, 0]);
    command.arg("--idp-ca-file").arg(&document.ca_file);
    let mut demo = command.spawn()?;
    let (banner, _rest) = read_banner(&mut demo).await?;
    let endpoint = url_after(&banner, "mcp-server")?.join("mcp")?;

    document.run_admin_journey(&endpoint).await?;
    Ok(())
}
