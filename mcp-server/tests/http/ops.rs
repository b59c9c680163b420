//! Health, readiness and metrics.

use rmcp::model::CallToolRequestParams;
use serde_json::json;

use crate::support::{Stack, USER};

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let stack = Stack::start().await;
    let health = stack.http.get(stack.url("health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = stack.http.get(stack.url("ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // One refusal, one permitted call, one step-up.
    let _ = stack.post(None, &json!({})).send().await.unwrap();
    let token = stack.token(USER).await;
    let client = stack.legacy_client(&token).await;
    client
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .unwrap();
    client.cancel().await.unwrap();
    let _ = stack
        .post_modern(
            &token,
            "tools/call",
            json!({ "name": "greet", "arguments": {} }),
        )
        .send()
        .await
        .unwrap();

    let text = stack.metrics().await;
    assert!(
        text.contains(r#"mcp_http_requests_total{status="401"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_token_rejections_total{reason="missing"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_tool_calls_total{tool="whoami",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_tool_calls_total{tool="greet",outcome="insufficient_scope"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_ends_serving_even_with_an_open_session() {
    let stack = Stack::start().await;
    let token = stack.token(USER).await;

    // A second server on its own listener, so this test owns its shutdown.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let config = mcp_server::Config {
        issuer: bearer_auth::Issuer::from_auth0_domain(&stack.issuer).unwrap(),
        // fake-auth0's tokens are for the first server; reuse its audience.
        audience: stack.base.clone(),
        server_url: url::Url::parse(&base).unwrap(),
        ..mcp_server::Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = mcp_server::App::build_on(config, listener).await.unwrap();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    crate::support::wait_ready(&stack.http, &base).await;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            format!("{base}mcp"),
        )
        .auth_header(token),
    );
    let client = rmcp::ServiceExt::serve(rmcp::model::ClientConfig::default(), transport)
        .await
        .expect("initialize against the second server");
    client.list_all_tools().await.unwrap();

    stop.send(()).unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("serve returns after shutdown although a session stream is open");
    result.unwrap().unwrap();
    drop(client);
}
