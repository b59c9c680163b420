//! Fetching the issuer's signing keys: discovery, the JWKS download and its parsing.
//!
//! Keys are parsed once into [`DecodingKey`]s by `kid`, so a request only looks a key up.
//! Both downloads are bounded in time and size, because the IdP is a network peer like any
//! other. Keys usable only for HMAC or encryption are skipped: a verifier never treats a
//! JWKS entry as a shared secret.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::Issuer;

/// One verification key from the JWKS.
pub(crate) struct KeyEntry {
    /// The JWK's `alg`, when it names one; the token's `alg` must then equal it.
    pub(crate) alg: Option<Algorithm>,
    /// The key type; the token's `alg` must belong to it.
    pub(crate) family: AlgorithmFamily,
    pub(crate) key: DecodingKey,
}

/// The keys of one successful JWKS fetch, swapped in as a whole.
pub(crate) struct KeySet {
    pub(crate) keys: HashMap<String, KeyEntry>,
    pub(crate) fetched_at: Instant,
    /// SHA-256 of the published keys: equal for two fetches of the same JWKS, so the
    /// verified-token cache survives a scheduled refresh that changed nothing.
    pub(crate) fingerprint: [u8; 32],
}

/// Why a discovery or JWKS fetch failed; logged, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// `cause` is the whole source chain, since reqwest's own message hides the reason
    /// (connection refused, timeout, …).
    #[error("request to {url} failed: {cause}")]
    Http { url: String, cause: String },
    #[error("{url} answered {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("{url} answered more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} answered invalid JSON: {source}")]
    Json {
        url: String,
        source: serde_json::Error,
    },
    #[error("discovery names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { found: String, expected: String },
    #[error("discovery names an unusable jwks_uri {0:?}")]
    BadJwksUri(String),
    #[error("the JWKS at {0} has no usable signing keys")]
    NoUsableKeys(String),
}

/// The part of the OpenID Provider Metadata (OIDC Discovery §3) a resource server needs.
#[derive(Deserialize)]
struct ProviderMetadata {
    issuer: String,
    jwks_uri: String,
}

/// A JWK Set (RFC 7517 §5); entries are parsed one by one so one odd key cannot hide the rest.
#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

/// Downloads JSON with a whole-request timeout and a body size limit.
async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    limit: usize,
) -> Result<T, FetchError> {
    let http_err = |error: reqwest::Error| FetchError::Http {
        url: url.to_owned(),
        cause: error_chain(&error),
    };
    let mut response = http
        .get(url)
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(http_err)?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: response.status(),
        });
    }
    let too_large = || FetchError::TooLarge {
        url: url.to_owned(),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_err)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|source| FetchError::Json {
        url: url.to_owned(),
        source,
    })
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Finds the `jwks_uri` through discovery and checks the document is our issuer's.
pub(crate) async fn discover_jwks_uri(
    http: &reqwest::Client,
    issuer: &Issuer,
    timeout: Duration,
    limit: usize,
) -> Result<String, FetchError> {
    let metadata: ProviderMetadata =
        get_json(http, &issuer.discovery_url(), timeout, limit).await?;
    if metadata.issuer != issuer.as_str() {
        return Err(FetchError::IssuerMismatch {
            found: metadata.issuer,
            expected: issuer.as_str().to_owned(),
        });
    }
    match url::Url::parse(&metadata.jwks_uri) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(metadata.jwks_uri),
        _ => Err(FetchError::BadJwksUri(metadata.jwks_uri)),
    }
}

/// Downloads and parses the JWKS.
pub(crate) async fn fetch_key_set(
    http: &reqwest::Client,
    jwks_uri: &str,
    timeout: Duration,
    limit: usize,
) -> Result<KeySet, FetchError> {
    let raw: RawJwkSet = get_json(http, jwks_uri, timeout, limit).await?;
    let fingerprint = serde_json::to_vec(&raw.keys)
        .map(|bytes| Sha256::digest(bytes).into())
        .unwrap_or_default();
    let keys = parse_keys(raw.keys);
    if keys.is_empty() {
        return Err(FetchError::NoUsableKeys(jwks_uri.to_owned()));
    }
    Ok(KeySet {
        keys,
        fetched_at: Instant::now(),
        fingerprint,
    })
}

fn parse_keys(raw: Vec<serde_json::Value>) -> HashMap<String, KeyEntry> {
    let mut keys = HashMap::with_capacity(raw.len());
    for value in raw {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            tracing::debug!("skipping a JWKS entry that is not a JWK this verifier understands");
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            tracing::debug!("skipping a JWKS entry without kid");
            continue;
        };
        match key_entry(&jwk) {
            Some(entry) => {
                keys.insert(kid, entry);
            }
            None => tracing::debug!(kid, "skipping a JWKS entry that is not a signature key"),
        }
    }
    keys
}

/// Turns one JWK into a verification key, or `None` when it must not verify tokens.
fn key_entry(jwk: &Jwk) -> Option<KeyEntry> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let family = match jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
        AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
        AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
        // Symmetric keys in a public JWKS would turn `alg: HS256` into a forgery oracle.
        // Anything else (including key types added later) is not trusted either.
        _ => return None,
    };
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::UNKNOWN_ALGORITHM) => return None,
        Some(key_alg) => {
            let alg = Algorithm::try_from(key_alg).ok()?;
            if alg.family() != family {
                return None;
            }
            Some(alg)
        }
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(KeyEntry { alg, family, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn symmetric_encryption_and_odd_keys_are_skipped() {
        let keys = parse_keys(vec![
            json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
            json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "weird", "kid": "weird"}),
            json!({"kty": "RSA", "kid": "good", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"}),
        ]);
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["good"]);
    }
}
