//! A session (older era) belongs to the user who opened it.

use serde_json::{Value, json};

use crate::support::{ADMIN, Stack, USER};

async fn open_session(stack: &Stack, token: &str) -> String {
    let response = stack
        .post(
            Some(token),
            &json!({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
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
    let _ = response.bytes().await;
    let initialized = stack
        .post(
            Some(token),
            &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        )
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(
        initialized.status().is_success(),
        "{}",
        initialized.status()
    );
    id
}

fn list(stack: &Stack, token: &str, session: &str) -> reqwest::RequestBuilder {
    stack
        .post(
            Some(token),
            &json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
        )
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
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
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let after = list(&stack, &admin, &session).send().await.unwrap();
    assert_eq!(after.status(), 404);
}
