//! The upstream API against a real tenant served over HTTPS (`fake-auth0 --tls`): with the
//! tenant's CA file (`--ca-file`) it loads the keys and accepts the tenant's tokens.

use std::time::{Duration, Instant};

use bearer_auth::{Issuer, JwksSettings};
use reqwest::StatusCode;
use serde_json::Value;

const AUDIENCE: &str = "http://localhost:8787/";

#[tokio::test]
async fn tokens_from_a_tenant_over_https_verify_with_its_ca_file() {
    // Arrange: fake-auth0 with --tls, its CA in a fresh directory.
    let dir = std::env::temp_dir().join(format!("upstream-api-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = fake_auth0::tls::TlsSettings { dir: dir.clone() };
    let ca_file = tls.ensure_ca().unwrap();
    let idp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "https://localhost:{}/",
        idp_listener.local_addr().unwrap().port()
    );
    let idp_config = fake_auth0::Config {
        issuer: issuer.parse().unwrap(),
        tls: Some(tls),
        ..fake_auth0::Config::default()
    };
    tokio::spawn(fake_auth0::serve(
        idp_config,
        idp_listener,
        std::future::pending(),
    ));

    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", api_listener.local_addr().unwrap());
    let api_config = upstream_api::Config {
        issuer: Issuer::from_auth0_domain(&issuer).unwrap(),
        audience: AUDIENCE.to_owned(),
        ca_file: Some(ca_file.clone()),
        jwks: JwksSettings {
            retry_initial: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            ..JwksSettings::default()
        },
        ..upstream_api::Config::default()
    };
    let api_app = upstream_api::App::build_on(api_config, api_listener)
        .await
        .unwrap();
    tokio::spawn(api_app.run_until_stopped(std::future::pending()));

    // A client that trusts the same CA file, as curl --cacert would.
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_merge([ca])
        .build()
        .unwrap();
    let token: Value = https
        .post(format!("{issuer}oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
            ("audience", AUDIENCE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();

    // Act: the API answers 503 until it has fetched the keys over HTTPS, then verifies.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let response = loop {
        let response = http
            .get(format!("{api}/api/private-scope"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "the API never loaded the tenant's keys"
        );
        tokio::task::yield_now().await;
    };

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sub"], "auth0|admin");
    std::fs::remove_dir_all(&dir).unwrap();
}
