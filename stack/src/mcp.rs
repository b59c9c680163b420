//! MCP clients for the journeys: raw HTTP for the stateless 2026-07-28 era, rmcp's own client
//! for the older session era.
//!
//! The raw client exists because a journey must see what a client sees on the wire — the
//! HTTP status and `WWW-Authenticate` of a refused call, not only a decoded result — and
//! because the 2026-07-28 era needs no handshake: every request carries its protocol version
//! in the `MCP-Protocol-Version` header and in `params._meta`.

use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context as _, anyhow, bail};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use url::Url;

/// The stateless protocol era (requests carry their own version; no `initialize`).
pub const MODERN_PROTOCOL_VERSION: &str = "2026-07-28";

/// The newest protocol version of the session era (`initialize`, `Mcp-Session-Id`).
pub const SESSION_PROTOCOL_VERSION: &str = "2025-11-25";

/// What one HTTP exchange with `/mcp` gave back.
#[derive(Debug)]
pub struct McpReply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (`WWW-Authenticate` for refusals).
    pub headers: HeaderMap,
    /// The JSON-RPC response, when the body carried one (JSON or an SSE event).
    pub message: Option<Value>,
    /// The body as text, for failure messages.
    pub body: String,
}

impl McpReply {
    /// The `WWW-Authenticate` header, when the server sent one.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.headers
            .get(WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
    }

    /// The JSON-RPC `result`, or an error naming the HTTP status or the JSON-RPC error.
    pub fn result(&self) -> anyhow::Result<&Value> {
        if self.status != StatusCode::OK {
            bail!(
                "HTTP {} (WWW-Authenticate: {:?}): {}",
                self.status,
                self.www_authenticate(),
                self.body
            );
        }
        let message = self
            .message
            .as_ref()
            .ok_or_else(|| anyhow!("HTTP 200 without a JSON-RPC response: {}", self.body))?;
        if let Some(error) = message.get("error") {
            bail!("JSON-RPC error: {error}");
        }
        message
            .get("result")
            .ok_or_else(|| anyhow!("JSON-RPC response without a result: {message}"))
    }
}

/// A tool call's result as a user reads it: error flag, text, structured content.
#[derive(Debug, Clone)]
pub struct ToolOutcome {
    /// `isError` of the result (a tool error, not a protocol error).
    pub is_error: bool,
    /// The text blocks of `content`, joined by newlines.
    pub text: String,
    /// `structuredContent`, when present.
    pub structured: Option<Value>,
}

impl ToolOutcome {
    /// Reads a `CallToolResult` in its JSON form (both eras and both clients share it).
    pub fn from_result(result: &Value) -> Self {
        let text = result
            .get("content")
            .and_then(Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .filter_map(|block| block.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        Self {
            is_error: result
                .get("isError")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            text,
            structured: result.get("structuredContent").cloned(),
        }
    }
}

/// The stateless (2026-07-28) MCP client over raw HTTP.
#[derive(Debug)]
pub struct StatelessMcp {
    http: reqwest::Client,
    endpoint: Url,
    token: Option<String>,
    origin: Option<String>,
    next_id: AtomicI64,
}

impl StatelessMcp {
    /// A client for the MCP endpoint (e.g. `http://127.0.0.1:PORT/mcp`) with no token yet.
    pub fn new(http: reqwest::Client, endpoint: Url) -> Self {
        Self {
            http,
            endpoint,
            token: None,
            origin: None,
            next_id: AtomicI64::new(1),
        }
    }

    /// Sends `Authorization: Bearer <token>` on every request.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends an `Origin` header, as a browser-based client would.
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sends one JSON-RPC request and returns what came back, whatever the status.
    pub async fn request(&self, method: &str, params: Value) -> anyhow::Result<McpReply> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut params = match params {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            other => bail!("params must be an object, got {other}"),
        };
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let meta = params
            .entry("_meta")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| anyhow!("params._meta must be an object"))?;
        meta.insert(
            "io.modelcontextprotocol/protocolVersion".to_owned(),
            json!(MODERN_PROTOCOL_VERSION),
        );
        meta.insert(
            "io.modelcontextprotocol/clientInfo".to_owned(),
            json!({ "name": "e2e-stateless", "version": env!("CARGO_PKG_VERSION") }),
        );
        meta.insert(
            "io.modelcontextprotocol/clientCapabilities".to_owned(),
            json!({}),
        );
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });

        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .header("MCP-Protocol-Version", MODERN_PROTOCOL_VERSION)
            .header("Mcp-Method", method)
            .json(&body);
        if let Some(name) = name {
            request = request.header("Mcp-Name", name);
        }
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(origin) = &self.origin {
            request = request.header("Origin", origin);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {} ({method})", self.endpoint))?;
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.context("reading the /mcp response")?;
        let message = if content_type.starts_with("text/event-stream") {
            response_from_sse(&body, id)
        } else if content_type.starts_with("application/json") {
            serde_json::from_str(&body).ok()
        } else {
            None
        };
        Ok(McpReply {
            status,
            headers,
            message,
            body,
        })
    }

    /// `tools/list`: the names of the tools this token may see, sorted.
    pub async fn list_tools(&self) -> anyhow::Result<Vec<String>> {
        let reply = self.request("tools/list", json!({})).await?;
        let result = reply.result().context("tools/list")?;
        tool_names(result)
    }

    /// `tools/call`, expecting HTTP 200 with a result (a tool error is still `Ok`).
    pub async fn call_tool(&self, name: &str, arguments: Value) -> anyhow::Result<ToolOutcome> {
        let reply = self.call_tool_raw(name, arguments).await?;
        let result = reply
            .result()
            .with_context(|| format!("tools/call {name}"))?;
        Ok(ToolOutcome::from_result(result))
    }

    /// `tools/call`, returning the reply whatever it is (for 401/403 checks).
    pub async fn call_tool_raw(&self, name: &str, arguments: Value) -> anyhow::Result<McpReply> {
        self.request(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }
}

/// The names in a `tools/list` result, sorted.
pub fn tool_names(result: &Value) -> anyhow::Result<Vec<String>> {
    let tools = result
        .get("tools")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("tools/list result without tools: {result}"))?;
    let mut names = tools
        .iter()
        .map(|tool| {
            tool.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("a tool without a name: {tool}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

/// Picks the JSON-RPC response with our id out of an SSE body (notifications may precede it).
fn response_from_sse(body: &str, id: i64) -> Option<Value> {
    let mut data = String::new();
    let mut found = None;
    for line in body.lines().chain(std::iter::once("")) {
        if let Some(rest) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        } else if line.is_empty() && !data.is_empty() {
            if let Ok(message) = serde_json::from_str::<Value>(&data)
                && message.get("id").and_then(Value::as_i64) == Some(id)
            {
                found = Some(message);
            }
            data.clear();
        }
    }
    found
}

/// An rmcp client in the session era (`initialize`, `Mcp-Session-Id`), with a bearer token.
pub type SessionClient = RunningService<RoleClient, ()>;

/// Opens a session-era connection with rmcp's own client.
pub async fn connect_session(endpoint: &Url, token: &str) -> anyhow::Result<SessionClient> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(endpoint.as_str()).auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport)
        .await
        .with_context(|| format!("initialize a session at {endpoint}"))
}

/// `tools/list` through an rmcp session: the names, sorted.
pub async fn session_tool_names(client: &SessionClient) -> anyhow::Result<Vec<String>> {
    let tools = client.list_all_tools().await.context("tools/list")?;
    let mut names: Vec<String> = tools
        .into_iter()
        .map(|tool| tool.name.into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// `tools/call` through an rmcp session.
pub async fn session_call_tool(
    client: &SessionClient,
    name: &str,
    arguments: Value,
) -> anyhow::Result<ToolOutcome> {
    let arguments = match arguments {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => bail!("arguments must be an object, got {other}"),
    };
    let result = client
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
        .await
        .with_context(|| format!("tools/call {name}"))?;
    let value = serde_json::to_value(&result).context("encoding the tool result")?;
    Ok(ToolOutcome::from_result(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_our_response_out_of_an_sse_stream() {
        let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
                    id: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[]}}\n\n";
        let message = response_from_sse(body, 7).expect("the response is found");
        assert_eq!(message["result"], json!({ "tools": [] }));
        assert!(response_from_sse(body, 8).is_none());
    }

    #[test]
    fn reads_a_tool_result_as_a_user_would() {
        let outcome = ToolOutcome::from_result(&json!({
            "content": [{ "type": "text", "text": "Hello" }, { "type": "text", "text": "there" }],
            "structuredContent": { "a": 1 },
            "isError": false,
        }));
        assert!(!outcome.is_error);
        assert_eq!(outcome.text, "Hello\nthere");
        assert_eq!(outcome.structured, Some(json!({ "a": 1 })));
    }
}
