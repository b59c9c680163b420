//! Hostile clients against every service: connections that send nothing, a flood of them,
//! request heads and bodies trickled one byte at a time (slowloris). Each service closes the
//! attacker's connections by its own configured timers (1 s here, checked with a generous
//! deadline), while a normal client's calls to all three keep succeeding throughout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use e2e::hostile::{self, Closed};
use e2e::{DemoUser, ServerLimits, TestStack};
use serde_json::json;

/// The timeouts the services are configured with here.
const CONFIGURED: Duration = Duration::from_secs(1);
/// How long a journey waits for a close before it calls the connection kept: far above
/// `CONFIGURED`, so a slow machine does not fail the journey, while "never" still does.
const GENEROUS: Duration = Duration::from_secs(20);
/// The attacker's pace: several bytes inside each configured timeout, so a timer that
/// restarted on every byte would never fire.
const PACE: Duration = Duration::from_millis(100);

async fn stack_with_short_timeouts() -> anyhow::Result<TestStack> {
    TestStack::builder()
        .server_limits(ServerLimits {
            header_read_timeout: CONFIGURED,
            body_read_timeout: CONFIGURED,
            ..ServerLimits::default()
        })
        .start()
        .await
}

/// The three services' addresses, named.
fn services(stack: &TestStack) -> anyhow::Result<[(&'static str, SocketAddr); 3]> {
    let addr = |url: &url::Url| -> anyhow::Result<SocketAddr> {
        url.socket_addrs(|| None)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("{url} has no address"))
    };
    Ok([
        ("fake-auth0", addr(&stack.idp_url)?),
        ("upstream-api", addr(&stack.upstream_url)?),
        ("mcp-server", addr(&stack.mcp_url)?),
    ])
}

/// A well-behaved client calling all three services in a loop until told to stop: the
/// IdP's keys, the upstream API's health, and the MCP server's `whoami` for a signed-in
/// user. Its HTTP pool drops idle connections well before the servers' 1 s does, as a
/// client of a server with short timeouts should.
struct NormalClient {
    calls: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl NormalClient {
    async fn start(stack: &TestStack) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(CONFIGURED / 4)
            .timeout(GENEROUS)
            .build()?;
        let token = stack.token_for(DemoUser::User).await?;
        let mcp = e2e::mcp::StatelessMcp::new(http.clone(), stack.mcp_endpoint()).with_token(token);
        let jwks = stack.idp_url.join(".well-known/jwks.json")?;
        let upstream_health = stack.upstream_url.join("health")?;
        let calls = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (calls, failures, stop) = (calls.clone(), failures.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let outcomes = [
                        ok_status(http.get(jwks.clone()).send().await)
                            .map_err(|e| format!("fake-auth0 JWKS: {e}")),
                        ok_status(http.get(upstream_health.clone()).send().await)
                            .map_err(|e| format!("upstream-api /health: {e}")),
                        match mcp.call_tool("whoami", json!({})).await {
                            Ok(outcome) if !outcome.is_error => Ok(()),
                            Ok(outcome) => {
                                Err(format!("mcp-server whoami: tool error {}", outcome.text))
                            }
                            Err(error) => Err(format!("mcp-server whoami: {error:#}")),
                        },
                    ];
                    for outcome in outcomes {
                        calls.fetch_add(1, Ordering::Relaxed);
                        if let Err(failure) = outcome {
                            failures.lock().unwrap().push(failure);
                        }
                    }
                }
            }
        });
        Ok(Self {
            calls,
            failures,
            stop,
            task,
        })
    }

    /// Stops the loop; fails unless every call succeeded (and there were some).
    async fn finish(self) -> anyhow::Result<usize> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?;
        let failures = self.failures.lock().unwrap().clone();
        anyhow::ensure!(
            failures.is_empty(),
            "a normal client's calls failed: {failures:#?}"
        );
        let calls = self.calls.load(Ordering::Relaxed);
        anyhow::ensure!(calls > 0, "the normal client made no call");
        Ok(calls)
    }
}

fn ok_status(response: reqwest::Result<reqwest::Response>) -> Result<(), String> {
    match response {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("status {}", response.status())),
        Err(error) => Err(format!("{error:#}")),
    }
}

#[tokio::test]
async fn every_service_closes_idle_connections_and_a_flood_of_them_while_others_are_served()
-> anyhow::Result<()> {
    let stack = stack_with_short_timeouts().await?;
    let normal = NormalClient::start(&stack).await?;

    let attacks = services(&stack)?.map(|(name, addr)| {
        tokio::spawn(async move {
            let flood = hostile::idle_flood(addr, 100, GENEROUS)
                .await
                .map_err(|e| e.context(format!("{name}: an idle connection of the flood")))?;
            Ok::<_, anyhow::Error>((name, flood))
        })
    });
    for attack in attacks {
        let (name, flood) = attack.await??;
        assert_eq!(flood.len(), 100, "{name}");
        // Nothing was asked, so nothing is answered: the connection is simply closed.
        assert!(
            flood.iter().all(|closed| closed.status_line.is_none()),
            "{name} answered a connection that sent nothing: {flood:?}"
        );
    }

    normal.finish().await?;
    stack.shutdown().await
}

#[tokio::test]
async fn every_service_cuts_off_a_trickled_request_head_while_others_are_served()
-> anyhow::Result<()> {
    let stack = stack_with_short_timeouts().await?;
    let normal = NormalClient::start(&stack).await?;

    let attacks = services(&stack)?.map(|(name, addr)| {
        tokio::spawn(async move {
            hostile::trickle_head(addr, PACE, GENEROUS)
                .await
                .map_err(|e| e.context(format!("{name}: the trickled head")))
        })
    });
    for attack in attacks {
        // hyper gives up on the head and closes without an answer.
        assert_eq!(attack.await??, Closed { status_line: None });
    }

    normal.finish().await?;
    stack.shutdown().await
}

#[tokio::test]
async fn every_service_cuts_off_a_trickled_body_while_others_are_served() -> anyhow::Result<()> {
    let stack = stack_with_short_timeouts().await?;
    let normal = NormalClient::start(&stack).await?;

    // The routes that read a body: the token endpoint, the MCP endpoint (unauthenticated:
    // the body drained before the 401 is bounded too). The upstream API reads no body: its
    // one route answers a POST at once and closes.
    let [(_, idp), (_, upstream), (_, mcp)] = services(&stack)?;
    let form = "application/x-www-form-urlencoded";
    let (idp, upstream, mcp) = tokio::join!(
        hostile::trickle_body(idp, "/oauth/token", form, PACE, GENEROUS),
        hostile::trickle_body(upstream, "/api/private-scope", form, PACE, GENEROUS),
        hostile::trickle_body(mcp, "/mcp", "application/json", PACE, GENEROUS),
    );
    let status = |closed: anyhow::Result<Closed>, name: &str| -> anyhow::Result<String> {
        closed
            .map_err(|e| e.context(format!("{name}: the trickled body")))?
            .status_line
            .ok_or_else(|| anyhow::anyhow!("{name} closed without answering"))
    };
    // Each refusal is in the surface's own format; the status says which rule refused it.
    let idp = status(idp, "fake-auth0")?;
    assert!(idp.starts_with("HTTP/1.1 400"), "fake-auth0: {idp}");
    let upstream = status(upstream, "upstream-api")?;
    assert!(
        upstream.starts_with("HTTP/1.1 405"),
        "upstream-api: {upstream}"
    );
    let mcp = status(mcp, "mcp-server")?;
    assert!(mcp.starts_with("HTTP/1.1 401"), "mcp-server: {mcp}");

    normal.finish().await?;
    stack.shutdown().await
}
