//! Custom Token Exchange (RFC 8693; Auth0's "Custom Token Exchange") with a cache.
//!
//! The MCP server receives access tokens whose audience is itself and must never pass them
//! on. To call the upstream API on the caller's behalf it trades the inbound token at the
//! identity provider's token endpoint for a token whose audience is the upstream API. This
//! module is the only place the inbound token leaves the process, and the token endpoint
//! is the only place it goes.
//!
//! It does what `@auth0/auth0-api-js`'s `getTokenByExchangeProfile` does, so it works
//! against a real Auth0 tenant unchanged:
//! - the token endpoint comes from the issuer's OIDC discovery document, fetched lazily
//!   once (a failed fetch is retried on the next call) and checked to name the same issuer;
//! - the request is a form POST with `client_secret_post` client authentication;
//! - the answer is checked as `oauth4webapi`'s `processGenericAccessTokenResponse` checks
//!   it: status exactly 200, a JSON body, `access_token` and `token_type` non-empty
//!   strings, `token_type` `bearer` in any case, `expires_in` numeric, `scope` a string.
//!
//! Exchanged tokens are cached (moka, bounded): the key is the SHA-256 of the subject
//! token, audience and scope, so the cache never holds an inbound token. An entry lives
//! until the issued token's expiry minus a safety margin and never past the subject
//! token's own expiry minus that margin: a delegated token must not outlive the
//! delegation it came from. Concurrent calls for the same key share one exchange, and
//! failures are not cached.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use metrics::Counter;
use moka::Expiry;
use moka::future::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

use crate::metrics::{Metrics, names};

/// The grant type of RFC 8693 §2.1.
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The most of an IdP answer we read: a token response is a few kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most of an IdP's `error_description` we keep: it ends up in a tool's error text.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// How to reach the IdP and what to ask it for.
#[derive(Clone, Debug)]
pub struct ExchangeConfig {
    /// The issuer (AUTH0_DOMAIN made a URL); its discovery document names the token endpoint.
    pub issuer: Url,
    /// MCP_AUTH0_CLIENT_ID.
    pub client_id: String,
    /// MCP_AUTH0_CLIENT_SECRET, sent in the body (`client_secret_post`, RFC 6749 §2.3.1).
    pub client_secret: SecretString,
    /// MCP_AUTH0_SUBJECT_TOKEN_TYPE: selects the tenant's token exchange profile.
    pub subject_token_type: String,
    /// API_AUTH0_AUDIENCE: the upstream API the issued token is for.
    pub audience: String,
    /// MCP_AUTH0_EXCHANGE_SCOPE; `None` (or empty) sends no `scope` parameter.
    pub scope: Option<String>,
    /// Time allowed to open a connection to the IdP.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request to the IdP, body included.
    pub timeout: Duration,
    /// The most exchanged tokens kept.
    pub cache_capacity: u64,
    /// How long before either token's expiry a cached token stops being used, so that it
    /// is still valid when the upstream API checks it.
    pub safety_margin: Duration,
    /// Root certificates trusted besides the system's (`--ca-file`).
    pub root_certificates: Vec<reqwest::Certificate>,
}

impl ExchangeConfig {
    /// A configuration with the default timeouts (2 s connect, 5 s total), a 10,000-entry
    /// cache and a 30 s safety margin.
    pub fn new(
        issuer: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
        subject_token_type: impl Into<String>,
        audience: impl Into<String>,
        scope: Option<String>,
    ) -> Self {
        Self {
            issuer,
            client_id: client_id.into(),
            client_secret,
            subject_token_type: subject_token_type.into(),
            audience: audience.into(),
            scope,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            cache_capacity: 10_000,
            safety_margin: Duration::from_secs(30),
            root_certificates: Vec::new(),
        }
    }
}

/// An access token issued by the exchange. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token received from the IdP.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, to put in an `Authorization: Bearer` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// A successful token exchange response (RFC 8693 §2.2.1), as checked.
#[derive(Clone, Debug)]
pub struct ExchangedToken {
    /// The token for the upstream API.
    pub access_token: AccessToken,
    /// Always `bearer` (lower-cased, as oauth4webapi reports it).
    pub token_type: String,
    /// The token's lifetime when it was issued; `None` if the IdP did not say.
    pub expires_in: Option<Duration>,
    /// The granted scope, when the IdP reported it.
    pub scope: Option<String>,
    /// RFC 8693 `issued_token_type`, when present.
    pub issued_token_type: Option<String>,
}

/// Which request to the IdP failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `GET {issuer}.well-known/openid-configuration`.
    Discovery,
    /// `POST {token_endpoint}`.
    TokenEndpoint,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Discovery => "discovery",
            Stage::TokenEndpoint => "token endpoint",
        })
    }
}

/// Why an exchange failed. The messages are fit for a tool's error text: they never hold
/// a token or a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// No connection to the IdP (refused, DNS, TLS, reset).
    #[error("the identity provider could not be reached ({stage})")]
    Unreachable { stage: Stage },
    /// The IdP did not answer within the configured time.
    #[error("the identity provider did not answer in time ({stage})")]
    Timeout { stage: Stage },
    /// The IdP refused the exchange with an RFC 6749 §5.2 error response.
    #[error("the identity provider refused the token exchange: {error}{}", describe(.description))]
    Refused {
        /// The HTTP status of the answer.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_grant`.
        error: String,
        /// The IdP's `error_description`, shortened.
        description: Option<String>,
    },
    /// A status other than the expected one, without an OAuth error body.
    #[error("the identity provider answered HTTP {status} ({stage})")]
    UnexpectedStatus { stage: Stage, status: u16 },
    /// An answer that does not follow the protocol.
    #[error("the identity provider's answer was malformed ({stage}): {detail}")]
    Malformed { stage: Stage, detail: &'static str },
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

impl ExchangeError {
    /// A metric label for this failure.
    pub fn outcome(&self) -> &'static str {
        match self {
            ExchangeError::Unreachable { .. } => "unreachable",
            ExchangeError::Timeout { .. } => "timeout",
            ExchangeError::Refused { .. } => "refused",
            ExchangeError::UnexpectedStatus { .. } => "unexpected_status",
            ExchangeError::Malformed { .. } => "malformed",
        }
    }

    fn transport(stage: Stage, err: &reqwest::Error) -> Self {
        // The cause goes to the log, not to the caller; reqwest's message names only the URL.
        tracing::warn!(%stage, error = %err, "token exchange request failed");
        if err.is_timeout() {
            ExchangeError::Timeout { stage }
        } else {
            ExchangeError::Unreachable { stage }
        }
    }
}

/// The SHA-256 of subject token, audience and scope: the cache never holds inbound tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CacheKey([u8; 32]);

fn cache_key(subject_token: &str, audience: &str, scope: Option<&str>) -> CacheKey {
    let mut ctx = digest::Context::new(&digest::SHA256);
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    for part in [subject_token, audience, scope.unwrap_or_default()] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    let mut key = [0; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    CacheKey(key)
}

/// A cached token and how long it may be used from when it was received.
#[derive(Clone)]
struct Cached {
    token: Arc<ExchangedToken>,
    ttl: Duration,
}

/// Gives each entry its own lifetime, computed when the token arrived.
struct PerEntryTtl;

impl Expiry<CacheKey, Cached> for PerEntryTtl {
    fn expire_after_create(&self, _: &CacheKey, value: &Cached, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// How long an exchanged token may be served from the cache: until the earlier of its
/// own expiry and the subject token's, minus the margin. Zero means "do not cache".
fn cache_ttl(
    expires_in: Option<Duration>,
    subject_expires_at: u64,
    now: SystemTime,
    margin: Duration,
) -> Duration {
    let subject_left = (UNIX_EPOCH + Duration::from_secs(subject_expires_at))
        .duration_since(now)
        .unwrap_or_default();
    expires_in
        .unwrap_or_default()
        .min(subject_left)
        .saturating_sub(margin)
}

/// Why the cache's initialiser did not hand moka a value to keep.
enum NotCached {
    /// The exchange failed; errors are not cached.
    Failed(ExchangeError),
    /// The exchange worked but the token must not be reused (the subject token is about to
    /// expire); callers waiting on the same key still share it.
    Fresh(Arc<ExchangedToken>),
}

/// Exchanges inbound tokens for upstream tokens, with a cache. Cheap to clone.
#[derive(Clone)]
pub struct TokenExchanger {
    inner: Arc<Inner>,
}

struct Inner {
    config: ExchangeConfig,
    http: reqwest::Client,
    /// The token endpoint from discovery; set once, on the first exchange that needs it.
    token_endpoint: tokio::sync::OnceCell<Url>,
    cache: Cache<CacheKey, Cached>,
    metrics: Metrics,
    /// Registered once: a cache hit must not pay for a registry lookup.
    hits: Counter,
    misses: Counter,
}

impl fmt::Debug for TokenExchanger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchanger")
            .field("issuer", &self.inner.config.issuer.as_str())
            .field("audience", &self.inner.config.audience)
            .field("cached", &self.inner.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl TokenExchanger {
    /// Builds the exchanger and its HTTP client; makes no request yet. Exchanges (by
    /// outcome) and cache lookups (hit or miss) are counted in `metrics`.
    pub fn new(mut config: ExchangeConfig, metrics: Metrics) -> Result<Self, reqwest::Error> {
        if config.scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
            config.scope = None;
        }
        let http = crate::outbound::token_carrying_client(
            config.connect_timeout,
            config.timeout,
            &config.root_certificates,
        )?;
        let cache = Cache::builder()
            .name("token-exchange")
            .max_capacity(config.cache_capacity)
            .expire_after(PerEntryTtl)
            .build();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                token_endpoint: tokio::sync::OnceCell::new(),
                cache,
                hits: metrics.counter(names::EXCHANGE_CACHE, &[("result", "hit".to_owned())]),
                misses: metrics.counter(names::EXCHANGE_CACHE, &[("result", "miss".to_owned())]),
                metrics,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ExchangeConfig {
        &self.inner.config
    }

    /// Number of cached tokens (moka's estimate; exact once pending work has run).
    pub fn cached_entries(&self) -> u64 {
        self.inner.cache.entry_count()
    }

    /// A token for the upstream API on behalf of the subject token's user: from the cache,
    /// or from the IdP. `subject_expires_at` is the subject token's `exp` (Unix seconds),
    /// which caps how long the result is reused.
    pub async fn exchange(
        &self,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<Arc<ExchangedToken>, ExchangeError> {
        let config = &self.inner.config;
        let key = cache_key(subject_token, &config.audience, config.scope.as_deref());
        // The common case first: a plain lookup is cheaper than setting up an insertion.
        if let Some(cached) = self.inner.cache.get(&key).await {
            self.inner.hits.increment(1);
            return Ok(cached.token);
        }
        let init = async {
            let token = Arc::new(
                self.exchange_uncached(subject_token)
                    .await
                    .map_err(NotCached::Failed)?,
            );
            let ttl = cache_ttl(
                token.expires_in,
                subject_expires_at,
                SystemTime::now(),
                config.safety_margin,
            );
            if ttl.is_zero() {
                return Err(NotCached::Fresh(token));
            }
            Ok(Cached { token, ttl })
        };
        match self.inner.cache.entry(key).or_try_insert_with(init).await {
            Ok(entry) => {
                if entry.is_fresh() {
                    self.inner.misses.increment(1);
                } else {
                    self.inner.hits.increment(1);
                }
                Ok(entry.into_value().token)
            }
            Err(not_cached) => {
                self.inner.misses.increment(1);
                match &*not_cached {
                    NotCached::Fresh(token) => Ok(Arc::clone(token)),
                    NotCached::Failed(err) => Err(err.clone()),
                }
            }
        }
    }

    /// One exchange at the IdP, bypassing the cache.
    pub async fn exchange_uncached(
        &self,
        subject_token: &str,
    ) -> Result<ExchangedToken, ExchangeError> {
        let result = self.post_exchange(subject_token).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.outcome(),
        };
        self.inner.metrics.token_exchange(outcome);
        if let Err(err) = &result {
            tracing::warn!(error = %err, "token exchange failed");
        }
        result
    }

    async fn post_exchange(&self, subject_token: &str) -> Result<ExchangedToken, ExchangeError> {
        let config = &self.inner.config;
        let endpoint = self.token_endpoint().await?;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
            ("subject_token", subject_token),
            ("subject_token_type", &config.subject_token_type),
            ("audience", &config.audience),
        ];
        if let Some(scope) = &config.scope {
            form.push(("scope", scope));
        }
        form.push(("client_id", &config.client_id));
        form.push(("client_secret", config.client_secret.expose_secret()));
        let stage = Stage::TokenEndpoint;
        let response = self
            .inner
            .http
            .post(endpoint.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ExchangeError::transport(stage, &e))?;
        let status = response.status().as_u16();
        let is_json = is_json(&response);
        let body = read_body(response)
            .await
            .map_err(|e| body_error(stage, e))?;
        process_token_response(status, is_json, &body)
    }

    /// The token endpoint, from discovery on first use.
    async fn token_endpoint(&self) -> Result<&Url, ExchangeError> {
        self.inner
            .token_endpoint
            .get_or_try_init(|| self.discover())
            .await
    }

    async fn discover(&self) -> Result<Url, ExchangeError> {
        let stage = Stage::Discovery;
        let issuer = &self.inner.config.issuer;
        let url = discovery_url(issuer);
        let response = self
            .inner
            .http
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| ExchangeError::transport(stage, &e))?;
        let status = response.status().as_u16();
        let is_json = is_json(&response);
        let body = read_body(response)
            .await
            .map_err(|e| body_error(stage, e))?;
        let endpoint = process_discovery_response(issuer, status, is_json, &body)?;
        tracing::info!(token_endpoint = %endpoint, "discovered the token endpoint");
        Ok(endpoint)
    }
}

/// `{issuer}/.well-known/openid-configuration`, with one slash whether or not the issuer
/// ends with one (OpenID Connect Discovery 1.0 §4.1).
fn discovery_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!(
        "{}/.well-known/openid-configuration",
        issuer.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

fn body_error(stage: Stage, err: BodyError) -> ExchangeError {
    match err {
        BodyError::Transport(e) => ExchangeError::transport(stage, &e),
        BodyError::TooLarge => ExchangeError::Malformed {
            stage,
            detail: "the answer is too large",
        },
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`], so a misbehaving IdP cannot exhaust memory.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn json_object(
    stage: Stage,
    is_json: bool,
    body: &[u8],
) -> Result<Map<String, Value>, ExchangeError> {
    if !is_json {
        return Err(ExchangeError::Malformed {
            stage,
            detail: "the answer is not application/json",
        });
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ExchangeError::Malformed {
            stage,
            detail: "the answer is not a JSON object",
        }),
    }
}

/// Checks a discovery answer as oauth4webapi's `processDiscoveryResponse` does: status
/// 200, a JSON object whose `issuer` is exactly the expected one, and a `token_endpoint`.
fn process_discovery_response(
    issuer: &Url,
    status: u16,
    is_json: bool,
    body: &[u8],
) -> Result<Url, ExchangeError> {
    let stage = Stage::Discovery;
    if status != 200 {
        return Err(ExchangeError::UnexpectedStatus { stage, status });
    }
    let doc = json_object(stage, is_json, body)?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
        return Err(ExchangeError::Malformed {
            stage,
            detail: "the discovery document names another issuer",
        });
    }
    doc.get("token_endpoint")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or(ExchangeError::Malformed {
            stage,
            detail: "the discovery document has no valid token_endpoint",
        })
}

/// Checks a token endpoint answer as oauth4webapi's `processGenericAccessTokenResponse`
/// does (see the module documentation).
fn process_token_response(
    status: u16,
    is_json: bool,
    body: &[u8],
) -> Result<ExchangedToken, ExchangeError> {
    let stage = Stage::TokenEndpoint;
    if status != 200 {
        return Err(oauth_error(status, body));
    }
    let json = json_object(stage, is_json, body)?;
    let malformed = |detail| ExchangeError::Malformed { stage, detail };
    let non_empty = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let access_token = non_empty("access_token")
        .ok_or(malformed("access_token is missing or not a string"))?
        .to_owned();
    let token_type = non_empty("token_type")
        .ok_or(malformed("token_type is missing or not a string"))?
        .to_ascii_lowercase();
    if token_type != "bearer" {
        // oauth4webapi also allows `dpop`, which needs a proof key this client does not have.
        return Err(malformed("token_type is not bearer"));
    }
    let expires_in = match json.get("expires_in") {
        None => None,
        Some(value) => Some(
            parse_expires_in(value).ok_or(malformed("expires_in is not a non-negative number"))?,
        ),
    };
    let optional_string = |name: &'static str, detail| match json.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(detail)),
    };
    let scope = optional_string("scope", "scope is not a string")?;
    let issued_token_type =
        optional_string("issued_token_type", "issued_token_type is not a string")?;
    // An ID or refresh token is never used here; oauth4webapi only checks their types.
    optional_string("id_token", "id_token is not a string")?;
    optional_string("refresh_token", "refresh_token is not a string")?;
    Ok(ExchangedToken {
        access_token: AccessToken(access_token),
        token_type,
        expires_in,
        scope,
        issued_token_type,
    })
}

/// `expires_in` as a number, or a numeric string as oauth4webapi's `parseFloat` accepts.
fn parse_expires_in(value: &Value) -> Option<Duration> {
    let seconds = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// A non-200 answer: an RFC 6749 §5.2 error if the body is one, else the bare status.
fn oauth_error(status: u16, body: &[u8]) -> ExchangeError {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return ExchangeError::UnexpectedStatus {
            stage: Stage::TokenEndpoint,
            status,
        };
    };
    let Some(error) = json.get("error").and_then(Value::as_str) else {
        return ExchangeError::UnexpectedStatus {
            stage: Stage::TokenEndpoint,
            status,
        };
    };
    ExchangeError::Refused {
        status,
        error: shorten(error),
        description: json
            .get("error_description")
            .and_then(Value::as_str)
            .map(shorten),
    }
}

/// Keeps IdP-provided text short and printable: it ends up in logs and tool results.
fn shorten(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_response(body: &str) -> Result<ExchangedToken, ExchangeError> {
        process_token_response(200, true, body.as_bytes())
    }

    fn malformed(detail: &'static str) -> ExchangeError {
        ExchangeError::Malformed {
            stage: Stage::TokenEndpoint,
            detail,
        }
    }

    #[test]
    fn a_token_response_like_auth0s_is_accepted() {
        let token = token_response(
            r#"{"access_token":"at","expires_in":86400,"token_type":"Bearer",
               "issued_token_type":"urn:ietf:params:oauth:token-type:access_token","scope":"read:private"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token.secret(), "at");
        assert_eq!(token.token_type, "bearer");
        assert_eq!(token.expires_in, Some(Duration::from_secs(86400)));
        assert_eq!(token.scope.as_deref(), Some("read:private"));
        assert_eq!(
            token.issued_token_type.as_deref(),
            Some("urn:ietf:params:oauth:token-type:access_token")
        );
    }

    #[test]
    fn token_responses_that_break_the_rules_are_malformed() {
        let check = |body: &str, expected: &'static str| {
            assert_eq!(
                token_response(body).unwrap_err(),
                malformed(expected),
                "{body}"
            );
        };
        check("[]", "the answer is not a JSON object");
        check("not json", "the answer is not a JSON object");
        check(
            r#"{"token_type":"bearer","expires_in":1}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":"","token_type":"bearer"}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":1,"token_type":"bearer"}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":"a"}"#,
            "token_type is missing or not a string",
        );
        check(
            r#"{"access_token":"a","token_type":"mac"}"#,
            "token_type is not bearer",
        );
        check(
            r#"{"access_token":"a","token_type":"DPoP"}"#,
            "token_type is not bearer",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","expires_in":"soon"}"#,
            "expires_in is not a non-negative number",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","expires_in":-1}"#,
            "expires_in is not a non-negative number",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","scope":["read"]}"#,
            "scope is not a string",
        );
    }

    #[test]
    fn a_token_response_that_is_not_json_is_malformed() {
        let err =
            process_token_response(200, false, br#"{"access_token":"a","token_type":"bearer"}"#)
                .unwrap_err();
        assert_eq!(err, malformed("the answer is not application/json"));
    }

    #[test]
    fn expires_in_may_be_a_numeric_string_as_oauth4webapi_allows() {
        let token =
            token_response(r#"{"access_token":"a","token_type":"bearer","expires_in":"60"}"#)
                .unwrap();
        assert_eq!(token.expires_in, Some(Duration::from_secs(60)));
    }

    #[test]
    fn an_oauth_error_answer_carries_its_code_and_a_short_description() {
        let long = "x".repeat(500);
        let body = format!(r#"{{"error":"invalid_grant","error_description":"{long}"}}"#);
        let err = process_token_response(403, true, body.as_bytes()).unwrap_err();
        let ExchangeError::Refused {
            status,
            error,
            description,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((*status, error.as_str()), (403, "invalid_grant"));
        assert_eq!(
            description.as_ref().unwrap().chars().count(),
            MAX_DESCRIPTION_CHARS + 1
        );
        assert!(
            err.to_string().starts_with(
                "the identity provider refused the token exchange: invalid_grant (xxx"
            )
        );
    }

    #[test]
    fn a_non_200_answer_without_an_oauth_error_names_the_status() {
        for (status, body) in [
            (502, "<html>bad gateway</html>"),
            (201, r#"{"access_token":"a"}"#),
        ] {
            let err = process_token_response(status, true, body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                ExchangeError::UnexpectedStatus {
                    stage: Stage::TokenEndpoint,
                    status
                }
            );
        }
    }

    #[test]
    fn discovery_requires_the_same_issuer_and_a_token_endpoint() {
        let issuer = Url::parse("https://tenant.example/").unwrap();
        let check = |body: &str| process_discovery_response(&issuer, 200, true, body.as_bytes());
        assert_eq!(
            check(r#"{"issuer":"https://tenant.example/","token_endpoint":"https://tenant.example/oauth/token"}"#)
                .unwrap()
                .as_str(),
            "https://tenant.example/oauth/token"
        );
        let malformed = |detail| ExchangeError::Malformed {
            stage: Stage::Discovery,
            detail,
        };
        assert_eq!(
            check(r#"{"issuer":"https://tenant.example","token_endpoint":"https://tenant.example/oauth/token"}"#)
                .unwrap_err(),
            malformed("the discovery document names another issuer")
        );
        assert_eq!(
            check(r#"{"issuer":"https://tenant.example/"}"#).unwrap_err(),
            malformed("the discovery document has no valid token_endpoint")
        );
        assert_eq!(
            process_discovery_response(&issuer, 404, true, b"{}").unwrap_err(),
            ExchangeError::UnexpectedStatus {
                stage: Stage::Discovery,
                status: 404
            }
        );
    }

    #[test]
    fn the_discovery_url_has_one_slash_whatever_the_issuer() {
        for (issuer, expected) in [
            (
                "http://localhost:4000/",
                "http://localhost:4000/.well-known/openid-configuration",
            ),
            (
                "http://localhost:4000",
                "http://localhost:4000/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/tenant/",
                "https://idp.example/tenant/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/tenant",
                "https://idp.example/tenant/.well-known/openid-configuration",
            ),
        ] {
            assert_eq!(
                discovery_url(&Url::parse(issuer).unwrap()).as_str(),
                expected
            );
        }
    }

    #[test]
    fn the_cache_key_separates_its_parts() {
        assert_ne!(cache_key("ab", "c", None), cache_key("a", "bc", None));
        assert_ne!(
            cache_key("t", "aud", None),
            cache_key("t", "aud", Some("read"))
        );
        assert_eq!(
            cache_key("t", "aud", Some("read")),
            cache_key("t", "aud", Some("read"))
        );
    }

    #[test]
    fn a_cached_token_expires_a_margin_before_either_token() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let margin = Duration::from_secs(30);
        let hour = Some(Duration::from_secs(3600));
        // The issued token expires first.
        assert_eq!(
            cache_ttl(hour, 1_000_000 + 7200, now, margin),
            Duration::from_secs(3570)
        );
        // The subject token expires first: it caps the entry.
        assert_eq!(
            cache_ttl(hour, 1_000_000 + 600, now, margin),
            Duration::from_secs(570)
        );
        // Either within the margin, or already expired, or no expiry given: not cached.
        assert_eq!(cache_ttl(hour, 1_000_000 + 20, now, margin), Duration::ZERO);
        assert_eq!(cache_ttl(hour, 999_000, now, margin), Duration::ZERO);
        assert_eq!(
            cache_ttl(Some(Duration::from_secs(10)), 1_000_000 + 600, now, margin),
            Duration::ZERO
        );
        assert_eq!(
            cache_ttl(None, 1_000_000 + 600, now, margin),
            Duration::ZERO
        );
    }

    #[test]
    fn debug_output_hides_tokens_and_secrets() {
        let token = AccessToken("very-secret".to_owned());
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        let config = ExchangeConfig::new(
            Url::parse("http://localhost:4000/").unwrap(),
            "client",
            SecretString::from("client-secret-value"),
            "urn:fastmcp:mcp",
            "http://localhost:8787/",
            None,
        );
        assert!(!format!("{config:?}").contains("client-secret-value"));
    }
}
