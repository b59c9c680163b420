//! What an MCP client does first: an unauthenticated call, the 401, and the discovery chain
//! from the MCP server to the authorization server (RFC 9728, then RFC 8414).

use e2e::TestStack;
use e2e::mcp::StatelessMcp;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_unauthenticated_client_discovers_the_authorization_server() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let anonymous = StatelessMcp::new(stack.http().clone(), stack.mcp_endpoint());

    let reply = anonymous.request("tools/list", json!({})).await?;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "body: {}",
        reply.body
    );
    let challenge = reply
        .www_authenticate()
        .expect("a 401 carries WWW-Authenticate");
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the challenge names resource_metadata");

    let metadata: Value = stack.http().get(metadata_url).send().await?.json().await?;
    assert_eq!(
        metadata["resource"],
        json!(stack.mcp_url.as_str()),
        "{metadata}"
    );
    assert_eq!(
        metadata["authorization_servers"],
        json!([stack.idp_url.as_str()]),
        "{metadata}"
    );

    let issuer = stack.idp_url.as_str();
    let as_metadata_url = format!("{issuer}.well-known/oauth-authorization-server");
    let response = stack.http().get(&as_metadata_url).send().await?;
    let as_metadata: Value = if response.status().is_success() {
        response.json().await?
    } else {
        // Auth0 publishes OpenID discovery; RFC 8414 clients fall back to it.
        stack
            .http()
            .get(format!("{issuer}.well-known/openid-configuration"))
            .send()
            .await?
            .json()
            .await?
    };
    assert_eq!(as_metadata["issuer"], json!(issuer), "{as_metadata}");
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
    ] {
        assert!(
            as_metadata[endpoint].is_string(),
            "{endpoint} missing: {as_metadata}"
        );
    }
    stack.shutdown().await
}
