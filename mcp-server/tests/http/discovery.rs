//! The discovery chain a client follows from its first, unauthenticated request.

use serde_json::{Value, json};

use crate::support::{Stack, challenge_param};

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "test", "version": "0" }
        }
    })
}

#[tokio::test]
async fn an_unauthenticated_request_leads_to_the_authorization_server() {
    let stack = Stack::start().await;

    // 1. No token: 401 pointing at the protected resource metadata.
    let response = stack.post(None, &initialize()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let metadata_url = challenge_param(&challenge, "resource_metadata").expect("resource_metadata");
    assert_eq!(
        metadata_url,
        stack.url(".well-known/oauth-protected-resource")
    );
    assert_eq!(
        challenge_param(&challenge, "scope").as_deref(),
        Some("tool:whoami tool:greet")
    );
    assert_eq!(
        challenge_param(&challenge, "error"),
        None,
        "no error code without a token"
    );

    // 2. The protected resource metadata names the resource and its authorization server.
    let metadata: Value = stack
        .http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], stack.base.as_str());
    assert!(
        stack
            .mcp()
            .starts_with(metadata["resource"].as_str().unwrap())
    );
    assert_eq!(metadata["authorization_servers"], json!([stack.issuer]));
    assert_eq!(
        metadata["scopes_supported"],
        json!(["tool:whoami", "tool:greet"])
    );
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    assert!(metadata["resource_name"].is_string());

    // 3. The authorization server's metadata (RFC 8414), from the issuer itself…
    let issuer = metadata["authorization_servers"][0].as_str().unwrap();
    let as_metadata: Value = stack
        .http
        .get(format!("{issuer}.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_metadata["issuer"], issuer);
    assert!(as_metadata["authorization_endpoint"].is_string());
    assert!(as_metadata["token_endpoint"].is_string());

    // …and the copy on the MCP server's origin, for 2025-03-26 clients.
    let proxied = stack
        .http
        .get(stack.url(".well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 200);
    let proxied: Value = proxied.json().await.unwrap();
    assert_eq!(proxied["issuer"], issuer);
    assert_eq!(proxied["token_endpoint"], as_metadata["token_endpoint"]);
}

/// The `resource_metadata` of a 401, and the status of both RFC 9728 locations.
async fn metadata_locations(stack: &Stack) -> (String, u16, u16) {
    let response = stack.post(None, &initialize()).send().await.unwrap();
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let advertised = challenge_param(&challenge, "resource_metadata").expect("resource_metadata");
    let status = |path: &str| {
        let request = stack.http.get(stack.url(path)).send();
        async move { request.await.unwrap().status().as_u16() }
    };
    let root = status(".well-known/oauth-protected-resource").await;
    let for_mcp = status(".well-known/oauth-protected-resource/mcp").await;
    (advertised, root, for_mcp)
}

#[tokio::test]
async fn with_the_quickstarts_audience_only_the_root_document_is_served() {
    // AUTH0_AUDIENCE=http://<host>/ (the quickstart's): RFC 9728 §3.1 puts its metadata
    // at the root. A document at …/mcp would have to say resource=…/mcp (§3.3), which no
    // token carries, so there is none and clients fall back to the root (MCP spec).
    let stack = Stack::start().await;
    let (advertised, root, for_mcp) = metadata_locations(&stack).await;
    assert_eq!(
        advertised,
        stack.url(".well-known/oauth-protected-resource")
    );
    assert_eq!((root, for_mcp), (200, 404));
    let metadata: Value = stack
        .http
        .get(&advertised)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], stack.base.as_str());
}

#[tokio::test]
async fn with_the_endpoint_as_audience_the_path_document_names_it() {
    // AUTH0_AUDIENCE=http://<host>/mcp: the path-inserted document, resource = the endpoint.
    let stack =
        Stack::start_with(|config| config.audience = format!("{}mcp", config.server_url)).await;
    let (advertised, root, for_mcp) = metadata_locations(&stack).await;
    assert_eq!(
        advertised,
        stack.url(".well-known/oauth-protected-resource/mcp")
    );
    assert_eq!((root, for_mcp), (404, 200));
    let metadata: Value = stack
        .http
        .get(&advertised)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], stack.mcp());
    assert_eq!(metadata["authorization_servers"], json!([stack.issuer]));
}

#[tokio::test]
async fn with_the_authorization_server_down_the_server_says_so() {
    // Nothing listens at the issuer: keys never load, metadata cannot be fetched.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://127.0.0.1:{}/", closed.local_addr().unwrap().port());
    drop(closed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let config = mcp_server::Config {
        issuer: bearer_auth::Issuer::from_auth0_domain(&issuer).unwrap(),
        audience: base.clone(),
        server_url: url::Url::parse(&base).unwrap(),
        ..mcp_server::Config::default()
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let _guard = stop.clone().drop_guard();
    let app = mcp_server::App::build_on(config, listener).await.unwrap();
    tokio::spawn(app.run_until_stopped(stop.cancelled_owned()));
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive");
    let ready = http.get(format!("{base}ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without keys");
    let metadata = http
        .get(format!("{base}.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 502);
    // The protected resource metadata needs nothing from the issuer.
    let prm = http
        .get(format!("{base}.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(prm.status(), 200);
    // A request with some token cannot be verified: 503, not a misleading 401.
    let token = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.e30.c2ln";
    let mcp = http
        .post(format!("{base}mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(initialize().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 503);
}
