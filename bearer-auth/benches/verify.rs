//! How long one verification takes once keys are cached: the per-request cost a resource
//! server pays (target ≤ 25 µs for RS256-2048 on the reference 2-core machine).

use std::hint::black_box;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bearer_auth::testkit::{KeyServer, SigningKey};
use bearer_auth::{Verifier, VerifierConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const AUDIENCE: &str = "http://localhost:8787/";

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = SigningKey::generate("bench-key");
    let (verifier, remembering, token, expired) = runtime.block_on(async {
        let server = KeyServer::start(&[&key]).await;
        // The full verification every time: the verified-token cache turned off.
        let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
        config.verified_cache_capacity = 0;
        let verifier = Verifier::new(config, reqwest::Client::new());
        verifier.ready().await;
        // The default configuration, which remembers verified tokens.
        let remembering = Verifier::new(
            VerifierConfig::new(server.issuer().clone(), AUDIENCE),
            reqwest::Client::new(),
        );
        remembering.ready().await;
        // A token shaped like Auth0's: RFC 9068 claims plus RBAC permissions.
        let claims = json!({
            "sub": "auth0|0123456789abcdef01234567",
            "scope": "openid profile email read:private",
            "permissions": ["read:private"],
            "azp": "mcp-server-client",
            "gty": "urn:ietf:params:oauth:grant-type:token-exchange",
        });
        let token = key.token(server.issuer(), AUDIENCE, claims);
        let expired = key.token(
            server.issuer(),
            AUDIENCE,
            json!({ "exp": 1000, "iat": 900 }),
        );
        (verifier, remembering, token, expired)
    });
    assert!(runtime.block_on(verifier.verify(&token)).is_ok());
    assert!(runtime.block_on(remembering.verify(&token)).is_ok());

    c.bench_function("verify RS256-2048 (valid, keys cached)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(verifier.verify(black_box(&token)).await.is_ok()) });
    });
    c.bench_function(
        "verify RS256-2048 (valid, seen before: verified-token cache hit)",
        |b| {
            b.to_async(&runtime)
                .iter(|| async { black_box(remembering.verify(black_box(&token)).await.is_ok()) });
        },
    );
    c.bench_function("verify RS256-2048 (expired, keys cached)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(verifier.verify(black_box(&expired)).await.is_err()) });
    });
    // Baselines under the same load: the RSA verification alone, as jsonwebtoken does it
    // (key rebuilt from n and e per call) and with a key parsed once.
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let jwk = key.jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let components = RsaPublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    };
    c.bench_function("baseline: aws-lc-rs RS256 verify from n,e", |b| {
        b.iter(|| {
            black_box(
                components
                    .verify(&RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
                    .is_ok(),
            )
        });
    });
    let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_der()).unwrap();
    c.bench_function("baseline: aws-lc-rs RS256 verify, key parsed once", |b| {
        b.iter(|| black_box(parsed.verify_sig(message.as_bytes(), &signature).is_ok()));
    });
    c.bench_function("reject malformed token", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(verifier.verify(black_box("abc.def.ghi")).await.is_err()) });
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
