//! Bounded sessions: one user's loop of `initialize` hits that user's cap with a
//! clear error while other users keep their sessions; the replica's cap; SSE streams end
//! after their configured lifetime.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN, GUEST, Stack, USER, json_body};

const VERSION: &str = "2025-11-25";

/// `initialize` at `endpoint`, raw.
pub async fn initialize(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    id: u64,
) -> reqwest::Response {
    http.post(endpoint)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(
            json!({
                "jsonrpc": "2.0", "id": id, "method": "initialize",
                "params": {
                    "protocolVersion": VERSION,
                    "capabilities": {},
                    "clientInfo": { "name": "session-limits-test", "version": "0" }
                }
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
}

/// Opens a session at `endpoint` (`initialize`, then `notifications/initialized`); its id.
pub async fn open_session(http: &reqwest::Client, endpoint: &str, token: &str) -> String {
    let response = initialize(http, endpoint, token, 1).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let id = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = send(
        http,
        endpoint,
        token,
        &id,
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    )
    .await;
    assert!(
        initialized.status().is_success(),
        "{}",
        initialized.status()
    );
    id
}

/// `DELETE /mcp`: closes session `session`.
pub async fn close_session(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    session: &str,
) -> reqwest::Response {
    http.delete(endpoint)
        .bearer_auth(token)
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", VERSION)
        .send()
        .await
        .unwrap()
}

/// A POST of `body` in session `session`.
pub async fn send(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    session: &str,
    body: Value,
) -> reqwest::Response {
    http.post(endpoint)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", VERSION)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// `tools/list` in session `session`: the names, or the HTTP status that refused it.
pub async fn list_tools(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    session: &str,
) -> Result<Vec<String>, u16> {
    let response = send(
        http,
        endpoint,
        token,
        session,
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
    )
    .await;
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body = json_body(response).await;
    Ok(body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {body}"))
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect())
}

#[tokio::test]
async fn one_user_creating_sessions_in_a_loop_hits_its_cap_while_another_keeps_working() {
    let stack = Stack::start_with(|config| config.session_limits.max_sessions_per_user = 3).await;
    let admin = stack.token(ADMIN).await;
    let user = stack.token(USER).await;
    let endpoint = stack.mcp();
    let admins = open_session(&stack.http, &endpoint, &admin).await;

    let mut opened = Vec::new();
    let refused = loop {
        let response = initialize(&stack.http, &endpoint, &user, 40 + opened.len() as u64).await;
        if response.status() != 200 {
            break response;
        }
        opened.push(
            response.headers()["mcp-session-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        assert!(opened.len() <= 3, "the loop was never refused");
    };
    assert_eq!(opened.len(), 3, "exactly the cap was granted");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 43, "the refused request's id: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Too many sessions") && message.contains("3 open sessions"),
        "{message}"
    );
    assert_eq!(body["error"]["data"]["limit"], "per_user");

    // The other user's session was not evicted and keeps working; so do the user's own.
    assert_eq!(
        list_tools(&stack.http, &endpoint, &admin, &admins)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        list_tools(&stack.http, &endpoint, &user, &opened[0])
            .await
            .is_ok()
    );
    // Another user can still open one.
    open_session(&stack.http, &endpoint, &stack.token(GUEST).await).await;

    // Closing one gives the slot back.
    let deleted = close_session(&stack.http, &endpoint, &user, &opened[0]).await;
    assert_eq!(deleted.status(), 204);
    open_session(&stack.http, &endpoint, &user).await;

    let metrics = stack.metrics().await;
    assert!(
        metrics.contains(r#"mcp_sessions_refused_total{limit="per_user"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn past_the_replicas_cap_a_new_session_is_refused_with_503_and_retry_after() {
    let stack = Stack::start_with(|config| config.session_limits.max_sessions = 2).await;
    let endpoint = stack.mcp();
    let admin = stack.token(ADMIN).await;
    let user = stack.token(USER).await;
    let first = open_session(&stack.http, &endpoint, &admin).await;
    open_session(&stack.http, &endpoint, &user).await;

    let refused = initialize(&stack.http, &endpoint, &stack.token(GUEST).await, 9).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["id"], 9);
    assert_eq!(body["error"]["data"]["limit"], "global");
    assert!(
        list_tools(&stack.http, &endpoint, &admin, &first)
            .await
            .is_ok(),
        "nobody's session was evicted"
    );
}

#[tokio::test]
async fn an_sse_stream_ends_after_its_configured_lifetime() {
    let lifetime = Duration::from_secs(1);
    let stack =
        Stack::start_with(move |config| config.session_limits.max_stream_lifetime = lifetime).await;
    let endpoint = stack.mcp();
    let admin = stack.token(ADMIN).await;
    let session = open_session(&stack.http, &endpoint, &admin).await;

    // The standalone GET stream would stay open forever without the bound.
    let stream = stack
        .http
        .get(&endpoint)
        .bearer_auth(&admin)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", VERSION)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // Generous: the configured second plus scheduling on a loaded machine.
    let ended = tokio::time::timeout(Duration::from_secs(20), stream.bytes()).await;
    assert!(ended.is_ok(), "the stream was still open after 20 s");

    // The session itself goes on.
    assert!(
        list_tools(&stack.http, &endpoint, &admin, &session)
            .await
            .is_ok()
    );
}
