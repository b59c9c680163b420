//! The requests the benchmark sends, written out as bytes once: MCP calls of both protocol
//! eras (as `stack::mcp` sends them), the IdP's token requests, and the no-op floor server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use bytes::Bytes;
use futures::StreamExt as _;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use mcp_server::exchange::ACCESS_TOKEN_TYPE;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

use crate::load::{BodyTemplate, Expect, SessionSetup, TokenPool, Workload};

/// The address a service URL of the stack points to.
pub fn addr_of(url: &Url) -> anyhow::Result<SocketAddr> {
    url.socket_addrs(|| None)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("a service URL without an address"))
}

/// The stateless era: no `initialize`, the version in a header and in `_meta`.
pub const MODERN: &str = "2026-07-28";
/// The newest session era version (`initialize`, `Mcp-Session-Id`).
pub const SESSION: &str = "2025-11-25";

/// Which protocol era a workload speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// 2026-07-28 stateless requests.
    Stateless,
    /// 2025-11-25 sessions, opened once per client.
    Session,
}

/// A `tools/call` of `tool` for one era, with one fixed token or a pool of fresh ones.
pub fn tool_call(
    era: Era,
    tool: &str,
    arguments: &Value,
    token: Option<&str>,
    pool: Option<Arc<TokenPool>>,
) -> anyhow::Result<Workload> {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(token) = token {
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
    }
    let mut params = json!({ "name": tool, "arguments": arguments });
    let session = match era {
        Era::Stateless => {
            headers.insert("mcp-protocol-version", HeaderValue::from_static(MODERN));
            headers.insert("mcp-method", HeaderValue::from_static("tools/call"));
            headers.insert("mcp-name", HeaderValue::from_str(tool)?);
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientInfo": { "name": "bench", "version": env!("CARGO_PKG_VERSION") },
                "io.modelcontextprotocol/clientCapabilities": {},
            });
            None
        }
        Era::Session => {
            headers.insert("mcp-protocol-version", HeaderValue::from_static(SESSION));
            let initialize = json!({
                "jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {
                    "protocolVersion": SESSION,
                    "capabilities": {},
                    "clientInfo": { "name": "bench", "version": env!("CARGO_PKG_VERSION") },
                },
            });
            let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
            Some(SessionSetup {
                initialize: Bytes::from(serde_json::to_vec(&initialize)?),
                initialized: Bytes::from(serde_json::to_vec(&initialized)?),
                protocol_version: HeaderValue::from_static(SESSION),
            })
        }
    };
    Ok(Workload {
        path: "/mcp".to_owned(),
        headers,
        body: rpc_template("tools/call", &params)?,
        tokens: pool,
        session,
        expect: Expect::McpResult,
        live: None,
    })
}

/// A JSON-RPC request body with an `{id}` slot.
fn rpc_template(method: &str, params: &Value) -> anyhow::Result<BodyTemplate> {
    let text = json!({ "jsonrpc": "2.0", "id": 0, "method": method, "params": params }).to_string();
    let text = text.replacen(r#""id":0"#, r#""id":{id}"#, 1);
    anyhow::ensure!(
        text.contains("{id}"),
        "serde_json wrote the id differently: {text}"
    );
    Ok(BodyTemplate::new(&text))
}

/// The floor's request: the same headers and body as a stateless `greet`, to `/noop`.
pub fn floor(token: &str) -> anyhow::Result<Workload> {
    let mut workload = tool_call(
        Era::Stateless,
        "greet",
        &json!({ "name": "bench" }),
        Some(token),
        None,
    )?;
    workload.path = "/noop".to_owned();
    Ok(workload)
}

/// The no-op floor server: axum through `service_kit::serve` (the services' own serving
/// path: `TCP_NODELAY`, graceful shutdown), a POST handler that answers a constant
/// JSON-RPC result. Nothing on this stack can answer an HTTP request faster.
pub async fn spawn_floor() -> anyhow::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    const REPLY: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let router = axum::Router::new().route(
        "/noop",
        axum::routing::post(|| async { ([(CONTENT_TYPE, "application/json")], REPLY) }),
    );
    Ok((addr, serve_until_stopped(listener, router)))
}

/// Serves `router` on `listener` the way the services serve (`service_kit::serve`, default
/// limits) until the returned sender is used or dropped: the floors' server.
pub fn serve_until_stopped(
    listener: TcpListener,
    router: axum::Router,
) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let limits = service_kit::ServerLimits::default();
        let _ = service_kit::serve(listener, router, limits, async move {
            let _ = stopped.await;
        })
        .await;
    });
    stop
}

fn form_workload(body: &str, expect: &'static str) -> Workload {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    Workload {
        path: "/oauth/token".to_owned(),
        headers,
        body: BodyTemplate::new(body),
        tokens: None,
        session: None,
        expect: Expect::Contains(expect),
        live: None,
    }
}

/// client_credentials for the Management CLI (the demo tenant's machine client with a grant).
pub fn client_credentials(audience: &str) -> anyhow::Result<Workload> {
    let body = serde_urlencoded_pairs(&[
        ("grant_type", "client_credentials"),
        ("client_id", "management-cli"),
        ("client_secret", "management-secret"),
        ("audience", audience),
    ])?;
    Ok(form_workload(&body, "access_token"))
}

/// The MCP server's own token exchange request (RFC 8693 form, as `mcp_server::exchange` sends):
/// Custom Token Exchange with the demo profile, or Auth0's On-Behalf-Of exchange.
pub fn token_exchange(
    subject_token: &str,
    upstream_audience: &str,
    on_behalf_of: bool,
) -> anyhow::Result<Workload> {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", subject_token),
    ];
    if on_behalf_of {
        form.push(("subject_token_type", ACCESS_TOKEN_TYPE));
        form.push(("requested_token_type", ACCESS_TOKEN_TYPE));
    } else {
        form.push(("subject_token_type", "urn:fastmcp:mcp"));
    }
    form.extend([
        ("audience", upstream_audience),
        ("scope", "read:private"),
        ("client_id", "mcp-server-client"),
        ("client_secret", "mcp-server-secret"),
    ]);
    let body = serde_urlencoded_pairs(&form)?;
    Ok(form_workload(&body, "access_token"))
}

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut url = Url::parse("http://form.invalid/")?;
    url.query_pairs_mut().extend_pairs(pairs);
    url.query()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("empty form"))
}

/// Finds the audience the IdP accepts for client_credentials of `management-cli`: the tenant
/// may keep the contract's `http://localhost:4000/api/v2/` or follow the real issuer.
pub async fn management_audience(http: &reqwest::Client, issuer: &Url) -> anyhow::Result<String> {
    let candidates = [
        issuer.join("api/v2/")?.to_string(),
        "http://localhost:4000/api/v2/".to_owned(),
    ];
    for audience in &candidates {
        let response = http
            .post(issuer.join("oauth/token")?)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "management-cli"),
                ("client_secret", "management-secret"),
                ("audience", audience.as_str()),
            ])
            .send()
            .await?;
        if response.status().is_success() {
            return Ok(audience.clone());
        }
    }
    bail!("the IdP refused client_credentials for management-cli with every audience tried")
}

/// Mints `count` MCP access tokens for admin@example.com by the password grant of `demo-cli`,
/// `parallel` requests at a time; returns them with the rate the IdP issued them at.
pub async fn mint_tokens(
    http: &reqwest::Client,
    issuer: &Url,
    audience: &str,
    count: usize,
    parallel: usize,
) -> anyhow::Result<(Vec<String>, f64)> {
    let started = Instant::now();
    let tokens: Vec<anyhow::Result<String>> = futures::stream::iter(0..count)
        .map(|_| {
            // No `openid`: only the access token is signed, as a CLI asking for an API would.
            stack::tokens::password_grant(
                http,
                issuer,
                stack::DemoUser::Admin,
                audience,
                "tool:whoami tool:greet",
            )
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    let tokens = tokens.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok((tokens, count as f64 / elapsed.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stateless_call_carries_the_version_in_headers_and_meta() {
        let workload = tool_call(Era::Stateless, "whoami", &json!({}), Some("t"), None).unwrap();
        assert_eq!(workload.headers["mcp-protocol-version"], MODERN);
        assert_eq!(workload.headers["mcp-name"], "whoami");
        assert!(workload.session.is_none());
        let template = format!("{:?}", workload.body);
        assert!(
            template.contains("io.modelcontextprotocol/protocolVersion"),
            "{template}"
        );
    }

    #[test]
    fn a_session_call_opens_a_session_first() {
        let workload = tool_call(Era::Session, "whoami", &json!({}), Some("t"), None).unwrap();
        assert_eq!(workload.headers["mcp-protocol-version"], SESSION);
        assert!(workload.headers.get("mcp-method").is_none());
        assert!(workload.session.is_some());
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let body = serde_urlencoded_pairs(&[("audience", "http://a/"), ("scope", "x y")]).unwrap();
        assert_eq!(body, "audience=http%3A%2F%2Fa%2F&scope=x+y");
    }
}
