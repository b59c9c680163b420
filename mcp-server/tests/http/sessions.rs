//! A session (older era) belongs to the user who opened it.

use serde_json::{Value, json};

use crate::support::{ADMIN, Stack, USER};

async fn open_session(stack: &Stack, token: &str) -> String {
    open_session_at(stack, token, "2025-11-25").await.0
}

/// Opens a session of `version`; returns its id and the raw `initialize` response body.
async fn open_session_at(stack: &Stack, token: &str, version: &str) -> (String, String) {
    let response = stack
        .post(
            Some(token),
            &json!({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {
                    "protocolVersion": version,
                    "capabilities": {},
                    "clientInfo": { "name": "test", "version": "0" }
                }
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialize = response.text().await.unwrap();
    let initialized = stack
        .post(
            Some(token),
            &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        )
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", version)
        .send()
        .await
        .unwrap();
    assert!(
        initialized.status().is_success(),
        "{}",
        initialized.status()
    );
    (id, initialize)
}

fn list(stack: &Stack, token: &str, session: &str) -> reqwest::RequestBuilder {
    list_at(stack, token, session, "2025-11-25")
}

fn list_at(stack: &Stack, token: &str, session: &str, version: &str) -> reqwest::RequestBuilder {
    stack
        .post(
            Some(token),
            &json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
        )
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", version)
}

/// True when an event stream holds an SSE priming event or a `retry` field (SEP-1699).
fn primes(stream: &str) -> bool {
    stream.lines().any(|line| line.starts_with("retry:"))
        || stream
            .lines()
            .any(|line| line.trim_end() == "data:" || line == "data: ")
}

#[tokio::test]
async fn sessions_before_2025_11_25_get_no_priming_events() {
    // Clients before 2025-11-25 parse an empty `data:` as a message and fail on it.
    let stack = Stack::start().await;
    let admin = stack.token(ADMIN).await;
    for version in ["2025-03-26", "2025-06-18"] {
        let (session, initialize) = open_session_at(&stack, &admin, version).await;
        assert!(initialize.contains("\"result\""), "{version}: {initialize}");
        assert!(!primes(&initialize), "{version}: {initialize}");
        let listed = list_at(&stack, &admin, &session, version)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 200, "{version}");
        let listed = listed.text().await.unwrap();
        assert!(listed.contains("\"tools\""), "{version}: {listed}");
        assert!(!primes(&listed), "{version}: {listed}");
    }
    // From 2025-11-25 on, unchanged: the priming event comes first.
    let (session, initialize) = open_session_at(&stack, &admin, "2025-11-25").await;
    assert!(primes(&initialize), "{initialize}");
    let listed = list(&stack, &admin, &session).send().await.unwrap();
    assert!(primes(&listed.text().await.unwrap()));
}

#[tokio::test]
async fn a_session_id_is_ignored_where_there_are_no_sessions() {
    // 2026-07-28 has no sessions: a stale or made-up Mcp-Session-Id changes nothing.
    let stack = Stack::start().await;
    let admin = stack.token(ADMIN).await;
    let modern = stack
        .post_modern(&admin, "tools/list", json!({}))
        .header("mcp-session-id", "no-such-session")
        .send()
        .await
        .unwrap();
    assert_eq!(modern.status(), 200);
    let body: Value = crate::support::json_body(modern).await;
    assert!(body["result"]["tools"].is_array(), "{body}");

    // Nor on a stateless server, whatever the version.
    let stateless = Stack::start_with(|config| config.stateless = true).await;
    let admin = stateless.token(ADMIN).await;
    let listed = list(&stateless, &admin, "no-such-session")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let body: Value = crate::support::json_body(listed).await;
    assert!(body["result"]["tools"].is_array(), "{body}");
}

#[tokio::test]
async fn another_users_token_cannot_use_a_session() {
    let stack = Stack::start().await;
    let admin = stack.token(ADMIN).await;
    let user = stack.token(USER).await;
    let session = open_session(&stack, &admin).await;

    let stolen = list(&stack, &user, &session).send().await.unwrap();
    assert_eq!(
        stolen.status(),
        404,
        "refused as if the session did not exist"
    );

    let own = list(&stack, &admin, &session).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let body: Value = crate::support::json_body(own).await;
    assert_eq!(
        body["result"]["tools"].as_array().unwrap().len(),
        3,
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_session_is_not_found() {
    let stack = Stack::start().await;
    let admin = stack.token(ADMIN).await;
    let response = list(&stack, &admin, "no-such-session")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_deleted_session_is_gone() {
    let stack = Stack::start().await;
    let admin = stack.token(ADMIN).await;
    let session = open_session(&stack, &admin).await;
    let other = stack.token(USER).await;
    let not_yours = stack
        .http
        .delete(stack.mcp())
        .bearer_auth(&other)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_yours.status(),
        404,
        "another user cannot end the session"
    );

    let deleted = stack
        .http
        .delete(stack.mcp())
        .bearer_auth(&admin)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    // 204, which every client counts as success (the Python SDK accepts 200 and 204 only;
    // the 2025-11-25 transport names no status for a successful DELETE).
    assert_eq!(deleted.status(), 204);
    assert!(deleted.bytes().await.unwrap().is_empty());
    let after = list(&stack, &admin, &session).send().await.unwrap();
    assert_eq!(after.status(), 404);
}
