//! Several replicas sharing sessions through a real Redis: a session opened on
//! one continues on another and survives a restart of every replica; it never serves
//! another user; Redis holds nothing usable in clear; while Redis is down no call fails, and
//! the server reports it and recovers by itself.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use stack::redis::RedisServer;

use crate::session_limits::{close_session, list_tools, open_session, send};
use crate::support::{ADMIN, Stack, USER};

fn contract_secret() -> String {
    contract::MCP_SERVER_CLIENT_SECRET.to_owned()
}

/// A fresh directory for one test's Redis socket.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn stack_with_redis(redis: &RedisServer) -> Stack {
    let url = mcp_server::RedisUrl::parse(&redis.url()).unwrap();
    Stack::start_with(move |config| config.redis_url = Some(url)).await
}

/// `/ready`'s JSON.
async fn ready(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `/ready` until `shared_state` is `expected`, within a generous deadline.
async fn wait_shared_state(http: &reqwest::Client, base: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = ready(http, base).await;
        if body["shared_state"] == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "shared_state never became {expected}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_session_opened_on_one_replica_continues_on_another_and_after_every_restart() {
    let redis = RedisServer::start(scratch("replicas")).await.unwrap();
    let stack = stack_with_redis(&redis).await;
    let http = &stack.http;
    let a = stack.stack.start_mcp_replica().await.unwrap();
    let b = stack.stack.start_mcp_replica().await.unwrap();
    for replica in [&a, &b] {
        wait_shared_state(http, replica.url.as_str(), "up").await;
    }
    let admin = stack.token(ADMIN).await;
    let user = stack.token(USER).await;
    let session = open_session(http, a.mcp_endpoint().as_str(), &admin).await;

    // Replica B never saw it.
    let on_b = list_tools(http, b.mcp_endpoint().as_str(), &admin, &session).await;
    assert_eq!(on_b.unwrap().len(), 3);
    // The id alone is not enough: another user gets the unknown-session 404, on both.
    for replica in [&a, &b] {
        let stolen = list_tools(http, replica.mcp_endpoint().as_str(), &user, &session).await;
        assert_eq!(stolen, Err(404));
    }
    let called = send(
        http,
        b.mcp_endpoint().as_str(),
        &admin,
        &session,
        json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": { "name": "whoami", "arguments": {} } }),
    )
    .await;
    assert_eq!(called.status(), 200);

    // Every replica restarts: the session goes on on a new one.
    a.stop().await.unwrap();
    b.stop().await.unwrap();
    let c = stack.stack.start_mcp_replica().await.unwrap();
    wait_shared_state(http, c.url.as_str(), "up").await;
    let on_c = list_tools(http, c.mcp_endpoint().as_str(), &admin, &session).await;
    assert_eq!(on_c.unwrap().len(), 3);
    let stolen = list_tools(http, c.mcp_endpoint().as_str(), &user, &session).await;
    assert_eq!(stolen, Err(404));

    // Redis holds no token, subject, secret or session id in clear.
    let dump = redis.dump().await.unwrap();
    assert!(!dump.is_empty(), "the session is in Redis");
    let subject = |token: &str| -> String {
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["sub"].as_str().unwrap().to_owned()
    };
    let forbidden = [
        admin.clone(),
        user.clone(),
        subject(&admin),
        subject(&user),
        session.clone(),
        contract_secret(),
    ];
    for (key, value) in &dump {
        for secret in &forbidden {
            assert!(
                !key.contains(secret.as_str()) && !value.contains(secret.as_str()),
                "{key} = {value} holds {secret}"
            );
        }
        // No piece of a JWT either.
        assert!(!value.contains("eyJ"), "{key} = {value}");
    }

    // DELETE removes it from Redis: a fresh replica no longer knows it.
    let deleted = close_session(http, c.mcp_endpoint().as_str(), &admin, &session).await;
    assert_eq!(deleted.status(), 204);
    assert!(redis.dump().await.unwrap().is_empty());
    let d = stack.stack.start_mcp_replica().await.unwrap();
    wait_shared_state(http, d.url.as_str(), "up").await;
    let gone = list_tools(http, d.mcp_endpoint().as_str(), &admin, &session).await;
    assert_eq!(gone, Err(404));
}

#[tokio::test]
async fn while_redis_is_down_no_call_fails_and_the_server_recovers_by_itself() {
    let mut redis = RedisServer::start(scratch("redis-down")).await.unwrap();
    let stack = stack_with_redis(&redis).await;
    let http = &stack.http;
    let base = stack.base.clone();
    let endpoint = stack.mcp();
    wait_shared_state(http, &base, "up").await;
    let admin = stack.token(ADMIN).await;
    let session = open_session(http, &endpoint, &admin).await;
    assert!(stack.metrics().await.contains("mcp_shared_state_up 1"));

    // Calls keep going in the background while Redis goes away and comes back.
    let calls = {
        let http = http.clone();
        let endpoint = endpoint.clone();
        let admin = admin.clone();
        let session = session.clone();
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let (mut ok, mut failed) = (0_u32, Vec::new());
            while !stopped.is_cancelled() {
                match list_tools(&http, &endpoint, &admin, &session).await {
                    Ok(tools) if tools.len() == 3 => ok += 1,
                    other => failed.push(format!("{other:?}")),
                }
            }
            (ok, failed)
        });
        (stop, task)
    };

    redis.stop().await.unwrap();
    wait_shared_state(http, &base, "down").await;
    assert!(stack.metrics().await.contains("mcp_shared_state_up 0"));
    // A new session opens while Redis is down, and works.
    let during = open_session(http, &endpoint, &admin).await;
    assert_eq!(
        list_tools(http, &endpoint, &admin, &during)
            .await
            .unwrap()
            .len(),
        3
    );

    redis.restart().await.unwrap();
    wait_shared_state(http, &base, "up").await;
    assert!(stack.metrics().await.contains("mcp_shared_state_up 1"));
    assert_eq!(
        list_tools(http, &endpoint, &admin, &during)
            .await
            .unwrap()
            .len(),
        3
    );

    let (stop, task) = calls;
    stop.cancel();
    let (ok, failed) = task.await.unwrap();
    assert!(failed.is_empty(), "failed calls: {failed:?}");
    assert!(ok > 0, "no call ran");
}
