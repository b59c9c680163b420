//! Three mcp-server replicas (the binary, as processes) behind a real load balancer
//! (Debian's haproxy: round-robin per request, no stickiness) sharing sessions through a
//! real Redis (Debian's redis-server): the official Python MCP SDK's journey passes through
//! the balancer in both eras, and a session goes on after the replica that created it is
//! killed.
//!
//! fake-auth0 and upstream-api run in process (the stack); the tenant's MCP API identifier is
//! the balancer's URL, which every replica uses as AUTH0_AUDIENCE and MCP_SERVER_URL, as a
//! deployment behind a balancer would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use e2e::python::run_journey;
use e2e::{DemoUser, Listeners, TestStack};
use serde_json::{Value, json};
use stack::balancer::Balancer;
use stack::process::{ServiceProcess, free_ports};
use stack::redis::RedisServer;
use stack::tokens::MCP_SCOPE;
use url::Url;

const VERSION: &str = "2025-11-25";

/// The bearer token of fake-auth0's control surface, whose `/_control/stats` counts the token
/// exchanges it answered.
const CONTROL_TOKEN: &str = "balancer-journey-control-token";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A metric's value in a replica's `/metrics` (0 when absent).
async fn metric(http: &reqwest::Client, replica: &Url, name: &str) -> anyhow::Result<f64> {
    let text = http
        .get(replica.join("metrics")?)
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// The token exchanges fake-auth0 has answered with a token.
async fn exchanges_at_the_idp(http: &reqwest::Client, stack: &TestStack) -> anyhow::Result<u64> {
    let stats: Value = http
        .get(stack.idp_url.join("_control/stats")?)
        .bearer_auth(CONTROL_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    stats["token_exchanges"]
        .as_u64()
        .context("/_control/stats has no token_exchanges")
}

/// One JSON-RPC message in session `session` (none for `initialize`) through `endpoint`;
/// the HTTP status, the session id the answer names, and the JSON-RPC response (if any).
async fn rpc(
    http: &reqwest::Client,
    endpoint: &Url,
    token: &str,
    session: Option<&str>,
    body: Value,
) -> anyhow::Result<(u16, Option<String>, Option<Value>)> {
    let mut request = http
        .post(endpoint.clone())
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", VERSION)
        .body(body.to_string());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await?;
    let message = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .chain(std::iter::once(text.as_str()))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|value| value.get("id").is_some());
    Ok((status, id, message))
}

/// `tools/call` of `tool` (no arguments) in `session`: the HTTP status and the JSON-RPC
/// response (`null` when there is none).
async fn call_tool(
    http: &reqwest::Client,
    endpoint: &Url,
    token: &str,
    session: &str,
    id: u64,
    tool: &str,
) -> anyhow::Result<(u16, Value)> {
    let call = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
                       "params": { "name": tool, "arguments": {} } });
    let (status, _, reply) = rpc(http, endpoint, token, Some(session), call).await?;
    Ok((status, reply.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_behind_a_round_robin_balancer_keep_sessions_across_replicas()
-> anyhow::Result<()> {
    // Arrange: Redis, the balancer on a port picked from port 0, the IdP and the upstream
    // (the tenant naming the balancer as the MCP API), three replicas.
    let dir = scratch("balancer");
    let redis = RedisServer::start(dir.join("redis")).await?;
    let listeners = Listeners::ephemeral().await?;
    let upstream_url = format!(
        "http://127.0.0.1:{}/",
        listeners.upstream.local_addr()?.port()
    );
    let ports = free_ports::<3>()?;
    let backends = ports.map(|port| SocketAddr::from(([127, 0, 0, 1], port)));
    let balancer = Balancer::start(dir.join("haproxy"), &backends).await?;
    let audience = balancer.url.to_string();
    let (tenant_mcp, tenant_upstream) = (audience.clone(), upstream_url.clone());
    let stack = TestStack::builder()
        .listeners(listeners)
        .idp_config(move |config| {
            config.tenant = fake_auth0::Tenant::demo_for(&tenant_mcp, &tenant_upstream);
            config.control = true;
            config.control_token = Some(fake_auth0::ControlToken::new(CONTROL_TOKEN));
        })
        .start()
        .await?;
    let env = |port: u16| {
        vec![
            ("PORT", port.to_string()),
            ("AUTH0_DOMAIN", stack.idp_url.to_string()),
            ("AUTH0_AUDIENCE", audience.clone()),
            ("MCP_SERVER_URL", audience.clone()),
            ("API_AUTH0_AUDIENCE", upstream_url.clone()),
            ("API_BASE_URL", upstream_url.clone()),
            (
                "MCP_AUTH0_SUBJECT_TOKEN_TYPE",
                stack::contract::SUBJECT_TOKEN_TYPE.to_owned(),
            ),
            ("MCP_REDIS_URL", redis.url()),
        ]
    };
    let mut replicas = Vec::new();
    for port in ports {
        let url = Url::parse(&format!("http://127.0.0.1:{port}/"))?;
        replicas.push(
            ServiceProcess::start(
                "mcp-server",
                url,
                "ready",
                &env(port),
                Duration::from_secs(60),
            )
            .await?,
        );
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    for replica in &replicas {
        stack::readiness::wait_shared_state_up(&http, &replica.base_url, Duration::from_secs(30))
            .await?;
    }
    let endpoint = balancer.mcp_endpoint();

    // Act and assert: the Python SDK's journey, both eras, through the balancer.
    let run = run_journey(&endpoint, &["--mode", "both"])
        .await
        .with_context(|| balancer.log())?;
    println!("{}", run.stdout);
    run.expect_summary("python-sdk-journey: 8 passed, 0 failed")?;
    // Round-robin with no stickiness: every replica served part of it.
    for replica in &replicas {
        let served = metric(&http, &replica.base_url, "mcp_http_requests_total").await?;
        ensure!(served > 0.0, "{} served nothing", replica.base_url);
    }

    // A session through the balancer; its creator is killed; the session goes on.
    let token = stack
        .token_for_audience(DemoUser::Admin, &audience, MCP_SCOPE)
        .await?;
    let mut live_before = std::collections::HashMap::new();
    for replica in &replicas {
        let live = metric(&http, &replica.base_url, "mcp_sessions_live").await?;
        live_before.insert(replica.base_url.clone(), live);
    }
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": VERSION, "capabilities": {},
                    "clientInfo": { "name": "balancer-journey", "version": "0" } }
    });
    let (status, session, _) = rpc(&http, &endpoint, &token, None, initialize).await?;
    ensure!(status == 200, "initialize through the balancer: {status}");
    let session = session.context("no Mcp-Session-Id")?;
    let mut creator = None;
    for (index, replica) in replicas.iter().enumerate() {
        let live = metric(&http, &replica.base_url, "mcp_sessions_live").await?;
        if live > live_before[&replica.base_url] {
            creator = Some(index);
        }
    }
    let creator = creator.context("no replica counts the new session")?;
    let killed = replicas.remove(creator);
    let killed_url = killed.base_url.clone();
    killed.stop().await?;

    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (status, _, _) = rpc(&http, &endpoint, &token, Some(&session), initialized).await?;
    ensure!(
        (200..300).contains(&status),
        "initialized after the kill: {status}"
    );
    // Several calls, so both remaining replicas serve the session.
    for id in 2..8 {
        let (status, reply) = call_tool(&http, &endpoint, &token, &session, id, "whoami").await?;
        if status != 200 || reply.get("result").is_none() {
            bail!(
                "call {id} after killing {killed_url}: {status} {reply}; {}",
                balancer.log()
            );
        }
    }
    for replica in &replicas {
        let live = metric(&http, &replica.base_url, "mcp_sessions_live").await?;
        ensure!(
            live > live_before[&replica.base_url],
            "{} never took the session over",
            replica.base_url
        );
    }

    // greet through the balancer, on both remaining replicas: one exchange for this subject
    // token at the IdP, shared through Redis.
    let exchanges_before = exchanges_at_the_idp(&http, &stack).await?;
    for id in 8..12 {
        let (status, reply) = call_tool(&http, &endpoint, &token, &session, id, "greet").await?;
        ensure!(
            status == 200 && reply["result"]["isError"] != true,
            "greet {id}: {status} {reply}"
        );
    }
    let exchanges = exchanges_at_the_idp(&http, &stack).await? - exchanges_before;
    ensure!(
        exchanges == 1,
        "four greets on two replicas made {exchanges} exchanges, not one"
    );
    drop(replicas);
    stack.shutdown().await
}
