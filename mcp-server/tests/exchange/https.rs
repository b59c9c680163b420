//! `greet` with the tenant served over HTTPS (`fake-auth0 --tls`) and the upstream API
//! verifying over HTTPS too: with `--ca-file` naming the tenant's CA, discovery, the token
//! exchange and the keys all go over TLS.

use std::time::Duration;

use bearer_auth::{Issuer, Verifier, VerifierConfig};
use mcp_server::greet::Greeter;
use mcp_server::metrics::Metrics;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

const MCP_AUDIENCE: &str = "http://mcp.test/";

#[tokio::test]
async fn greet_exchanges_over_https_with_the_tenants_ca_file() {
    // Arrange: the tenant over HTTPS, its CA in a fresh directory.
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let dir = std::env::temp_dir().join(format!("mcp-server-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = fake_auth0::tls::TlsSettings { dir: dir.clone() };
    let ca_file = tls.ensure_ca().unwrap();
    let idp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "https://localhost:{}/",
        idp_listener.local_addr().unwrap().port()
    );
    let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/", api_listener.local_addr().unwrap());
    let idp_config = fake_auth0::Config {
        issuer: Url::parse(&issuer).unwrap(),
        tenant: fake_auth0::Tenant::demo_for(MCP_AUDIENCE, &api),
        tls: Some(tls),
        ..fake_auth0::Config::default()
    };
    tokio::spawn(fake_auth0::serve(
        idp_config,
        idp_listener,
        stop.clone().cancelled_owned(),
    ));
    let api_config = upstream_api::Config {
        issuer: Issuer::from_auth0_domain(&issuer).unwrap(),
        audience: api.clone(),
        ca_file: Some(ca_file.clone()),
        ..upstream_api::Config::default()
    };
    let api_app = upstream_api::App::build_on(api_config, api_listener)
        .await
        .unwrap();
    tokio::spawn(api_app.run_until_stopped(stop.clone().cancelled_owned()));
    let https = reqwest::Client::builder()
        .tls_certs_merge(service_kit::read_ca_file(&ca_file).unwrap())
        .build()
        .unwrap();
    let verifier = Verifier::new(
        VerifierConfig::new(Issuer::from_auth0_domain(&issuer).unwrap(), MCP_AUDIENCE),
        https.clone(),
    );
    verifier.ready().await;
    let body: Value = https
        .post(format!("{issuer}oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
            ("audience", MCP_AUDIENCE),
            ("scope", "openid tool:whoami tool:greet"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    let admin = verifier.verify(token).await.unwrap();
    let config = mcp_server::Config {
        issuer: Issuer::from_auth0_domain(&issuer).unwrap(),
        audience: MCP_AUDIENCE.to_owned(),
        api_audience: api.clone(),
        api_base_url: Url::parse(&api).unwrap(),
        ca_file: Some(ca_file),
        ..mcp_server::Config::default()
    };
    // What the server reads from --ca-file at start and hands to the greeter.
    let roots = config.root_certificates().unwrap();
    let greeter = Greeter::new(&config, &roots, Metrics::new()).unwrap();

    // Act: the upstream API may still be loading the tenant's keys; retry briefly.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let out = loop {
        match greeter.greet(&admin, token, None).await {
            Ok(out) => break out,
            Err(error) => assert!(
                tokio::time::Instant::now() < deadline,
                "greet never succeeded: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Assert
    assert_eq!(out.upstream["sub"], "auth0|admin");
    std::fs::remove_dir_all(&dir).unwrap();
}
