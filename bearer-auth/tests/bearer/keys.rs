//! The key cache: cold start, rotation, removal, floods of unknown kids, IdP outages, and
//! the verified-token cache. Every wait is on a counter (fetches or key loads) with a
//! deadline, never a bare sleep; a token's expiry is reached by moving a [`ManualClock`].

use std::time::{Duration, Instant};

use bearer_auth::testkit::{ManualClock, SigningKey};
use bearer_auth::{JwksSettings, TokenError, Verifier, VerifierConfig};
use serde_json::json;

use crate::{AUDIENCE, quick_settings, ready, server_with_key, verifier};

/// Waits until the verifier has loaded keys `count` times in all.
async fn key_loads(verifier: &Verifier, count: u64) {
    let mut generation = verifier.key_generation();
    tokio::time::timeout(
        Duration::from_secs(10),
        generation.wait_for(|g| *g >= count),
    )
    .await
    .expect("key loads within 10 s")
    .expect("the verifier is alive");
}

fn loads(verifier: &Verifier) -> u64 {
    *verifier.key_generation().borrow()
}

#[tokio::test]
async fn a_cold_start_while_the_idp_is_down_is_not_ready_and_answers_at_once() {
    // Arrange: the IdP is down before the verifier starts.
    let (server, key) = server_with_key("key-a").await;
    server.set_down(true);
    let verifier = verifier(&server, quick_settings());
    let token = key.token(server.issuer(), AUDIENCE, json!({}));

    // Act: let discovery fail a few times.
    server.wait_for_discovery_fetches(3).await;
    let started = Instant::now();
    let refused = verifier.verify(&token).await;

    // Assert: not ready, refused promptly with the 503 error, and recovers once the IdP is up.
    assert!(!verifier.is_ready());
    assert_eq!(refused.unwrap_err(), TokenError::KeysUnavailable);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
    server.set_down(false);
    ready(&verifier).await;
    assert!(verifier.is_ready());
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_never_trusted() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    server.set_discovery_issuer("https://evil.example/");
    let verifier = verifier(&server, quick_settings());

    // Act
    server.wait_for_discovery_fetches(3).await;

    // Assert: the JWKS was never even fetched.
    assert!(!verifier.is_ready());
    assert_eq!(server.jwks_fetches(), 0);
    let token = key.token(server.issuer(), AUDIENCE, json!({}));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::KeysUnavailable
    );
}

#[tokio::test]
async fn an_oversized_jwks_is_refused() {
    // Arrange: a JWKS of about 40 KiB against a 16 KiB limit.
    let (server, _key) = server_with_key("key-a").await;
    let big = SigningKey::generate("k");
    let mut raw = Vec::new();
    for i in 0..100 {
        let mut jwk = big.jwk();
        jwk["kid"] = json!(format!("k{i}"));
        raw.push(jwk);
    }
    server.set_raw_keys(raw);
    let verifier = verifier(
        &server,
        JwksSettings {
            max_response_bytes: 16 * 1024,
            ..quick_settings()
        },
    );

    // Act
    server.wait_for_jwks_fetches(3).await;

    // Assert
    assert!(!verifier.is_ready());
}

#[tokio::test]
async fn a_new_kid_is_accepted_after_exactly_one_refetch() {
    // Arrange
    let (server, old_key) = server_with_key("key-old").await;
    let verifier = verifier(&server, quick_settings());
    ready(&verifier).await;
    assert_eq!(server.jwks_fetches(), 1);
    let new_key = SigningKey::generate("key-new");
    server.set_keys(&[&old_key, &new_key]);

    // Act
    let first = verifier
        .verify(&new_key.token(server.issuer(), AUDIENCE, json!({})))
        .await;
    let second = verifier
        .verify(&new_key.token(server.issuer(), AUDIENCE, json!({})))
        .await;

    // Assert
    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(server.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_removed_key_is_refused_after_max_age() {
    // Arrange: refresh every 150 ms (three quarters of max_age).
    let (server, old_key) = server_with_key("key-old").await;
    let settings = JwksSettings {
        max_age: Duration::from_millis(200),
        ..quick_settings()
    };
    let verifier = verifier(&server, settings);
    ready(&verifier).await;
    let old_token = old_key.token(server.issuer(), AUDIENCE, json!({}));
    assert!(verifier.verify(&old_token).await.is_ok());
    let new_key = SigningKey::generate("key-new");

    // Act: rotate, then wait for two more loads; the second surely started after the swap.
    server.set_keys(&[&new_key]);
    let loaded = loads(&verifier);
    key_loads(&verifier, loaded + 2).await;

    // Assert
    assert_eq!(
        verifier.verify(&old_token).await.unwrap_err(),
        TokenError::UnknownKey
    );
    assert!(
        verifier
            .verify(&new_key.token(server.issuer(), AUDIENCE, json!({})))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_causes_at_most_one_fetch_per_cooldown() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    let settings = JwksSettings {
        unknown_kid_cooldown: Duration::from_secs(60),
        ..quick_settings()
    };
    let verifier = verifier(&server, settings);
    ready(&verifier).await;
    assert_eq!(server.jwks_fetches(), 1);
    let forged: Vec<String> = (0..200)
        .map(|i| {
            let mut header = key.header();
            header["kid"] = json!(format!("made-up-{i}"));
            key.sign(
                &header,
                &bearer_auth::testkit::claims(server.issuer(), AUDIENCE, json!({})),
            )
        })
        .collect();

    // Act: two waves of 200 concurrent requests with made-up kids.
    for _wave in 0..2 {
        let tasks: Vec<_> = forged
            .iter()
            .cloned()
            .map(|token| {
                let verifier = verifier.clone();
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap_err(), TokenError::UnknownKey);
        }
    }

    // Assert: one refetch in all, and real tokens still pass.
    assert_eq!(server.jwks_fetches(), 2);
    assert!(
        verifier
            .verify(&key.token(server.issuer(), AUDIENCE, json!({})))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_jwks_endpoint_is_down() {
    // Arrange: refreshes every 75 ms, all failing once the IdP goes down.
    let (server, key) = server_with_key("key-a").await;
    let settings = JwksSettings {
        max_age: Duration::from_millis(100),
        ..quick_settings()
    };
    let verifier = verifier(&server, settings);
    ready(&verifier).await;

    // Act
    server.set_down(true);
    let fetches = server.jwks_fetches();
    server.wait_for_jwks_fetches(fetches + 3).await;

    // Assert
    assert!(verifier.is_ready());
    assert!(
        verifier
            .verify(&key.token(server.issuer(), AUDIENCE, json!({})))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn keys_older_than_max_stale_are_dropped_while_the_idp_stays_down() {
    // Arrange
    let (server, key) = server_with_key("key-a").await;
    let settings = JwksSettings {
        max_age: Duration::from_millis(100),
        max_stale: Duration::from_millis(300),
        ..quick_settings()
    };
    let verifier = verifier(&server, settings);
    ready(&verifier).await;
    let token = key.token(server.issuer(), AUDIENCE, json!({}));

    // Act: with the IdP down, poll readiness (bounded) until the keys age out.
    server.set_down(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while verifier.is_ready() {
        assert!(Instant::now() < deadline, "keys never aged out");
        let fetches = server.jwks_fetches();
        server.wait_for_jwks_fetches(fetches + 1).await;
    }

    // Assert
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::KeysUnavailable
    );
    server.set_down(false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !verifier.is_ready() {
        assert!(Instant::now() < deadline, "keys never came back");
        let fetches = server.jwks_fetches();
        server.wait_for_jwks_fetches(fetches + 1).await;
    }
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn an_idp_that_never_answers_cannot_make_requests_hang() {
    // Arrange: the IdP accepts connections but never answers; fetches time out after 300 ms.
    let (server, key) = server_with_key("key-a").await;
    server.set_hanging(true);
    let settings = JwksSettings {
        fetch_timeout: Duration::from_millis(300),
        ..quick_settings()
    };
    let verifier = verifier(&server, settings);
    server.wait_for_discovery_fetches(1).await;
    let token = key.token(server.issuer(), AUDIENCE, json!({}));

    // Act: a cold start answers at once; no request waits for the hanging discovery.
    let started = Instant::now();
    let cold = verifier.verify(&token).await;
    let cold_elapsed = started.elapsed();

    // Assert
    assert_eq!(cold.unwrap_err(), TokenError::KeysUnavailable);
    assert!(
        cold_elapsed < Duration::from_millis(200),
        "took {cold_elapsed:?}"
    );
    assert!(!verifier.is_ready());

    // Arrange: the IdP answers once, then hangs again.
    server.set_hanging(false);
    ready(&verifier).await;
    server.set_hanging(true);
    let mut header = key.header();
    header["kid"] = json!("unknown");
    let unknown = key.sign(
        &header,
        &bearer_auth::testkit::claims(server.issuer(), AUDIENCE, json!({})),
    );

    // Act: an unknown kid waits for at most one bounded refetch.
    let started = Instant::now();
    let refused = verifier.verify(&unknown).await;
    let elapsed = started.elapsed();

    // Assert
    assert_eq!(refused.unwrap_err(), TokenError::UnknownKey);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_repeated_token_gets_the_same_answer_as_its_first_verification() {
    // Arrange: one verifier remembering tokens (the default), one verifying every time.
    let (server, key) = server_with_key("key-1").await;
    let remembering = verifier(&server, quick_settings());
    let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
    config.jwks = quick_settings();
    config.verified_cache_capacity = 0;
    let forgetful = Verifier::new(config, reqwest::Client::new());
    ready(&remembering).await;
    ready(&forgetful).await;
    let token = key.token(
        server.issuer(),
        AUDIENCE,
        json!({ "scope": "read:private" }),
    );

    // Act
    let first = remembering.verify(&token).await.expect("valid");
    let again = remembering.verify(&token).await.expect("still valid");
    let uncached = forgetful.verify(&token).await.expect("valid");

    // Assert
    assert_eq!(first, again);
    assert_eq!(first, uncached);
    assert!(again.access("read:private").is_granted());
}

#[tokio::test]
async fn a_remembered_token_is_refused_once_it_expires() {
    // Arrange: no leeway, a clock standing still, a token that expires in one minute.
    let (server, key) = server_with_key("key-1").await;
    let clock = ManualClock::at(1_900_000_000);
    let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
    config.jwks = quick_settings();
    config.leeway = Duration::ZERO;
    config.clock = clock.clone();
    let verifier = Verifier::new(config, reqwest::Client::new());
    ready(&verifier).await;
    let token = key.token_at(
        1_900_000_000,
        server.issuer(),
        AUDIENCE,
        json!({ "exp": 1_900_000_060 }),
    );
    assert!(verifier.verify(&token).await.is_ok(), "valid before exp");

    // Act: a minute passes; the token is now remembered, and at its last valid second.
    clock.advance(Duration::from_secs(60));
    let at_exp = verifier.verify(&token).await;
    clock.advance(Duration::from_secs(1));
    let after_exp = verifier.verify(&token).await;

    // Assert: the remembered verification does not outlive the token.
    assert!(at_exp.is_ok(), "exp itself is still valid: {at_exp:?}");
    assert_eq!(after_exp.unwrap_err(), TokenError::Expired);
}
