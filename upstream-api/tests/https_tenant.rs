//! The upstream API against a real tenant served over HTTPS (`fake-auth0 --tls`): with the
//! tenant's CA file (`--ca-file`) it loads the keys and accepts the tenant's tokens. The
//! `stack` crate starts the tenant and this API (and the MCP server, unused here).

use reqwest::StatusCode;
use serde_json::Value;
use stack::{DemoUser, TestStack};

#[tokio::test]
async fn tokens_from_a_tenant_over_https_verify_with_its_ca_file() {
    // Arrange: fake-auth0 with --tls, its CA in a fresh directory; the stack is ready only
    // once this API has fetched the tenant's keys over HTTPS (`/ready`).
    let dir = std::env::temp_dir().join(format!("upstream-api-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stack = TestStack::builder()
        .public_host("localhost")
        .tls(&dir)
        .start()
        .await
        .unwrap();
    assert_eq!(stack.idp_url.scheme(), "https");
    let token = stack
        .token_for_audience(DemoUser::Admin, stack.upstream_url.as_str(), "read:private")
        .await
        .unwrap();

    // Act
    let response = stack
        .http()
        .get(stack.upstream_url.join("api/private-scope").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sub"], "auth0|admin");
    stack.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
