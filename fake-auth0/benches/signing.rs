//! RS256 signing cost: the parsed aws-lc-rs key fake-auth0 signs with, against
//! `jsonwebtoken::encode`, which re-parses the private key on every call; and the cost of
//! one client_credentials token over loopback HTTP with keep-alive.

use criterion::{Criterion, criterion_group, criterion_main};
use fake_auth0::keys::SigningKey;
use serde_json::json;

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5): the content
/// of the OCTET STRING after the version and the algorithm identifier.
fn pkcs8_to_pkcs1(der: &[u8]) -> Vec<u8> {
    // Returns (header length, content length) of the DER element at `at`.
    fn element(der: &[u8], at: usize) -> (usize, usize) {
        let first = der[at + 1] as usize;
        if first < 0x80 {
            return (2, first);
        }
        let octets = first & 0x7f;
        let length = der[at + 2..at + 2 + octets]
            .iter()
            .fold(0, |acc, b| (acc << 8) | *b as usize);
        (2 + octets, length)
    }
    let (outer_header, _) = element(der, 0);
    let mut at = outer_header;
    for _ in 0..2 {
        let (header, length) = element(der, at);
        at += header + length;
    }
    let (header, length) = element(der, at);
    der[at + header..at + header + length].to_vec()
}

fn claims() -> serde_json::Value {
    json!({
        "iss": "http://localhost:4000/",
        "sub": "auth0|admin",
        "aud": "http://localhost:3001/",
        "iat": 1_700_000_000_u64,
        "exp": 1_700_086_400_u64,
        "jti": "9SKHGAmEe1nU0GTB1hbBTQ",
        "client_id": "demo-cli",
        "scope": "tool:whoami tool:greet",
        "permissions": ["tool:whoami", "tool:greet"]
    })
}

fn signing(c: &mut Criterion) {
    let key = SigningKey::generate().unwrap();
    let claims = claims();
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": key.kid()});
    let pkcs1 = pkcs8_to_pkcs1(&key.private_pkcs8_der().unwrap());
    let encoding_key = jsonwebtoken::EncodingKey::from_rsa_der(&pkcs1);
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jwt_header.typ = Some("at+jwt".to_owned());
    jwt_header.kid = Some(key.kid().to_owned());
    // Both paths must produce a valid signature over the same input.
    assert_eq!(
        key.sign_jwt(&header, &claims).unwrap().split('.').count(),
        jsonwebtoken::encode(&jwt_header, &claims, &encoding_key)
            .unwrap()
            .split('.')
            .count()
    );

    let mut group = c.benchmark_group("rs256_sign");
    group.bench_function("parsed_aws_lc_rs_key", |b| {
        b.iter(|| key.sign_jwt(&header, &claims).unwrap());
    });
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| jsonwebtoken::encode(&jwt_header, &claims, &encoding_key).unwrap());
    });
    group.finish();
}

fn token_endpoint(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, http) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = fake_auth0::Config::default()
            .with_issuer(url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap());
        let app = fake_auth0::App::build_on(config, listener)
            .await
            .expect("the demo tenant starts");
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        (
            format!("http://127.0.0.1:{port}/oauth/token"),
            reqwest::Client::new(),
        )
    });
    let audience = url.replace("oauth/token", "api/v2/");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "management-cli"),
        ("client_secret", "management-secret"),
        ("audience", audience.as_str()),
    ];
    c.bench_function("client_credentials_over_loopback", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = http.post(&url).form(&form).send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap()
        });
    });
    // Sixteen keep-alive connections at once: the time per token is 1 / throughput.
    const CONNECTIONS: u64 = 16;
    c.bench_function("client_credentials_16_connections_per_token", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let url = url.clone();
            let audience = audience.clone();
            async move {
                let per_connection = iterations.div_ceil(CONNECTIONS);
                let started = std::time::Instant::now();
                let tasks: Vec<_> = (0..CONNECTIONS)
                    .map(|_| {
                        let url = url.clone();
                        let audience = audience.clone();
                        let http = reqwest::Client::new();
                        tokio::spawn(async move {
                            for _ in 0..per_connection {
                                let form = [
                                    ("grant_type", "client_credentials"),
                                    ("client_id", "management-cli"),
                                    ("client_secret", "management-secret"),
                                    ("audience", audience.as_str()),
                                ];
                                let response = http.post(&url).form(&form).send().await.unwrap();
                                assert!(response.status().is_success());
                                response.bytes().await.unwrap();
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                // Report the time of exactly `iterations` tokens out of those issued.
                let issued = per_connection * CONNECTIONS;
                started.elapsed().mul_f64(iterations as f64 / issued as f64)
            }
        });
    });
}

criterion_group!(benches, signing, token_endpoint);
criterion_main!(benches);
