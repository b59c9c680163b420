//! The exchange cache's shared tier: several MCP server replicas (greeters built as the
//! server builds them, each with its own metrics and local cache) share one real
//! `redis-server` (Debian's `redis-server`), one real fake-auth0 and the real upstream API.
//! fake-auth0 counts the exchanges it answers (`/_control/stats`), so "one exchange per
//! subject token" is read where Auth0 would bill it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bearer_auth::{Issuer, VerifiedToken, Verifier, VerifierConfig};
use mcp_server::greet::Greeter;
use mcp_server::metrics::Metrics;
use mcp_server::shared_state::{RedisUrl, SharedState, SharedStateSettings};
use redis::AsyncCommands as _;
use stack::redis::RedisServer;
use stack::{DemoUser, TestStack};
use tokio::task::JoinSet;
use url::Url;

const CONTROL_TOKEN: &str = "shared-tier-test-control-token";

/// One fake-auth0 (with its control surface) and upstream API, one Redis, and replicas.
struct Replicas {
    stack: TestStack,
    redis: RedisServer,
    verifier: Verifier,
}

/// A directory of its own per test, short enough for a Unix socket path.
fn redis_dir() -> std::path::PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "mcp-shared-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Replicas {
    async fn start() -> Replicas {
        let stack = TestStack::builder()
            .idp_config(|config| {
                config.control = true;
                config.control_token = Some(fake_auth0::ControlToken::new(CONTROL_TOKEN));
            })
            .start()
            .await
            .expect("the stack starts");
        let redis = RedisServer::start(redis_dir())
            .await
            .expect("redis-server starts");
        let verifier = Verifier::new(
            VerifierConfig::new(
                Issuer::from_auth0_domain(stack.idp_url.as_str()).unwrap(),
                stack.mcp_url.as_str(),
            ),
            reqwest::Client::new(),
        );
        verifier.ready().await;
        Replicas {
            stack,
            redis,
            verifier,
        }
    }

    /// The server's configuration for this stack, with the shared tier on our Redis.
    fn config(&self) -> mcp_server::Config {
        mcp_server::Config {
            issuer: Issuer::from_auth0_domain(self.stack.idp_url.as_str()).unwrap(),
            audience: self.stack.mcp_url.to_string(),
            api_audience: self.stack.upstream_url.to_string(),
            api_base_url: Url::parse(self.stack.upstream_url.as_str()).unwrap(),
            redis_url: Some(RedisUrl::parse(&self.redis.url()).unwrap()),
            ..mcp_server::Config::default()
        }
    }

    /// One replica as `App` builds it: its own metrics, local cache and Redis connection.
    fn replica_with(&self, config: &mcp_server::Config) -> (Greeter, Metrics) {
        let metrics = Metrics::new();
        let settings = SharedStateSettings::new(config.redis_url.clone().unwrap());
        let shared = SharedState::connect(&settings, &metrics).unwrap();
        let greeter = Greeter::new(config, &[], metrics.clone(), Some(&shared)).unwrap();
        (greeter, metrics)
    }

    fn replicas(&self, n: usize) -> Vec<(Greeter, Metrics)> {
        let config = self.config();
        (0..n).map(|_| self.replica_with(&config)).collect()
    }

    /// A fresh subject token for admin (every login mints another).
    async fn login(&self) -> (String, VerifiedToken) {
        let token = self.stack.token_for(DemoUser::Admin).await.unwrap();
        let verified = self.verifier.verify(&token).await.unwrap();
        (token, verified)
    }

    /// Token exchanges fake-auth0 has answered with a token.
    async fn exchanges_at_the_idp(&self) -> u64 {
        let stats: serde_json::Value = self
            .stack
            .http()
            .get(format!("{}_control/stats", self.stack.idp_url))
            .bearer_auth(CONTROL_TOKEN)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["token_exchanges"].as_u64().expect("a count")
    }

    /// Every key in Redis with its value.
    async fn dump(&self) -> Vec<(String, Vec<u8>)> {
        let client = redis::Client::open(self.redis.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut connection)
            .await
            .unwrap();
        let mut dump = Vec::new();
        for key in keys {
            let value: Vec<u8> = connection.get(&key).await.unwrap();
            dump.push((key, value));
        }
        dump
    }
}

/// The value of an unlabelled metric, or of one with exactly `labels`.
fn metric(metrics: &Metrics, name_and_labels: &str) -> f64 {
    let prefix = format!("{name_and_labels} ");
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map_or(0.0, |value| value.parse().unwrap())
}

fn shared_lookups(metrics: &Metrics, result: &str) -> f64 {
    metric(
        metrics,
        &format!("mcp_exchange_shared_cache_requests_total{{result=\"{result}\"}}"),
    )
}

/// Polls `condition` every 20 ms until it holds, failing past `within`.
async fn eventually(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn three_replicas_exchange_each_subject_token_once_between_them() {
    // Arrange
    let replicas = Replicas::start().await;
    let group = replicas.replicas(3);
    let first = replicas.login().await;
    let second = replicas.login().await;
    let before = replicas.exchanges_at_the_idp().await;

    // Act: each token greets through every replica, twice round.
    for (token, caller) in [&first, &second] {
        for _ in 0..2 {
            for (greeter, _) in &group {
                let out = greeter.greet(caller, token, None).await.unwrap();
                assert_eq!(out.upstream["sub"], serde_json::json!(caller.subject));
            }
        }
    }

    // Assert: one exchange per subject token at the IdP; the other replicas found it in
    // Redis (once each), then in their local cache.
    assert_eq!(replicas.exchanges_at_the_idp().await - before, 2);
    let (hits, misses): (f64, f64) = group
        .iter()
        .map(|(_, m)| (shared_lookups(m, "hit"), shared_lookups(m, "miss")))
        .fold((0.0, 0.0), |(h, m), (dh, dm)| (h + dh, m + dm));
    assert_eq!((hits, misses), (4.0, 2.0));
    for (_, metrics) in &group {
        assert_eq!(metric(metrics, "mcp_shared_state_up"), 1.0);
    }
}

#[tokio::test]
async fn concurrent_first_greets_on_every_replica_share_one_exchange() {
    // Arrange
    let replicas = Replicas::start().await;
    let group = replicas.replicas(3);
    let (token, caller) = replicas.login().await;
    let before = replicas.exchanges_at_the_idp().await;

    // Act: ten concurrent greets on each of the three replicas, all with the fresh token.
    let mut calls = JoinSet::new();
    for _ in 0..10 {
        for (greeter, _) in &group {
            let (greeter, token, caller) = (greeter.clone(), token.clone(), caller.clone());
            calls.spawn(async move { greeter.greet(&caller, &token, None).await });
        }
    }
    let results = calls.join_all().await;

    // Assert
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(replicas.exchanges_at_the_idp().await - before, 1);
}

#[tokio::test]
async fn redis_holds_no_token_secret_or_claim_in_clear_text() {
    // Arrange: two users' worth of entries.
    let replicas = Replicas::start().await;
    let group = replicas.replicas(2);
    let mut secrets = vec![
        contract::MCP_SERVER_CLIENT_SECRET.to_owned(),
        DemoUser::Admin.email().to_owned(),
    ];
    for _ in 0..2 {
        let (token, caller) = replicas.login().await;
        let exchanged = group[0]
            .0
            .exchanger()
            .exchange(&token, caller.expires_at)
            .await
            .unwrap();
        // The second replica reads it back from Redis.
        group[1].0.greet(&caller, &token, None).await.unwrap();
        secrets.push(exchanged.access_token.secret().to_owned());
        secrets.push(token);
        secrets.push(caller.subject.clone());
    }

    // Act
    let dump = replicas.dump().await;

    // Assert: two entries (the locks are released), and no 12-character piece of any token,
    // secret, sub or e-mail in a key or a value.
    let tokens = dump
        .iter()
        .filter(|(key, _)| key.contains(":token:"))
        .count();
    assert_eq!(
        tokens,
        2,
        "{:?}",
        dump.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    let stored: Vec<u8> = dump
        .iter()
        .flat_map(|(key, value)| [key.as_bytes(), b"\n", value, b"\n"].concat())
        .collect();
    for secret in &secrets {
        let piece_len = secret.len().min(12);
        for start in 0..=secret.len() - piece_len {
            let piece = &secret.as_bytes()[start..start + piece_len];
            assert!(
                !stored.windows(piece_len).any(|w| w == piece),
                "a piece of a secret is stored in clear: {:?}",
                String::from_utf8_lossy(piece)
            );
        }
    }
}

#[tokio::test]
async fn stopping_redis_mid_run_fails_no_call_and_the_tier_recovers_by_itself() {
    // Arrange
    let mut replicas = Replicas::start().await;
    let group = replicas.replicas(2);
    let (token, caller) = replicas.login().await;
    for (greeter, _) in &group {
        greeter.greet(&caller, &token, None).await.unwrap();
    }

    // Act: greets go on (fresh tokens, so every one needs an exchange) while Redis is killed.
    let mut failures = Vec::new();
    for round in 0..6 {
        if round == 2 {
            replicas.redis.stop().await.unwrap();
        }
        let (token, caller) = replicas.login().await;
        for (greeter, _) in &group {
            if let Err(error) = greeter.greet(&caller, &token, None).await {
                failures.push(error);
            }
        }
    }

    // Assert: no failed call, and the metrics say the shared tier is down.
    assert!(failures.is_empty(), "{failures:?}");
    for (_, metrics) in &group {
        assert_eq!(metric(metrics, "mcp_shared_state_up"), 0.0);
        assert!(shared_lookups(metrics, "unavailable") >= 1.0);
    }

    // Act: Redis comes back (empty, on the same socket).
    replicas.redis.restart().await.unwrap();

    // Assert: both replicas notice by themselves, and share exchanges again.
    for (_, metrics) in &group {
        eventually(
            "the shared state is up again",
            Duration::from_secs(10),
            || metric(metrics, "mcp_shared_state_up") == 1.0,
        )
        .await;
    }
    let (token, caller) = replicas.login().await;
    let before = replicas.exchanges_at_the_idp().await;
    for (greeter, _) in &group {
        greeter.greet(&caller, &token, None).await.unwrap();
    }
    assert_eq!(replicas.exchanges_at_the_idp().await - before, 1);
    assert!(shared_lookups(&group[1].1, "hit") >= 1.0);
}

#[tokio::test]
async fn a_lock_left_by_a_gone_replica_holds_a_call_no_longer_than_the_exchange_timeout() {
    // Arrange: replica A exchanges and writes the entry; then the entry is gone and its lock
    // is held for a minute, as by a replica that died while exchanging.
    let replicas = Replicas::start().await;
    let config = mcp_server::Config {
        exchange_timeout: Duration::from_secs(1),
        ..replicas.config()
    };
    let (first, _) = replicas.replica_with(&config);
    let (token, caller) = replicas.login().await;
    first.greet(&caller, &token, None).await.unwrap();
    let client = redis::Client::open(replicas.redis.url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*:token:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    let [entry] = keys.as_slice() else {
        panic!("one entry expected: {keys:?}")
    };
    let lock = entry.replace(":token:", ":lock:");
    let _: () = redis.del(entry).await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(&lock)
        .arg("a-gone-replica")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut redis)
        .await
        .unwrap();
    let before = replicas.exchanges_at_the_idp().await;

    // Act: a second replica (empty local cache) greets with the same token.
    let (second, _) = replicas.replica_with(&config);
    let greeted =
        tokio::time::timeout(Duration::from_secs(10), second.greet(&caller, &token, None)).await;

    // Assert: it answered (after waiting at most the configured 1 s, then exchanging itself;
    // checked with a generous deadline) and left the other replica's lock alone.
    greeted.expect("the lock held the call").unwrap();
    assert_eq!(replicas.exchanges_at_the_idp().await - before, 1);
    let owner: Option<String> = redis.get(&lock).await.unwrap();
    assert_eq!(owner.as_deref(), Some("a-gone-replica"));
}
