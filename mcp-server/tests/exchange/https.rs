//! `greet` with the tenant served over HTTPS (`fake-auth0 --tls`) and the upstream API
//! verifying over HTTPS too: with `--ca-file` naming the tenant's CA, discovery, the keys and
//! the token exchange all go over TLS. The `stack` crate sets the three up as a user would.

use serde_json::json;
use stack::{DemoUser, TestStack};

#[tokio::test]
async fn greet_exchanges_over_https_with_the_tenants_ca_file() {
    // Arrange: the tenant over HTTPS, its CA in a fresh directory.
    let dir = std::env::temp_dir().join(format!("mcp-server-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stack = TestStack::builder()
        .public_host("localhost")
        .tls(&dir)
        .start()
        .await
        .unwrap();
    assert_eq!(stack.idp_url.scheme(), "https");
    let admin = stack.stateless_as(DemoUser::Admin).await.unwrap();

    // Act
    let greeting = admin
        .call_tool("greet", json!({ "name": "Ada" }))
        .await
        .unwrap();

    // Assert: the exchanged token reached the upstream API, which verified it over HTTPS.
    assert!(!greeting.is_error, "greet failed: {}", greeting.text);
    let upstream = greeting
        .structured
        .expect("greet returns the upstream JSON");
    assert_eq!(upstream["upstream"]["sub"], "auth0|admin", "{upstream}");
    stack.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
