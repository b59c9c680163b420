//! What a `greet` pays for the token exchange when the token is already cached: hashing
//! the subject token into the cache key and one moka lookup. The target is ≤ 2 µs.
//!
//! The cache is primed with one real exchange against an in-process stand-in IdP (a
//! discovery document and a token endpoint), so the measured path is exactly the one
//! `TokenExchanger::exchange` takes on a hit.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_server::exchange::TokenExchanger;
use mcp_server::metrics::Metrics;

mod support;
use support::{exchange_config, stand_in_idp, subject_token};

fn cache_hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let expires_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let exchanger = runtime.block_on(async {
        let issuer = stand_in_idp().await;
        let exchanger = TokenExchanger::new(exchange_config(&issuer), Metrics::new()).unwrap();
        // A cache holding many users, as a busy server's would.
        for user in 0..1000 {
            exchanger
                .exchange(&subject_token(user), expires_at)
                .await
                .unwrap();
        }
        exchanger
    });
    let token = subject_token(500);
    assert_eq!(token.len(), 984);

    c.bench_function(
        "exchange cache hit (984-byte subject token, 1000 entries)",
        |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(
                    exchanger
                        .exchange(black_box(&token), expires_at)
                        .await
                        .unwrap(),
                )
            });
        },
    );
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
