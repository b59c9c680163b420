//! Test support (feature `testkit`): signing keys that mint crafted tokens, a tiny
//! issuer that serves discovery and a JWKS on `127.0.0.1:0`, counts the fetches, rotates
//! keys and can go down, and a [`ManualClock`] that only moves when told to.
//!
//! It exists so resource-server tests can forge any token they like (an `alg` of `none`,
//! a `jku` header, a wrong audience) without a full IdP, can observe exactly how often
//! the verifier fetches keys, and can test expiry by moving the clock instead of waiting.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{Clock, Issuer};

/// An RSA-2048 key pair with a `kid`, which signs whatever header and claims it is given.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key.
    ///
    /// # Panics
    /// If aws-lc-rs cannot generate an RSA key.
    pub fn generate(kid: &str) -> SigningKey {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        SigningKey {
            kid: kid.to_owned(),
            pair,
        }
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `alg: RS256` and `use: sig`.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key as an RFC 8017 `RSAPublicKey` DER, for baseline benchmarks.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs `header` and `claims` as given with RS256, whatever `header.alg` says.
    ///
    /// # Panics
    /// If signing fails.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        self.sign_message(&message)
    }

    /// Appends an RS256 signature to an arbitrary `header.payload` string, for tokens
    /// whose parts are not even JSON.
    ///
    /// # Panics
    /// If signing fails.
    pub fn sign_message(&self, message: &str) -> String {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing");
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The usual header: `{"alg": "RS256", "typ": "at+jwt", "kid": <kid>}`.
    pub fn header(&self) -> Value {
        json!({ "alg": "RS256", "typ": "at+jwt", "kid": self.kid })
    }

    /// A valid token for `issuer` and `audience` with the given claims merged over the
    /// defaults (`sub`, `iat` = now, `exp` = now + 10 min).
    pub fn token(&self, issuer: &Issuer, audience: &str, extra: Value) -> String {
        self.sign(&self.header(), &claims(issuer, audience, extra))
    }

    /// [`SigningKey::token`] issued at `issued_at` (Unix seconds) instead of now, for
    /// verifiers that read a [`ManualClock`].
    pub fn token_at(
        &self,
        issued_at: u64,
        issuer: &Issuer,
        audience: &str,
        extra: Value,
    ) -> String {
        self.sign(
            &self.header(),
            &claims_at(issued_at, issuer, audience, extra),
        )
    }
}

/// Seconds since the Unix epoch, by the wall clock.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Default claims for `issuer` and `audience`, with `extra` merged over them (a `null`
/// value removes the claim).
pub fn claims(issuer: &Issuer, audience: &str, extra: Value) -> Value {
    claims_at(now(), issuer, audience, extra)
}

/// [`claims`] issued at `issued_at` (Unix seconds): `iat` = `issued_at`, `exp` = 10 min later.
pub fn claims_at(issued_at: u64, issuer: &Issuer, audience: &str, extra: Value) -> Value {
    let mut claims = json!({
        "iss": issuer.as_str(),
        "sub": "auth0|user-1",
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + 600,
        "client_id": "demo-cli",
        "scope": "openid",
    });
    if let (Some(base), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        for (name, value) in extra {
            if value.is_null() {
                base.remove(&name);
            } else {
                base.insert(name, value);
            }
        }
    }
    claims
}

/// A [`Clock`] that stands still until a test sets or advances it, so expiry is tested by
/// moving time rather than waiting for it. Share it through an `Arc` with the
/// [`VerifierConfig::clock`](crate::VerifierConfig::clock) it drives.
#[derive(Debug)]
pub struct ManualClock {
    unix_seconds: AtomicU64,
}

impl ManualClock {
    /// A clock showing `unix_seconds`.
    pub fn at(unix_seconds: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            unix_seconds: AtomicU64::new(unix_seconds),
        })
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.unix_seconds.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.unix_seconds.load(Ordering::SeqCst))
    }
}

struct ServerState {
    issuer: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    down: AtomicBool,
    hanging: AtomicBool,
    jwks_fetches: watch::Sender<usize>,
    discovery_fetches: watch::Sender<usize>,
}

/// A fake issuer serving `/.well-known/openid-configuration` and `/jwks.json`.
#[derive(Clone)]
pub struct KeyServer {
    issuer: Issuer,
    state: Arc<ServerState>,
}

impl std::fmt::Debug for KeyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyServer")
            .field("issuer", &self.issuer.as_str())
            .finish_non_exhaustive()
    }
}

impl KeyServer {
    /// Starts the server on `127.0.0.1:0` publishing `keys`. It runs until the runtime stops.
    ///
    /// # Panics
    /// If it cannot bind.
    pub async fn start(keys: &[&SigningKey]) -> KeyServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let issuer = Issuer::from_auth0_domain(&format!("http://{addr}")).expect("issuer");
        let state = Arc::new(ServerState {
            issuer: Mutex::new(issuer.as_str().to_owned()),
            keys: Mutex::new(keys.iter().map(|k| k.jwk()).collect()),
            down: AtomicBool::new(false),
            hanging: AtomicBool::new(false),
            jwks_fetches: watch::Sender::new(0),
            discovery_fetches: watch::Sender::new(0),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks.json", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        KeyServer { issuer, state }
    }

    /// The issuer, `http://127.0.0.1:<port>/`.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Replaces the published keys (rotation).
    pub fn set_keys(&self, keys: &[&SigningKey]) {
        *self.state.keys.lock().unwrap_or_else(|e| e.into_inner()) =
            keys.iter().map(|k| k.jwk()).collect();
    }

    /// Publishes raw JWKS entries as given.
    pub fn set_raw_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Makes the discovery document claim another issuer.
    pub fn set_discovery_issuer(&self, issuer: &str) {
        issuer.clone_into(&mut self.state.issuer.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// While down, both endpoints answer 503 (still counted).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// While hanging, both endpoints accept requests and never answer (still counted).
    pub fn set_hanging(&self, hanging: bool) {
        self.state.hanging.store(hanging, Ordering::SeqCst);
    }

    /// How many JWKS requests arrived.
    pub fn jwks_fetches(&self) -> usize {
        *self.state.jwks_fetches.borrow()
    }

    /// How many discovery requests arrived.
    pub fn discovery_fetches(&self) -> usize {
        *self.state.discovery_fetches.borrow()
    }

    /// Waits until at least `count` JWKS requests arrived.
    ///
    /// # Panics
    /// After 10 s, naming the count reached.
    pub async fn wait_for_jwks_fetches(&self, count: usize) {
        wait_for(&self.state.jwks_fetches, count, "JWKS").await;
    }

    /// Waits until at least `count` discovery requests arrived.
    ///
    /// # Panics
    /// After 10 s, naming the count reached.
    pub async fn wait_for_discovery_fetches(&self, count: usize) {
        wait_for(&self.state.discovery_fetches, count, "discovery").await;
    }
}

async fn wait_for(counter: &watch::Sender<usize>, count: usize, what: &str) {
    let mut rx = counter.subscribe();
    let reached = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|n| *n >= count)).await;
    assert!(
        reached.is_ok(),
        "waited 10 s for {count} {what} fetches, saw {}",
        *counter.borrow()
    );
}

async fn discovery(State(state): State<Arc<ServerState>>) -> Response {
    state.discovery_fetches.send_modify(|n| *n += 1);
    if state.hanging.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let issuer = state
        .issuer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // The JWKS lives under the real address even when the issuer is overridden.
    let base = issuer.trim_end_matches('/');
    Json(json!({ "issuer": issuer, "jwks_uri": format!("{base}/jwks.json") })).into_response()
}

async fn jwks(State(state): State<Arc<ServerState>>) -> Response {
    state.jwks_fetches.send_modify(|n| *n += 1);
    if state.hanging.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = state.keys.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(json!({ "keys": keys })).into_response()
}
