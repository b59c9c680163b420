//! Signing-key rotation under load: while clients call `greet` (the MCP server verifies
//! their token, exchanges it at fake-auth0 and calls the upstream API, which verifies the
//! exchanged token) and `whoami` with a token from before the first rotation, the tenant's
//! keys are rotated three times through Auth0's Management API route. No request fails:
//! each new current key was published as the next key before it signed anything, and the
//! old keys stay published until their tokens expire.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use e2e::{DemoUser, TestStack};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Rotations during the run.
const ROTATIONS: usize = 3;
/// Successful calls wanted before the first rotation, between rotations and after the last.
const CALLS_PER_PHASE: usize = 20;
/// Concurrent clients.
const WORKERS: usize = 4;
/// A worker gets a fresh token every this many calls, so new keys are put to use.
const FRESH_TOKEN_EVERY: usize = 3;

/// The `kid` of a JWT's header (base64url JSON, RFC 7515 §7.1).
fn kid_of(token: &str) -> anyhow::Result<String> {
    let header = token.split('.').next().context("not a JWT")?;
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in header.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => bail!("not base64url"),
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push(u8::try_from((bits >> count) & 0xff)?);
        }
    }
    let header: Value = serde_json::from_slice(&bytes)?;
    header["kid"]
        .as_str()
        .map(str::to_owned)
        .context("no kid in the header")
}

/// What the workers saw.
#[derive(Default)]
struct Tally {
    /// Successful `greet` calls (the phases count these: each worker renews its token
    /// every few of them, so every phase puts the then-current key to use).
    greets: AtomicUsize,
    /// Successful `whoami` calls with the old token.
    old_token_calls: AtomicUsize,
    failures: Mutex<Vec<String>>,
    kids: Mutex<BTreeSet<String>>,
}

/// One client: `greet` with a token it renews every few calls, until told to stop.
async fn greet_loop(stack: Arc<TestStack>, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let mut calls = 0;
    let mut client = None;
    while !stop.load(Ordering::Relaxed) {
        if calls % FRESH_TOKEN_EVERY == 0 {
            match stack.token_for(DemoUser::Admin).await {
                Ok(token) => {
                    if let Ok(kid) = kid_of(&token) {
                        tally.kids.lock().await.insert(kid);
                    }
                    client = Some(stack.stateless(token));
                }
                Err(error) => tally
                    .failures
                    .lock()
                    .await
                    .push(format!("token: {error:#}")),
            }
        }
        calls += 1;
        let Some(mcp) = &client else { continue };
        match mcp.call_tool("greet", json!({ "name": "Ada" })).await {
            Ok(outcome) if !outcome.is_error => {
                tally.greets.fetch_add(1, Ordering::Relaxed);
            }
            Ok(outcome) => tally
                .failures
                .lock()
                .await
                .push(format!("greet: {}", outcome.text)),
            Err(error) => tally
                .failures
                .lock()
                .await
                .push(format!("greet: {error:#}")),
        }
    }
}

/// The old token, used all along: it must keep working after every rotation.
async fn old_token_loop(
    stack: Arc<TestStack>,
    token: String,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let mcp = stack.stateless(token);
    while !stop.load(Ordering::Relaxed) {
        match mcp.call_tool("whoami", json!({})).await {
            Ok(outcome) if !outcome.is_error => {
                tally.old_token_calls.fetch_add(1, Ordering::Relaxed);
            }
            Ok(outcome) => tally
                .failures
                .lock()
                .await
                .push(format!("whoami with the old token: {}", outcome.text)),
            Err(error) => tally
                .failures
                .lock()
                .await
                .push(format!("whoami with the old token: {error:#}")),
        }
    }
}

/// Waits (polling, bounded) until `count` more `greet` calls have succeeded.
async fn until_more_successes(tally: &Tally, count: usize) -> anyhow::Result<()> {
    let target = tally.greets.load(Ordering::Relaxed) + count;
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.greets.load(Ordering::Relaxed) < target {
        if Instant::now() > deadline {
            bail!("the load stalled: {:?}", tally.failures.lock().await);
        }
        // Polling interval, not synchronisation: the loop ends on the count.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

async fn management_token(stack: &TestStack) -> anyhow::Result<String> {
    let response = stack
        .http()
        .post(stack.idp_url.join("oauth/token")?)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("audience", stack.idp_url.join("api/v2/")?.as_str()),
            ("scope", "create:signing_keys read:signing_keys"),
        ])
        .send()
        .await?;
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no Management API token: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_keys_under_load_fails_no_request() -> anyhow::Result<()> {
    // Arrange
    let stack = Arc::new(TestStack::start().await?);
    let admin = management_token(&stack).await?;
    let old_token = stack.token_for(DemoUser::Admin).await?;
    let first_kid = kid_of(&old_token)?;
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            tokio::spawn(greet_loop(
                Arc::clone(&stack),
                Arc::clone(&tally),
                Arc::clone(&stop),
            ))
        })
        .collect();
    tasks.push(tokio::spawn(old_token_loop(
        Arc::clone(&stack),
        old_token.clone(),
        Arc::clone(&tally),
        Arc::clone(&stop),
    )));
    until_more_successes(&tally, CALLS_PER_PHASE).await?;

    // Act: rotate under load.
    let rotate = stack.idp_url.join("api/v2/keys/signing/rotate")?;
    for _ in 0..ROTATIONS {
        let response = stack
            .http()
            .post(rotate.clone())
            .bearer_auth(&admin)
            .send()
            .await?;
        assert_eq!(
            response.status(),
            201,
            "rotation: {}",
            response.text().await?
        );
        until_more_successes(&tally, CALLS_PER_PHASE).await?;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }

    // Assert: nothing failed, and the load used every key that was current.
    let failures = tally.failures.lock().await;
    assert!(
        failures.is_empty(),
        "{} requests failed: {failures:#?}",
        failures.len()
    );
    let kids = tally.kids.lock().await;
    assert!(kids.contains(&first_kid));
    assert_eq!(kids.len(), ROTATIONS + 1, "tokens were signed by {kids:?}");
    assert!(tally.old_token_calls.load(Ordering::Relaxed) > 0);
    // The token from before the first rotation still works.
    let whoami = stack
        .stateless(old_token)
        .call_tool("whoami", json!({}))
        .await?;
    assert!(!whoami.is_error, "{}", whoami.text);
    drop(failures);
    drop(kids);
    Arc::try_unwrap(stack)
        .map_err(|_| anyhow::anyhow!("the stack is still shared"))?
        .shutdown()
        .await
}
