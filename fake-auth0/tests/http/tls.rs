//! `--tls`: HTTPS with a certificate from the local CA, trusted through the CA file alone;
//! the control surface still knows its caller is on loopback.

use fake_auth0::tls::TlsSettings;
use fake_auth0::{App, Config};
use serde_json::Value;

#[tokio::test]
async fn a_client_trusting_only_the_ca_file_gets_discovery_keys_and_control() {
    // Arrange
    let dir = std::env::temp_dir().join(format!("fake-auth0-tls-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = TlsSettings { dir: dir.clone() };
    let ca_file = tls.ensure_ca().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Config {
        issuer: format!("https://localhost:{port}/").parse().unwrap(),
        control: true,
        tls: Some(tls),
        ..Config::default()
    };
    let app = App::build_on(config, listener).await.unwrap();
    assert_eq!(app.ca_file(), Some(ca_file.as_path()));
    let control_token = app.control_token().unwrap().expose().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();

    // Act and assert: by name and by loopback address, as the certificate says.
    for base in [
        format!("https://localhost:{port}/"),
        format!("https://127.0.0.1:{port}/"),
    ] {
        let discovery: Value = https
            .get(format!("{base}.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], format!("https://localhost:{port}/"));
        let clock = https
            .get(format!("{base}_control/clock"))
            .bearer_auth(&control_token)
            .send()
            .await
            .unwrap();
        assert_eq!(clock.status(), 200, "control over TLS sees a loopback peer");
    }
    // A client that does not trust the CA is refused.
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/health"))
            .send()
            .await
            .is_err()
    );
    // Plain HTTP on the TLS port gets no answer.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_err()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
