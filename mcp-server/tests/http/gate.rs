//! The HTTP layer in front of rmcp: tokens, step-up, Origin.

use serde_json::json;

use crate::support::{ADMIN, GUEST, Stack, USER, challenge_param, json_body};

#[tokio::test]
async fn an_invalid_token_is_refused_with_invalid_token() {
    let stack = Stack::start().await;
    let response = stack
        .post_modern("not.a.token", "tools/list", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_token")
    );
    assert_eq!(
        challenge_param(challenge, "resource_metadata"),
        Some(stack.url(".well-known/oauth-protected-resource"))
    );
    // The body is a JSON-RPC error for the request, which MCP clients show.
    let body = json_body(response).await;
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 1, "{body}");
    assert_eq!(body["error"]["code"], -32001, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Unauthorized: "), "{message}");
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_json_rpc_error_with_its_id() {
    let stack = Stack::start().await;
    let response = stack
        .post(
            None,
            &json!({ "jsonrpc": "2.0", "id": "init-7", "method": "initialize", "params": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body = json_body(response).await;
    assert_eq!(body["id"], "init-7", "{body}");
    assert_eq!(body["error"]["code"], -32001, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sign in"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    // The server expects another audience than the one fake-auth0 issues tokens for.
    let stack = Stack::start_with(|c| c.audience = "http://127.0.0.1:9/".to_owned()).await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .post_modern(&token, "tools/list", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_token")
    );
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let response = stack
        .http
        .post(format!("{}?access_token={token}", stack.mcp()))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    // 401, not 400: the challenge still points the client at the protected-resource metadata.
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge_param(challenge, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        challenge_param(challenge, "resource_metadata").is_some(),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_token_whose_scope_lacks_tool_greet_is_asked_to_step_up() {
    // Admin has tool:greet, but this client asked only for tool:whoami: `permissions` lists
    // tool:greet, `scope` does not. Only `scope` grants, and consenting again helps.
    let stack = Stack::start().await;
    let token = stack.token_with_scope(ADMIN, "openid tool:whoami").await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "greet", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        challenge_param(&challenge, "error").as_deref(),
        Some("insufficient_scope")
    );
    assert_eq!(
        challenge_param(&challenge, "scope").as_deref(),
        Some("tool:greet")
    );
    assert_eq!(
        challenge_param(&challenge, "resource_metadata"),
        Some(stack.url(".well-known/oauth-protected-resource"))
    );
    // …and a JSON-RPC error for this request that a person can act on.
    let body = json_body(response).await;
    assert_eq!(body["id"], 1, "{body}");
    assert_eq!(body["error"]["code"], -32003, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Missing required scopes: ['tool:greet']"),
        "{message}"
    );
    assert!(
        message.contains("greet tool") && message.contains("authorize again"),
        "{message}"
    );
    assert_eq!(
        body["error"]["data"]["required_scopes"],
        json!(["tool:greet"])
    );
}

#[tokio::test]
async fn a_user_without_the_permission_gets_a_json_rpc_error_naming_it() {
    // user has no tool:greet and guest no tool:whoami in `permissions`: a step-up cannot
    // help, so no 403; the JSON-RPC error names the tool and the permission.
    let stack = Stack::start().await;
    for (user, tool, scope) in [
        (USER, "greet", "tool:greet"),
        (GUEST, "whoami", "tool:whoami"),
    ] {
        let token = stack.token(user).await;
        let response = stack
            .post_modern(
                &token,
                "tools/call",
                json!({ "name": tool, "arguments": {} }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{user:?}");
        let body = json_body(response).await;
        assert_eq!(body["error"]["code"], -32003, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("The {tool} tool needs the {scope} permission")),
            "{message}"
        );
        assert!(message.contains("will not help"), "{message}");
    }
}

#[tokio::test]
async fn an_unknown_tool_is_an_ordinary_json_rpc_error_naming_it() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "no_such_tool", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 403);
    assert_ne!(response.status(), 401);
    let body = json_body(response).await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert_eq!(
        body["error"]["message"], "Unknown tool: no_such_tool",
        "{body}"
    );
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let stack =
        Stack::start_with(|c| c.allowed_origins = vec!["http://app.example".to_owned()]).await;
    let token = stack.token(ADMIN).await;

    let refused = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Sandboxed iframes and file: pages send `Origin: null`; it is no allowed origin.
    let opaque = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(opaque.status(), 403);

    let allowed = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    let exposed = allowed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("mcp-session-id") && exposed.contains("www-authenticate"),
        "{exposed}"
    );

    // Even without a token, a foreign Origin gets 403, not a challenge.
    let refused = stack
        .post(None, &json!({}))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_browser_preflight_is_answered_for_allowed_origins() {
    let stack =
        Stack::start_with(|c| c.allowed_origins = vec!["http://app.example".to_owned()]).await;
    let response = stack
        .http
        .request(reqwest::Method::OPTIONS, stack.mcp())
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://app.example"
    );
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_configured() {
    let stack = Stack::start_with(|c| c.allowed_hosts = vec!["mcp.internal".to_owned()]).await;
    let token = stack.token(ADMIN).await;
    let refused = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("host", "rebound.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "DNS rebinding defence");
    let extra = stack
        .post_modern(&token, "tools/list", json!({}))
        .header("host", "mcp.internal:3001")
        .send()
        .await
        .unwrap();
    assert_eq!(extra.status(), 200);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let huge = "x".repeat(mcp_server::MAX_BODY_BYTES + 1);
    let response = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "greet", "arguments": { "name": huge } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

/// Every MCP client's first request is refused with 401 and followed, on the same
/// keep-alive connection, by discovery. The refusal must leave the connection usable:
/// answering before the request body is read made hyper drop the connection silently, and
/// the official Python SDK then failed with "server disconnected".
#[tokio::test]
async fn a_refused_request_leaves_the_connection_usable_for_discovery() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let stack = Stack::start().await;
    let url = url::Url::parse(&stack.mcp()).unwrap();
    let authority = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut socket = tokio::net::TcpStream::connect(&authority).await.unwrap();
    // A body large enough not to arrive with the headers.
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"pad":"{}"}}}}"#,
        "x".repeat(256 * 1024)
    );
    let post = format!(
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(post.as_bytes()).await.unwrap();
    let first = read_response(&mut socket).await;
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");

    let get =
        format!("GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    socket.write_all(get.as_bytes()).await.unwrap();
    let second = read_response(&mut socket).await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");

    /// Reads one response whose body has a Content-Length (all of these do).
    async fn read_response(socket: &mut tokio::net::TcpStream) -> String {
        let mut received = Vec::new();
        let mut chunk = [0_u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&received).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if received.len() >= end + 4 + length {
                    return text;
                }
            }
            let read = socket.read(&mut chunk).await.unwrap();
            assert!(read > 0, "the server closed the connection: {text}");
            received.extend_from_slice(&chunk[..read]);
        }
    }
}
