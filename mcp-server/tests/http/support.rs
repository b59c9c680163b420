//! A running fake-auth0 plus mcp-server on ephemeral ports, and helpers to talk to them.

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
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};
use url::Url;

/// The users of fake-auth0's demo tenant.
pub const ADMIN: (&str, &str) = ("admin@example.com", "admin-pass");
pub const USER: (&str, &str) = ("user@example.com", "user-pass");
pub const GUEST: (&str, &str) = ("guest@example.com", "guest-pass");

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
    _stop: DropGuard,
}

impl Stack {
    pub async fn start() -> Stack {
        Self::start_with(|_| {}).await
    }

    /// Starts both servers; `adjust` may change the MCP server's configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut mcp_server::Config)) -> Stack {
        Self::start_inner(false, adjust).await
    }

    /// Starts fake-auth0, the upstream API and the MCP server: the whole `greet` path.
    pub async fn start_with_upstream() -> Stack {
        Self::start_inner(true, |_| {}).await
    }

    async fn start_inner(
        with_upstream: bool,
        adjust: impl FnOnce(&mut mcp_server::Config),
    ) -> Stack {
        let stop = CancellationToken::new();
        let idp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!(
            "http://127.0.0.1:{}/",
            idp_listener.local_addr().unwrap().port()
        );
        let mcp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "http://127.0.0.1:{}/",
            mcp_listener.local_addr().unwrap().port()
        );

        let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Without the upstream API, nothing listens at its address: greet must fail cleanly.
        let api = format!(
            "http://127.0.0.1:{}/",
            api_listener.local_addr().unwrap().port()
        );

        let mut idp_config =
            fake_auth0::Config::default().with_issuer(Url::parse(&issuer).unwrap());
        idp_config.tenant = fake_auth0::Tenant::demo_for(&base, &api);
        tokio::spawn(fake_auth0::serve(
            idp_config,
            idp_listener,
            stop.clone().cancelled_owned(),
        ));

        let http = reqwest::Client::new();
        if with_upstream {
            let api_config = upstream_api::Config {
                issuer: bearer_auth::Issuer::from_auth0_domain(&issuer).unwrap(),
                audience: api.clone(),
                ..upstream_api::Config::default()
            };
            let api_app = upstream_api::App::build_on(api_config, api_listener)
                .await
                .unwrap();
            tokio::spawn(api_app.run_until_stopped(stop.clone().cancelled_owned()));
            wait_ready(&http, &api).await;
        } else {
            drop(api_listener);
        }

        let mut config = mcp_server::Config {
            issuer: bearer_auth::Issuer::from_auth0_domain(&issuer).unwrap(),
            audience: base.clone(),
            server_url: Url::parse(&base).unwrap(),
            api_audience: api.clone(),
            api_base_url: Url::parse(&api).unwrap(),
            ..mcp_server::Config::default()
        };
        adjust(&mut config);
        let mcp_app = mcp_server::App::build_on(config, mcp_listener)
            .await
            .unwrap();
        tokio::spawn(mcp_app.run_until_stopped(stop.clone().cancelled_owned()));

        let stack = Stack {
            base,
            issuer,
            http,
            _stop: stop.drop_guard(),
        };
        stack.wait_ready().await;
        stack
    }

    async fn wait_ready(&self) {
        wait_ready(&self.http, &self.base).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn mcp(&self) -> String {
        self.url("mcp")
    }

    /// An access token for the MCP server, by the password grant of client `demo-cli`,
    /// asking for every tool's scope (RBAC grants what the user has).
    pub async fn token(&self, user: (&str, &str)) -> String {
        self.token_with_scope(user, "openid tool:whoami tool:greet")
            .await
    }

    /// An access token for which the client asked only for `scope`.
    pub async fn token_with_scope(
        &self,
        (username, password): (&str, &str),
        scope: &str,
    ) -> String {
        let response = self
            .http
            .post(format!("{}oauth/token", self.issuer))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "demo-cli"),
                ("username", username),
                ("password", password),
                ("audience", self.base.as_str()),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "password grant failed: {body}");
        body["access_token"].as_str().unwrap().to_owned()
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

/// Polls `<base>ready` until the server has loaded the issuer's keys (a readiness probe,
/// as an orchestrator would do; /mcp answers 503 until then).
pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = http.get(format!("{base}ready")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    let rest = challenge.strip_prefix("Bearer")?.trim_start();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() {
            return None;
        }
        chars.next();
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            value
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect()
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
}
