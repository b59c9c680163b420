//! The whole stack (the `stack` crate's `TestStack`: fake-auth0, upstream-api and this
//! server, in process on free ports) and helpers to talk to this server at the HTTP level.
//!
//! These integration tests link the same `mcp-server` library as the `stack` crate does, so
//! its `mcp_server::Config` is this crate's own type.

use std::time::Duration;

use rmcp::{
    RoleClient, ServiceExt,
    model::{ClientConfig, ProtocolVersion},
    service::{ClientLifecycleMode, ClientServiceExt, RunningService},
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};
pub use stack::DemoUser;
use stack::TestStack;

/// The users of fake-auth0's demo tenant.
pub const ADMIN: DemoUser = DemoUser::Admin;
pub const USER: DemoUser = DemoUser::User;
pub const GUEST: DemoUser = DemoUser::Guest;

/// The 2026-07-28 per-request metadata a stateless request carries in `params._meta`.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "raw-http-test", "version": "0" },
    })
}

pub struct Stack {
    /// The MCP server's base URL (also its audience), ending with '/'.
    pub base: String,
    /// The issuer, ending with '/'.
    pub issuer: String,
    pub http: reqwest::Client,
    pub stack: TestStack,
}

impl Stack {
    pub async fn start() -> Stack {
        Self::start_with(|_| {}).await
    }

    /// Starts the stack; `adjust` may change the MCP server's configuration.
    pub async fn start_with(
        adjust: impl FnOnce(&mut mcp_server::Config) + Send + 'static,
    ) -> Stack {
        let stack = TestStack::builder()
            .mcp_config(adjust)
            .start()
            .await
            .expect("the stack starts");
        Stack {
            base: stack.mcp_url.to_string(),
            issuer: stack.idp_url.to_string(),
            http: reqwest::Client::new(),
            stack,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn mcp(&self) -> String {
        self.url("mcp")
    }

    /// An access token for the MCP server, by the password grant of client `demo-cli`,
    /// asking for every tool's scope (RBAC grants what the user has).
    pub async fn token(&self, user: DemoUser) -> String {
        self.stack
            .token_for(user)
            .await
            .expect("the password grant succeeds")
    }

    /// An access token for which the client asked only for `scope`.
    pub async fn token_with_scope(&self, user: DemoUser, scope: &str) -> String {
        self.stack
            .token_with_scope(user, scope)
            .await
            .expect("the password grant succeeds")
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A raw POST to /mcp with the usual Streamable HTTP headers.
    pub fn post(&self, token: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(self.mcp())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// A raw, stateless 2026-07-28 request (headers and `_meta` as that revision wants).
    pub fn post_modern(
        &self,
        token: &str,
        method: &str,
        mut params: Value,
    ) -> reqwest::RequestBuilder {
        params["_meta"] = modern_meta();
        let mut request = self
            .post(
                Some(token),
                &json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }),
            )
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(name) = params.get("name").and_then(Value::as_str) {
            request = request.header("mcp-name", name);
        }
        request
    }

    fn transport(&self, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
        StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(self.mcp()).auth_header(token),
        )
    }

    /// rmcp's client, older era: `initialize` and a session.
    pub async fn legacy_client(&self, token: &str) -> RunningService<RoleClient, ClientConfig> {
        ClientConfig::default()
            .serve(self.transport(token))
            .await
            .expect("initialize succeeds")
    }

    /// rmcp's client, 2026-07-28 era: `server/discover`, per-request metadata, no session.
    pub async fn modern_client(&self, token: &str) -> RunningService<RoleClient, ClientConfig> {
        ClientConfig::default()
            .serve_with_lifecycle(
                self.transport(token),
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .expect("discover succeeds")
    }
}

/// Waits until `<base>ready` answers 200: the server has loaded the issuer's keys (a
/// readiness probe, as an orchestrator would do; /mcp answers 503 until then).
pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let ready = url::Url::parse(base).unwrap().join("ready").unwrap();
    stack::readiness::wait_until_ok(http, "mcp-server", &ready, Duration::from_secs(10), || {
        Ok(())
    })
    .await
    .unwrap();
}

/// The body of a JSON or single-event SSE response as JSON.
pub async fn json_body(response: reqwest::Response) -> Value {
    let is_sse = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    if !is_sse {
        return serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .filter(|data| !data.is_empty())
        .find_map(|data| {
            serde_json::from_str::<Value>(data)
                .ok()
                .filter(|v| v.get("id").is_some())
        })
        .unwrap_or_else(|| panic!("no JSON-RPC response in the event stream: {text}"))
}

/// The names in a `tools/list` result, sorted.
pub fn tool_names(tools: &[rmcp::model::Tool]) -> Vec<String> {
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    names
}

/// The value of `name` in a `WWW-Authenticate` challenge, unquoted.
pub fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    bearer_auth::bearer_challenge_params(challenge)?
        .into_iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}
