//! Both protocol eras: 2025-11-25 and earlier (initialize, sessions) and 2026-07-28
//! (stateless, per-request metadata), with rmcp's own client and raw HTTP.

use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use serde_json::json;

use crate::support::{ADMIN, Stack, USER, json_body, tool_names};

#[tokio::test]
async fn the_older_era_initializes_a_session() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;
    let client = stack.legacy_client(&token).await;
    let info = client.peer_info().expect("server info after initialize");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    let result = client
        .call_tool(CallToolRequestParams::new("get_current_time"))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_2026_era_works_with_rmcps_client() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;
    let client = stack.modern_client(&token).await;
    assert_eq!(
        tool_names(&client.list_all_tools().await.unwrap()),
        ["get_current_time", "whoami"]
    );
    let me = client
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .unwrap();
    assert_ne!(me.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_2026_era_works_over_raw_http_without_a_session() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "get_current_time", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("mcp-session-id").is_none());
    let body = json_body(response).await;
    assert!(
        body["result"]["structuredContent"]["utc"].is_string(),
        "{body}"
    );
    // With no `initialize`, every 2026-07-28 result names the server in `_meta`.
    let server_info = &body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"];
    assert_eq!(server_info["name"], "mcp-server", "{body}");
    assert!(server_info["version"].is_string(), "{body}");

    let response = stack
        .post_modern(&token, "tools/list", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = json_body(response).await;
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{body}");
    // The list depends on the caller, so only the caller's client may cache it.
    assert_eq!(body["result"]["cacheScope"], "private", "{body}");
    assert_eq!(
        body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "mcp-server",
        "{body}"
    );
}

#[tokio::test]
async fn stateless_mode_serves_the_older_era_without_sessions() {
    let stack = Stack::start_with(|c| c.stateless = true).await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .post(
            Some(&token),
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
    assert!(response.headers().get("mcp-session-id").is_none());

    let client = stack.legacy_client(&token).await;
    assert_eq!(tool_names(&client.list_all_tools().await.unwrap()).len(), 3);
    client.cancel().await.unwrap();
}
