//! The verifier: the header checks, the key cache and its background refresh, and the
//! claim checks, in the order that rejects cheap mistakes before any cryptography.

use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Validation};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;
use url::Url;

use crate::jwks::{self, FetchError, KeyEntry, KeySet};
use crate::token::numeric_date;
use crate::{TokenError, VerifiedToken, VerifierConfig};

/// The largest token accepted, checked before any decoding (RFC 8725 §3.1 asks for
/// limits; Auth0's tokens are about 1 KiB).
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How long a verified token is remembered at most; `exp` is checked on every use anyway,
/// this only bounds how long an entry (and the key set it points at) stays in memory.
const VERIFIED_TTL: Duration = Duration::from_secs(600);

/// Header parameters that would make the token name its own key (RFC 8725 §3.10).
const KEY_CARRYING_HEADERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Verifies access tokens of one issuer for one audience.
///
/// Cheap to clone: clones share one key cache. [`Verifier::new`] returns at once; the keys
/// load in the background, and until they do [`Verifier::verify`] fails with
/// [`TokenError::KeysUnavailable`] (a 503) instead of waiting.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    /// The allowed algorithms, with HMAC removed whatever the configuration says.
    algorithms: Vec<Algorithm>,
    /// `accepted_typ`, lower-cased and without the optional `application/` prefix.
    accepted_typ: Vec<String>,
    /// Built once per allowed algorithm (jsonwebtoken wants every listed algorithm to fit
    /// the key): the registered-claim checks jsonwebtoken performs.
    validations: Vec<(Algorithm, Validation)>,
    http: reqwest::Client,
    /// Set by the first successful discovery; the JWKS location does not change after.
    jwks_uri: OnceLock<Url>,
    /// The current keys; requests read it without locking, fetches swap it whole.
    keys: ArcSwapOption<KeySet>,
    /// Held during every fetch so at most one request to the IdP is in flight.
    fetch_lock: tokio::sync::Mutex<()>,
    /// When an unknown `kid` last caused a refetch; rate-limits refetches from floods.
    last_on_demand: Mutex<Option<Instant>>,
    /// Counts successful key loads, so callers can await readiness or a refresh.
    generation: watch::Sender<u64>,
    /// The background refresh task, stopped when the last clone goes away.
    task: OnceLock<tokio::task::AbortHandle>,
    /// Tokens that passed every check, by SHA-256 of the compact token (`None`: disabled).
    verified: Option<moka::future::Cache<[u8; 32], Verified>>,
}

/// A token that passed every check, and the key set that verified it.
#[derive(Clone)]
struct Verified {
    token: Arc<VerifiedToken>,
    /// The fingerprint of the key set that verified it. A hit counts only while the
    /// current set has the same keys and is fresh: a rotation, a removed key or a stale
    /// set (dropped) all make the token go through full verification again.
    key_fingerprint: [u8; 32],
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.config.issuer.as_str())
            .field("audience", &self.inner.config.audience)
            .field("ready", &self.is_ready())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Creates the verifier and starts discovery and key loading in the background.
    ///
    /// Never blocks and never fails: when the IdP is down, discovery retries with
    /// exponential backoff while the service runs and reports not ready.
    /// Must be called inside a Tokio runtime.
    pub fn new(config: VerifierConfig, http: reqwest::Client) -> Verifier {
        let verifier = Verifier::unstarted(config, http);
        let task = tokio::spawn(background_refresh(Arc::downgrade(&verifier.inner)));
        let _ = verifier.inner.task.set(task.abort_handle());
        verifier
    }

    /// The verifier without its background discovery and refresh: no keys until someone
    /// installs them (the fuzz targets, which must not touch the network).
    fn unstarted(config: VerifierConfig, http: reqwest::Client) -> Verifier {
        let algorithms: Vec<Algorithm> = config
            .algorithms
            .iter()
            .copied()
            .filter(|alg| alg.family() != AlgorithmFamily::Hmac)
            .collect();
        if algorithms.len() != config.algorithms.len() {
            tracing::warn!("HMAC algorithms are never accepted for access tokens; ignoring them");
        }
        let validations = algorithms
            .iter()
            .map(|&alg| {
                let mut validation = Validation::new(alg);
                // The time rules are checked against the configured clock in
                // `check_times`; jsonwebtoken would read the system clock.
                validation.validate_exp = false;
                validation.validate_nbf = false;
                validation.validate_aud = true;
                validation.set_issuer(&[config.issuer.as_str()]);
                validation.set_audience(&[config.audience.as_str()]);
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                (alg, validation)
            })
            .collect();
        let accepted_typ = config
            .accepted_typ
            .iter()
            .map(|t| normalize_typ(t))
            .collect();
        let verified = (config.verified_cache_capacity > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(config.verified_cache_capacity)
                .time_to_live(VERIFIED_TTL)
                .build()
        });
        let inner = Arc::new(Inner {
            verified,
            algorithms,
            accepted_typ,
            validations,
            http,
            jwks_uri: OnceLock::new(),
            keys: ArcSwapOption::empty(),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_on_demand: Mutex::new(None),
            generation: watch::Sender::new(0),
            task: OnceLock::new(),
            config,
        });
        Verifier { inner }
    }

    /// A verifier that never fetches: `keys` are its key set for good, and a token naming
    /// another `kid` is refused as if the IdP were unreachable. For the fuzz targets.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn offline(config: VerifierConfig, keys: KeySet) -> Verifier {
        let verifier = Verifier::unstarted(config, reqwest::Client::new());
        verifier.inner.install(Arc::new(keys));
        verifier
    }

    /// True once signing keys are loaded and not older than `max_stale`.
    pub fn is_ready(&self) -> bool {
        self.inner
            .keys
            .load()
            .as_ref()
            .is_some_and(|set| self.inner.is_fresh(set))
    }

    /// Resolves once keys have been loaded for the first time.
    pub async fn ready(&self) {
        let mut generation = self.inner.generation.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = generation.wait_for(|g| *g > 0).await;
    }

    /// Observes key loads: the value counts successful JWKS fetches (0 = none yet).
    pub fn key_generation(&self) -> watch::Receiver<u64> {
        self.inner.generation.subscribe()
    }

    /// Verifies a compact JWS access token; see the crate docs for the rules.
    ///
    /// Once keys are cached this makes no network call, except when the token names an
    /// unknown `kid` and no such refetch happened within `unknown_kid_cooldown`.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let Some(cache) = &self.inner.verified else {
            return self
                .verify_uncached(token)
                .await
                .map(|(verified, _)| verified);
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = cache.get(&digest).await {
            let current = self.inner.keys.load();
            if current.as_ref().is_some_and(|set| {
                set.fingerprint == hit.key_fingerprint && self.inner.is_fresh(set)
            }) {
                // The only check whose answer changes as time goes forward (`nbf` and `iat`
                // were in the past when it was verified and stay there).
                if self.inner.is_expired(hit.token.expires_at) {
                    cache.invalidate(&digest).await;
                    return Err(TokenError::Expired);
                }
                return Ok(VerifiedToken::clone(&hit.token));
            }
        }
        let (verified, keys) = self.verify_uncached(token).await?;
        let entry = Verified {
            token: Arc::new(verified.clone()),
            key_fingerprint: keys.fingerprint,
        };
        cache.insert(digest, entry).await;
        Ok(verified)
    }

    /// The full verification; also returns the key set that verified the token.
    async fn verify_uncached(
        &self,
        token: &str,
    ) -> Result<(VerifiedToken, Arc<KeySet>), TokenError> {
        let (alg, kid) = self.inner.check_header(token)?;
        {
            let keys = self.inner.keys.load_full();
            let Some(set) = keys.filter(|set| self.inner.is_fresh(set)) else {
                return Err(TokenError::KeysUnavailable);
            };
            if let Some(entry) = set.keys.get(&kid) {
                let verified = self.inner.check_token(token, alg, entry)?;
                return Ok((verified, set));
            }
        }
        let set = self.inner.refetch_for_unknown_kid(&kid).await?;
        let entry = set.keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        let verified = self.inner.check_token(token, alg, entry)?;
        Ok((verified, set))
    }
}

impl Inner {
    fn is_fresh(&self, set: &KeySet) -> bool {
        set.fetched_at.elapsed() <= self.config.jwks.max_stale
    }

    /// Checks size, shape and header before any key lookup; returns `alg` and `kid`.
    fn check_header(&self, token: &str) -> Result<(Algorithm, String), TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        // jsonwebtoken accepts unknown header fields (keeping them as extras) and even a
        // `crit` of `b64`, so the raw header is inspected here before it gets a say.
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header).map_err(|_| TokenError::Malformed)?;
        if let Some(name) = KEY_CARRYING_HEADERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(TokenError::ForbiddenHeader(name));
        }
        if header.contains_key("crit") {
            return Err(TokenError::CriticalHeader);
        }
        let Some(Value::String(alg)) = header.get("alg") else {
            return Err(TokenError::Malformed);
        };
        // `none` and unknown names fail to parse; HMAC was removed from `algorithms`.
        let alg = Algorithm::from_str(alg).map_err(|_| TokenError::AlgorithmNotAllowed)?;
        if !self.algorithms.contains(&alg) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        match header.get("typ") {
            Some(Value::String(typ)) if self.accepts_typ(typ) => {}
            _ => return Err(TokenError::TypeNotAccepted),
        }
        match header.get("kid") {
            Some(Value::String(kid)) => Ok((alg, kid.clone())),
            None => Err(TokenError::MissingKeyId),
            Some(_) => Err(TokenError::Malformed),
        }
    }

    fn accepts_typ(&self, typ: &str) -> bool {
        let typ = match typ.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
            _ => typ,
        };
        self.accepted_typ
            .iter()
            .any(|accepted| accepted.eq_ignore_ascii_case(typ))
    }

    /// Verifies the signature with `entry`, then the claims.
    fn check_token(
        &self,
        token: &str,
        alg: Algorithm,
        entry: &KeyEntry,
    ) -> Result<VerifiedToken, TokenError> {
        if entry.family != alg.family() || entry.alg.is_some_and(|key_alg| key_alg != alg) {
            return Err(TokenError::AlgorithmMismatch);
        }
        let Some((_, validation)) = self.validations.iter().find(|(allowed, _)| *allowed == alg)
        else {
            return Err(TokenError::AlgorithmNotAllowed);
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &entry.key, validation)
            .map_err(|e| map_jwt_error(e.kind()))?;
        let claims = data.claims;
        self.check_times(&claims)?;
        VerifiedToken::from_claims(claims)
    }

    /// The time rules against the configured clock, each with the leeway: `exp` not past,
    /// `nbf` (when present) and `iat` not in the future. jsonwebtoken has already checked
    /// that `exp` is present and numeric; it does not look at `iat`, which RFC 9068 §2.2
    /// requires.
    fn check_times(&self, claims: &Map<String, Value>) -> Result<(), TokenError> {
        if self.is_expired(numeric_date(claims, "exp")?) {
            return Err(TokenError::Expired);
        }
        let latest_start = self
            .config
            .clock
            .unix_seconds()
            .saturating_add(self.config.leeway.as_secs());
        if claims.contains_key("nbf") && numeric_date(claims, "nbf")? > latest_start {
            return Err(TokenError::NotYetValid);
        }
        if numeric_date(claims, "iat")? > latest_start {
            return Err(TokenError::IssuedInFuture);
        }
        Ok(())
    }

    /// True when `exp` is past by more than the leeway.
    fn is_expired(&self, expires_at: u64) -> bool {
        expires_at.saturating_add(self.config.leeway.as_secs()) < self.config.clock.unix_seconds()
    }

    /// Refetches the JWKS for a `kid` we do not know, at most once per cooldown.
    async fn refetch_for_unknown_kid(&self, kid: &str) -> Result<Arc<KeySet>, TokenError> {
        let cooldown = self.config.jwks.unknown_kid_cooldown;
        let recently = |last: &Option<Instant>| last.is_some_and(|at| at.elapsed() < cooldown);
        // Within the cooldown no new fetch starts, so a flood of made-up kids costs the IdP
        // nothing. But the refetch that started the cooldown may still be in flight, and it
        // may be fetching this very kid (right after a key rotation, many requests carry
        // it at once): wait for it, then look again. The wait is bounded by fetch_timeout,
        // and is free when no fetch is running.
        if recently(
            &self
                .last_on_demand
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        ) {
            let _fetching = self.fetch_lock.lock().await;
            return self
                .keys
                .load_full()
                .filter(|set| set.keys.contains_key(kid))
                .ok_or(TokenError::UnknownKey);
        }
        let Some(jwks_uri) = self.jwks_uri.get() else {
            return Err(TokenError::KeysUnavailable);
        };
        let _fetching = self.fetch_lock.lock().await;
        // Whoever held the lock may just have fetched the key we need.
        if let Some(set) = self
            .keys
            .load_full()
            .filter(|set| set.keys.contains_key(kid))
        {
            return Ok(set);
        }
        {
            let mut last = self
                .last_on_demand
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if recently(&last) {
                return Err(TokenError::UnknownKey);
            }
            *last = Some(Instant::now());
        }
        tracing::info!(issuer = %self.config.issuer, "a token names an unknown kid; refetching the JWKS");
        match jwks::fetch_key_set(&self.http, jwks_uri, self.config.jwks.fetch_limits()).await {
            Ok(set) => {
                let set = Arc::new(set);
                self.install(set.clone());
                Ok(set)
            }
            Err(error) => {
                tracing::warn!(%error, "JWKS refetch for an unknown kid failed; keeping the cached keys");
                Err(TokenError::UnknownKey)
            }
        }
    }

    /// Discovers the JWKS location if needed and loads the keys.
    async fn refresh(&self) -> Result<(), FetchError> {
        let _fetching = self.fetch_lock.lock().await;
        let limits = self.config.jwks.fetch_limits();
        let jwks_uri = match self.jwks_uri.get() {
            Some(uri) => uri,
            None => {
                let uri = jwks::discover_jwks_uri(&self.http, &self.config.issuer, limits).await?;
                self.jwks_uri.get_or_init(|| uri)
            }
        };
        let set = jwks::fetch_key_set(&self.http, jwks_uri, limits).await?;
        self.install(Arc::new(set));
        Ok(())
    }

    fn install(&self, set: Arc<KeySet>) {
        let count = set.keys.len();
        self.keys.store(Some(set));
        self.generation.send_modify(|g| *g += 1);
        tracing::debug!(issuer = %self.config.issuer, keys = count, "signing keys loaded");
    }

    /// Forgets keys older than `max_stale`, so readiness reflects a long IdP outage.
    fn drop_if_stale(&self) {
        if self
            .keys
            .load()
            .as_ref()
            .is_some_and(|set| !self.is_fresh(set))
        {
            tracing::error!(issuer = %self.config.issuer, "signing keys are too old and could not be refreshed");
            self.keys.store(None);
        }
    }
}

/// Loads keys at start (retrying with backoff) and refreshes them before `max_age`.
async fn background_refresh(inner: Weak<Inner>) {
    let mut retry_delay: Option<Duration> = None;
    loop {
        let Some(verifier) = inner.upgrade() else {
            return;
        };
        let settings = &verifier.config.jwks;
        let next = match verifier.refresh().await {
            Ok(()) => {
                if retry_delay.take().is_some() {
                    tracing::info!(issuer = %verifier.config.issuer, "signing keys loaded after earlier failures");
                }
                settings.max_age.mul_f64(0.75)
            }
            Err(error) => {
                verifier.drop_if_stale();
                let delay =
                    retry_delay.map_or(settings.retry_initial, |d| (d * 2).min(settings.retry_max));
                tracing::warn!(issuer = %verifier.config.issuer, %error, retry_in = ?delay, "could not load signing keys");
                retry_delay = Some(delay);
                delay
            }
        };
        drop(verifier);
        tokio::time::sleep(next).await;
    }
}

fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

fn map_jwt_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim_name(claim)),
        ErrorKind::InvalidClaimFormat(claim) => TokenError::InvalidClaim(claim_name(claim)),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm => TokenError::AlgorithmMismatch,
        _ => TokenError::Malformed,
    }
}

fn claim_name(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "claim",
    }
}
