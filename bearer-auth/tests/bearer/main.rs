//! Integration tests of bearer-auth against a real (tiny) issuer on 127.0.0.1:0:
//! a table of crafted tokens, the key cache's behaviour, the discovery fetch, and the axum
//! layer over HTTP.

mod discovery;
mod keys;
mod layer;
mod table;

use std::sync::Arc;
use std::time::Duration;

use bearer_auth::testkit::{KeyServer, ManualClock, SigningKey};
use bearer_auth::{JwksSettings, Verifier, VerifierConfig};

/// The audience every test verifier expects.
pub const AUDIENCE: &str = "http://localhost:8787/";

/// A verifier for `server`'s issuer and [`AUDIENCE`], with `jwks` settings.
pub fn verifier(server: &KeyServer, jwks: JwksSettings) -> Verifier {
    let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
    config.jwks = jwks;
    Verifier::new(config, reqwest::Client::new())
}

/// A verifier for `server`'s issuer and [`AUDIENCE`] whose "now" is `clock`, with
/// [`quick_settings`].
pub fn verifier_at(server: &KeyServer, clock: Arc<ManualClock>) -> Verifier {
    let mut config = VerifierConfig::new(server.issuer().clone(), AUDIENCE);
    config.jwks = quick_settings();
    config.clock = clock;
    Verifier::new(config, reqwest::Client::new())
}

/// Settings with quick retries so cold-start tests finish fast.
pub fn quick_settings() -> JwksSettings {
    JwksSettings {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(100),
        fetch_timeout: Duration::from_secs(2),
        ..JwksSettings::default()
    }
}

/// Waits (bounded) until the verifier has keys.
pub async fn ready(verifier: &Verifier) {
    tokio::time::timeout(Duration::from_secs(10), verifier.ready())
        .await
        .expect("keys load within 10 s");
}

/// A server publishing one fresh key, plus that key.
pub async fn server_with_key(kid: &str) -> (KeyServer, SigningKey) {
    let key = SigningKey::generate(kid);
    let server = KeyServer::start(&[&key]).await;
    (server, key)
}
