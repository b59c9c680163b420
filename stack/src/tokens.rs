//! Access tokens for the demo users, by the password grant of the first-party public client
//! `demo-cli` (RFC 6749 §4.3; Auth0 allows it for first-party clients): what a CLI does, and
//! the quickest way for a test to sign someone in. Browsers use the authorization-code flow
//! with PKCE, which the Python SDK journeys run.

use anyhow::{Context as _, anyhow, bail};
use contract::{DEMO_CLI_CLIENT_ID, DemoUser};
use serde_json::Value;
use url::Url;

/// The scope a client asks for to use every tool: `openid` and each tool's permission.
pub const MCP_SCOPE: &str = "openid tool:whoami tool:greet";

/// Signs `user` in at `issuer`'s token endpoint for `audience` and `scope`; the access token,
/// or an error with the IdP's answer.
pub async fn password_grant(
    http: &reqwest::Client,
    issuer: &Url,
    user: DemoUser,
    audience: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let endpoint = issuer.join("oauth/token")?;
    let response = http
        .post(endpoint.clone())
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLI_CLIENT_ID),
            ("username", user.email()),
            ("password", user.password()),
            ("audience", audience),
            ("scope", scope),
        ])
        .send()
        .await
        .with_context(|| format!("POST {endpoint}"))?;
    let status = response.status();
    let body: Value = response.json().await.context("token response is JSON")?;
    if !status.is_success() {
        bail!(
            "password grant for {} answered {status}: {body}",
            user.email()
        );
    }
    body.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("token response without access_token: {body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mcp_scope_asks_for_every_tool_permission() {
        let asked: Vec<&str> = MCP_SCOPE.split(' ').collect();
        assert_eq!(asked[0], "openid");
        assert_eq!(asked[1..], contract::tools::TOOL_PERMISSIONS);
    }
}
