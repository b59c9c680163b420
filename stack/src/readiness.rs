//! Readiness: how the stack knows a service is up before a test or a user talks to it.
//!
//! A service is ready when its probe answers 200: `/health` for fake-auth0, `/ready` for the
//! two resource servers (200 once they hold the issuer's keys; before that a valid token
//! would get 503). The loop ends on that answer; its interval only bounds how late it is seen.
//! A replica sharing state through Redis is fully up once its `/ready` also says
//! `"shared_state": "up"` ([`wait_shared_state_up`]).

use std::time::{Duration, Instant};

use anyhow::bail;
use url::Url;

/// How often a probe is repeated: short, so a start-up time measured through it (the
/// benchmarks' ready time) is accurate to a few milliseconds.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Polls `GET url` until it answers 200. `alive` runs before each attempt and fails the wait
/// at once (e.g. a child process that exited); after `within`, the error names the service,
/// the URL and the last answer.
pub async fn wait_until_ok(
    http: &reqwest::Client,
    service: &str,
    url: &Url,
    within: Duration,
    mut alive: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        alive()?;
        let last = match http.get(url.clone()).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => format!("HTTP {}", response.status()),
            Err(error) => error.to_string(),
        };
        if Instant::now() >= deadline {
            bail!("{service} did not answer {url} with 200 within {within:?} (last: {last})");
        }
        // Polling interval, not synchronisation: the loop ends on the answer.
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls an mcp-server replica's `/ready` until its JSON says `"shared_state": "up"` (its
/// Redis answers); after `within`, the error names the replica and the last answer.
pub async fn wait_shared_state_up(
    http: &reqwest::Client,
    replica: &Url,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    let ready = replica.join("ready")?;
    loop {
        let body: serde_json::Value = http.get(ready.clone()).send().await?.json().await?;
        if body["shared_state"] == "up" {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{replica}: shared state not up within {within:?} (last: {body})");
        }
        // Polling interval, not synchronisation: the loop ends on the answer.
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
