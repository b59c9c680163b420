//! Fetching the issuer's signing keys: the JWKS location from discovery, the JWKS download
//! and its parsing.
//!
//! Keys are parsed once into [`DecodingKey`]s by `kid`, so a request only looks a key up.
//! Both downloads go through [`crate::discovery`]'s bounded GET (timeout and size cap). Keys usable only for HMAC or encryption are skipped: a verifier never treats a
//! JWKS entry as a shared secret.

use std::collections::HashMap;
use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::Issuer;
use crate::discovery::{
    DiscoveryError, FetchLimits, IssuerMetadata, MetadataDocument, get_bounded,
};

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

/// Why loading the keys failed; logged, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// Discovery failed, or the JWKS download did (timeouts, status, size).
    #[error(transparent)]
    Fetch(#[from] DiscoveryError),
    #[error("{url} answered invalid JSON: {source}")]
    Json {
        url: String,
        source: serde_json::Error,
    },
    #[error("the JWKS at {0} has no usable signing keys")]
    NoUsableKeys(String),
}

/// A JWK Set (RFC 7517 §5); entries are parsed one by one so one odd key cannot hide the rest.
#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

/// Finds the `jwks_uri` through the issuer's discovery document (checked to be our issuer's).
pub(crate) async fn discover_jwks_uri(
    http: &reqwest::Client,
    issuer: &Issuer,
    limits: FetchLimits,
) -> Result<Url, FetchError> {
    let metadata =
        IssuerMetadata::fetch_document(http, issuer, MetadataDocument::OpenIdConfiguration, limits)
            .await?;
    Ok(metadata.jwks_uri()?.clone())
}

/// Downloads and parses the JWKS. Its media type is not checked: RFC 7517 §8.5 registers
/// `application/jwk-set+json`, and IdPs serve either.
pub(crate) async fn fetch_key_set(
    http: &reqwest::Client,
    jwks_uri: &Url,
    limits: FetchLimits,
) -> Result<KeySet, FetchError> {
    let answer = get_bounded(http, jwks_uri.as_str(), limits).await?;
    parse_key_set(jwks_uri.as_str(), &answer.body)
}

/// Parses a downloaded JWKS (`url` only names it in errors): the usable signing keys by
/// `kid`, and the fingerprint of what was published.
pub(crate) fn parse_key_set(url: &str, body: &[u8]) -> Result<KeySet, FetchError> {
    let raw: RawJwkSet = serde_json::from_slice(body).map_err(|source| FetchError::Json {
        url: url.to_owned(),
        source,
    })?;
    let fingerprint = serde_json::to_vec(&raw.keys)
        .map(|bytes| Sha256::digest(bytes).into())
        .unwrap_or_default();
    let keys = parse_keys(raw.keys);
    if keys.is_empty() {
        return Err(FetchError::NoUsableKeys(url.to_owned()));
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
