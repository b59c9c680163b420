//! Every acceptance rule, one crafted token each, through a single `check` helper.
//!
//! The verifiers here read a [`ManualClock`] standing at [`NOW`], years from the wall clock,
//! so every time rule is tested at its exact edge, and a verifier that looked at the system
//! clock instead would refuse every token as issued in the future.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bearer_auth::testkit::{ManualClock, SigningKey, claims_at};
use bearer_auth::{Access, Algorithm, TokenError, VerifierConfig};
use serde_json::{Value, json};

use crate::{AUDIENCE, quick_settings, ready, server_with_key, verifier_at};

/// The time every verifier and token of this file agrees on: 2033-05-18T03:33:20Z.
const NOW: u64 = 2_000_000_000;

fn b64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(value)
}

/// A token with `header` merged over the key's usual header (`null` removes a field).
fn with_header(key: &SigningKey, changes: Value, claims: &Value) -> String {
    let mut header = key.header();
    let Value::Object(changes) = changes else {
        panic!("header changes must be an object")
    };
    for (name, value) in changes {
        if value.is_null() {
            header.as_object_mut().expect("an object").remove(&name);
        } else {
            header[name] = value;
        }
    }
    key.sign(&header, claims)
}

#[tokio::test]
async fn crafted_tokens_are_accepted_or_refused_for_the_right_reason() {
    // Arrange: one published key, one unpublished key, one key published as RS384 only.
    let (server, key) = server_with_key("key-a").await;
    let stranger = SigningKey::generate("key-a");
    let rs384_key = SigningKey::generate("key-384");
    let mut rs384_jwk = rs384_key.jwk();
    rs384_jwk["alg"] = json!("RS384");
    server.set_raw_keys(vec![key.jwk(), rs384_jwk]);
    let verifier = verifier_at(&server, ManualClock::at(NOW));
    ready(&verifier).await;
    let issuer = server.issuer();
    let good = || claims_at(NOW, issuer, AUDIENCE, json!({}));
    let claims_with = |extra: Value| claims_at(NOW, issuer, AUDIENCE, extra);
    let valid = key.token_at(NOW, issuer, AUDIENCE, json!({}));
    let (header_part, rest) = valid.split_once('.').unwrap();
    let (payload_part, _) = rest.split_once('.').unwrap();
    let oversized = key.token_at(
        NOW,
        issuer,
        AUDIENCE,
        json!({ "padding": "x".repeat(17 * 1024) }),
    );

    let cases: Vec<(&str, String, Result<(), TokenError>)> = vec![
        ("valid", valid.clone(), Ok(())),
        (
            "aud as an array",
            key.token_at(
                NOW,
                issuer,
                AUDIENCE,
                json!({ "aud": ["http://other/", AUDIENCE] }),
            ),
            Ok(()),
        ),
        (
            "typ application/at+jwt",
            with_header(&key, json!({ "typ": "application/at+jwt" }), &good()),
            Ok(()),
        ),
        (
            "typ JWT (Auth0 default dialect)",
            with_header(&key, json!({ "typ": "JWT" }), &good()),
            Ok(()),
        ),
        (
            "typ in upper case",
            with_header(&key, json!({ "typ": "AT+JWT" }), &good()),
            Ok(()),
        ),
        (
            "exp just past, within leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": NOW - 10 })),
            Ok(()),
        ),
        (
            "exp past by exactly the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": NOW - 30 })),
            Ok(()),
        ),
        (
            "nbf just ahead, within leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "nbf": NOW + 10 })),
            Ok(()),
        ),
        (
            "nbf ahead by exactly the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "nbf": NOW + 30 })),
            Ok(()),
        ),
        (
            "iat ahead by exactly the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iat": NOW + 30 })),
            Ok(()),
        ),
        (
            "typ missing",
            with_header(&key, json!({ "typ": null }), &good()),
            Err(TokenError::TypeNotAccepted),
        ),
        (
            "typ of an ID token",
            with_header(&key, json!({ "typ": "id_token+jwt" }), &good()),
            Err(TokenError::TypeNotAccepted),
        ),
        (
            "signed by another key with our kid",
            stranger.token_at(NOW, issuer, AUDIENCE, json!({})),
            Err(TokenError::BadSignature),
        ),
        (
            "payload swapped after signing",
            format!(
                "{header_part}.{}.{}",
                b64(&claims_with(json!({ "sub": "admin" })).to_string()),
                valid.rsplit('.').next().unwrap()
            ),
            Err(TokenError::BadSignature),
        ),
        (
            "signature stripped",
            format!("{header_part}.{payload_part}."),
            Err(TokenError::BadSignature),
        ),
        (
            "alg none",
            format!(
                "{}.{payload_part}.",
                b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": "key-a" }).to_string())
            ),
            Err(TokenError::AlgorithmNotAllowed),
        ),
        (
            "alg HS256",
            with_header(&key, json!({ "alg": "HS256" }), &good()),
            Err(TokenError::AlgorithmNotAllowed),
        ),
        (
            "alg RS384 (not configured)",
            with_header(&key, json!({ "alg": "RS384" }), &good()),
            Err(TokenError::AlgorithmNotAllowed),
        ),
        (
            "alg PS256 (not configured)",
            with_header(&key, json!({ "alg": "PS256" }), &good()),
            Err(TokenError::AlgorithmNotAllowed),
        ),
        (
            "alg not a string",
            with_header(&key, json!({ "alg": 1 }), &good()),
            Err(TokenError::Malformed),
        ),
        (
            "jku header",
            with_header(&key, json!({ "jku": "https://evil.example/jwks" }), &good()),
            Err(TokenError::ForbiddenHeader("jku")),
        ),
        (
            "x5u header",
            with_header(&key, json!({ "x5u": "https://evil.example/cert" }), &good()),
            Err(TokenError::ForbiddenHeader("x5u")),
        ),
        (
            "jwk header",
            with_header(&key, json!({ "jwk": key.jwk() }), &good()),
            Err(TokenError::ForbiddenHeader("jwk")),
        ),
        (
            "x5c header",
            with_header(&key, json!({ "x5c": ["MIIB"] }), &good()),
            Err(TokenError::ForbiddenHeader("x5c")),
        ),
        (
            "crit header",
            with_header(&key, json!({ "crit": ["exp"], "exp": 1 }), &good()),
            Err(TokenError::CriticalHeader),
        ),
        (
            "crit b64 header",
            with_header(&key, json!({ "crit": ["b64"], "b64": true }), &good()),
            Err(TokenError::CriticalHeader),
        ),
        (
            "kid missing",
            with_header(&key, json!({ "kid": null }), &good()),
            Err(TokenError::MissingKeyId),
        ),
        (
            "kid unknown",
            with_header(&key, json!({ "kid": "made-up" }), &good()),
            Err(TokenError::UnknownKey),
        ),
        (
            "key published for RS384 only",
            rs384_key.token_at(NOW, issuer, AUDIENCE, json!({})),
            Err(TokenError::AlgorithmMismatch),
        ),
        (
            "expired",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": NOW - 120 })),
            Err(TokenError::Expired),
        ),
        (
            "exp past by one second more than the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": NOW - 31 })),
            Err(TokenError::Expired),
        ),
        (
            "nbf in the future",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "nbf": NOW + 120 })),
            Err(TokenError::NotYetValid),
        ),
        (
            "nbf ahead by one second more than the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "nbf": NOW + 31 })),
            Err(TokenError::NotYetValid),
        ),
        (
            "nbf as a string",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "nbf": "now" })),
            Err(TokenError::InvalidClaim("nbf")),
        ),
        (
            "iat in the future",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iat": NOW + 120 })),
            Err(TokenError::IssuedInFuture),
        ),
        (
            "iat ahead by one second more than the leeway",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iat": NOW + 31 })),
            Err(TokenError::IssuedInFuture),
        ),
        (
            "another issuer",
            key.token_at(
                NOW,
                issuer,
                AUDIENCE,
                json!({ "iss": "https://evil.example/" }),
            ),
            Err(TokenError::WrongIssuer),
        ),
        (
            "our issuer without its trailing slash",
            key.token_at(
                NOW,
                issuer,
                AUDIENCE,
                json!({ "iss": issuer.as_str().trim_end_matches('/') }),
            ),
            Err(TokenError::WrongIssuer),
        ),
        (
            "the MCP server's audience",
            key.token_at(NOW, issuer, "http://localhost:3001/", json!({})),
            Err(TokenError::WrongAudience),
        ),
        (
            "an audience array without ours",
            key.token_at(
                NOW,
                issuer,
                AUDIENCE,
                json!({ "aud": ["http://localhost:3001/", "https://x/userinfo"] }),
            ),
            Err(TokenError::WrongAudience),
        ),
        (
            "iss missing",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iss": null })),
            Err(TokenError::MissingClaim("iss")),
        ),
        (
            "aud missing",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "aud": null })),
            Err(TokenError::MissingClaim("aud")),
        ),
        (
            "exp missing",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": null })),
            Err(TokenError::MissingClaim("exp")),
        ),
        (
            "iat missing",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iat": null })),
            Err(TokenError::MissingClaim("iat")),
        ),
        (
            "sub missing",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "sub": null })),
            Err(TokenError::MissingClaim("sub")),
        ),
        // jsonwebtoken counts a non-numeric exp as absent.
        (
            "exp as a string",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "exp": "tomorrow" })),
            Err(TokenError::MissingClaim("exp")),
        ),
        (
            "iat as a string",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "iat": "today" })),
            Err(TokenError::InvalidClaim("iat")),
        ),
        (
            "sub as a number",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "sub": 42 })),
            Err(TokenError::MissingClaim("sub")),
        ),
        (
            "scope as an array",
            key.token_at(NOW, issuer, AUDIENCE, json!({ "scope": ["read:private"] })),
            Err(TokenError::InvalidClaim("scope")),
        ),
        (
            "permissions as a string",
            key.token_at(
                NOW,
                issuer,
                AUDIENCE,
                json!({ "permissions": "read:private" }),
            ),
            Err(TokenError::InvalidClaim("permissions")),
        ),
        ("one part", "abc".to_owned(), Err(TokenError::Malformed)),
        (
            "two parts",
            "abc.def".to_owned(),
            Err(TokenError::Malformed),
        ),
        (
            "five parts (JWE)",
            "a.b.c.d.e".to_owned(),
            Err(TokenError::Malformed),
        ),
        (
            "header not base64url",
            format!("!!!.{payload_part}.sig"),
            Err(TokenError::Malformed),
        ),
        (
            "header padded",
            format!("{header_part}=.{payload_part}.sig"),
            Err(TokenError::Malformed),
        ),
        (
            "header not JSON",
            format!("{}.{payload_part}.sig", b64("not json")),
            Err(TokenError::Malformed),
        ),
        (
            "header a JSON array",
            format!("{}.{payload_part}.sig", b64("[1,2]")),
            Err(TokenError::Malformed),
        ),
        (
            "payload not base64url, signed",
            key.sign_message(&format!("{header_part}.!!!")),
            Err(TokenError::Malformed),
        ),
        (
            "payload not JSON, signed",
            key.sign_message(&format!("{header_part}.{}", b64("nope"))),
            Err(TokenError::Malformed),
        ),
        ("over 16 KiB", oversized, Err(TokenError::TooLarge)),
    ];

    // Act and assert, reporting every mismatch at once.
    let mut failures = Vec::new();
    for (name, token, expected) in &cases {
        let got = verifier.verify(token).await.map(|_| ());
        if &got != expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_verified_token_carries_its_typed_claims() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    let verifier = verifier_at(&server, ManualClock::at(NOW));
    ready(&verifier).await;
    let exp = NOW + 300;
    let token = key.token_at(
        NOW,
        server.issuer(),
        AUDIENCE,
        json!({ "sub": "auth0|admin", "scope": "openid  read:private", "permissions": ["tool:greet"], "client_id": null, "azp": "mcp-server-client", "exp": exp }),
    );

    // Act
    let verified = verifier.verify(&token).await.expect("valid token");

    // Assert
    assert_eq!(verified.subject, "auth0|admin");
    assert_eq!(verified.scopes, ["openid", "read:private"]);
    assert_eq!(verified.permissions, Some(vec!["tool:greet".to_owned()]));
    assert_eq!(verified.client_id.as_deref(), Some("mcp-server-client"));
    assert_eq!(verified.expires_at, exp);
    assert_eq!(verified.claims["azp"], "mcp-server-client");
    // Only `scope` grants; `permissions` says the user could consent to tool:greet.
    assert_eq!(verified.access("read:private"), Access::Granted);
    assert_eq!(verified.access("tool:greet"), Access::NeedsConsent);
    assert_eq!(verified.access("tool:whoami"), Access::NotPermitted);
    assert_eq!(verified.access("read"), Access::NotPermitted);
}

#[tokio::test]
async fn hmac_and_mismatched_families_are_refused_even_when_configured() {
    // Arrange: a configuration that (wrongly) lists HS256 and also allows ES256.
    let (server, key) = server_with_key("key-a").await;
    let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
    config.algorithms = vec![Algorithm::RS256, Algorithm::HS256, Algorithm::ES256];
    config.jwks = quick_settings();
    config.clock = ManualClock::at(NOW);
    let verifier = bearer_auth::Verifier::new(config, reqwest::Client::new());
    ready(&verifier).await;
    let claims = claims_at(NOW, server.issuer(), AUDIENCE, json!({}));

    // Act
    let hs256 = verifier
        .verify(&with_header(&key, json!({ "alg": "HS256" }), &claims))
        .await;
    let es256_on_rsa_key = verifier
        .verify(&with_header(&key, json!({ "alg": "ES256" }), &claims))
        .await;
    let rs256 = verifier.verify(&key.sign(&key.header(), &claims)).await;

    // Assert
    assert_eq!(hs256.unwrap_err(), TokenError::AlgorithmNotAllowed);
    assert_eq!(es256_on_rsa_key.unwrap_err(), TokenError::AlgorithmMismatch);
    assert!(rs256.is_ok());
}

#[test]
fn reasons_are_stable_metric_labels() {
    assert_eq!(TokenError::Expired.reason(), "expired");
    assert_eq!(TokenError::UnknownKey.reason(), "unknown_kid");
    assert_eq!(TokenError::WrongAudience.reason(), "wrong_audience");
    assert_eq!(TokenError::KeysUnavailable.reason(), "keys_unavailable");
}
