//! What the exchange cache's shared tier (Redis) costs and saves, on a real `redis-server`
//! on a Unix socket (Debian's package `redis-server`) and an in-process stand-in IdP:
//!
//! - a **local hit** (the reference: the token in this replica's cache);
//! - a **shared hit**: a local miss answered from Redis (what a replica pays for a token
//!   another replica exchanged), so the added latency of a Redis hit over a local hit is
//!   the difference of the two;
//! - a **cache miss** with and without the shared tier: a never-seen token exchanged at the
//!   stand-in IdP, alone or with the tier's read, lock, write and release around it; one at a
//!   time, so exchanges per second is the inverse.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_server::exchange::TokenExchanger;
use mcp_server::metrics::Metrics;
use mcp_server::shared_state::{RedisUrl, SharedState, SharedStateSettings};
use stack::redis::RedisServer;
use url::Url;

mod support;
use support::{exchange_config, stand_in_idp, subject_token};

/// Where the never-seen tokens of the two miss benchmarks start, apart from the pool and
/// from each other.
const LOCAL_MISSES_FROM: usize = 1_000_000_000;
const SHARED_MISSES_FROM: usize = 2_000_000_000;

/// Tokens exchanged into Redis ahead of the shared-hit benchmark; a fresh replica (empty
/// local cache) starts over them when they are used up, outside the timed part.
const SHARED_POOL: usize = 4_000;

/// One replica's exchanger: with the shared tier on `redis` when given.
fn replica(issuer: &Url, redis: Option<&str>) -> TokenExchanger {
    let mut config = exchange_config(issuer);
    let metrics = Metrics::new();
    config.shared_state = redis.map(|url| {
        let settings = SharedStateSettings::new(RedisUrl::parse(url).unwrap());
        SharedState::connect(&settings, &metrics).unwrap()
    });
    TokenExchanger::new(config, metrics).unwrap()
}

fn shared_tier(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A replica's Redis connection and probe are spawned on the runtime it is built in.
    let _in_runtime = runtime.enter();
    let expires_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let dir = std::env::temp_dir().join(format!("mcp-bench-redis-{}", std::process::id()));
    let (redis, issuer) = runtime.block_on(async {
        let redis = RedisServer::start(&dir).await.expect("redis-server starts");
        (redis, stand_in_idp().await)
    });
    let url = redis.url();

    // The pool of tokens another replica already exchanged into Redis.
    let pool: Vec<String> = (0..SHARED_POOL).map(subject_token).collect();
    runtime.block_on(async {
        let writer = replica(&issuer, Some(&url));
        for token in &pool {
            writer.exchange(token, expires_at).await.unwrap();
        }
    });

    let mut group = c.benchmark_group("exchange cache tiers (984-byte subject token)");

    let local = replica(&issuer, Some(&url));
    runtime.block_on(async { local.exchange(&pool[0], expires_at).await.unwrap() });
    group.bench_function("local hit", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                local
                    .exchange(black_box(&pool[0]), expires_at)
                    .await
                    .unwrap(),
            )
        });
    });

    group.bench_function("shared hit (local miss, Redis hit)", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut timed = Duration::ZERO;
                let mut reader = replica(&issuer, Some(&url));
                let mut cursor = 0;
                for _ in 0..iters {
                    if cursor == pool.len() {
                        // Every pooled token is in this replica's cache now: a fresh one.
                        reader = replica(&issuer, Some(&url));
                        cursor = 0;
                    }
                    let started = Instant::now();
                    black_box(reader.exchange(&pool[cursor], expires_at).await.unwrap());
                    timed += started.elapsed();
                    cursor += 1;
                }
                timed
            })
        });
    });

    for (name, first_token, redis) in [
        (
            "miss, local cache only (IdP exchange)",
            LOCAL_MISSES_FROM,
            None,
        ),
        (
            "miss, with the shared tier (Redis miss, lock, IdP exchange, write)",
            SHARED_MISSES_FROM,
            Some(url.as_str()),
        ),
    ] {
        let exchanger = replica(&issuer, redis);
        let mut next = first_token;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let tokens: Vec<String> = (0..iters as usize)
                        .map(|n| subject_token(next + n))
                        .collect();
                    next += tokens.len();
                    let started = Instant::now();
                    for token in &tokens {
                        black_box(exchanger.exchange(token, expires_at).await.unwrap());
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, shared_tier);
criterion_main!(benches);
