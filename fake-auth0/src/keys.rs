//! The tenant's signing keys: the current key that signs, the next key published ahead of
//! its turn (as Auth0 does), and previous keys kept in the JWK set until the tokens they
//! signed have expired.
//!
//! Only fake-auth0 holds private keys: they live in memory, parsed once, and with
//! `--data-dir` as PKCS#8 in the data dir's database (nowhere else). Each key is used
//! directly for RS256: signing through `jsonwebtoken::encode` would re-parse the PKCS#8 key
//! on every call, which costs 2.5x. A [`KeySet`] is immutable; rotation builds a new one
//! and the token issuer swaps it in atomically, so signing never waits.

use std::sync::Arc;

use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// An RS256 signing key with its public JWK and RFC 7638 `kid`.
pub struct SigningKey {
    key_pair: KeyPair,
    kid: String,
    jwk: Jwk,
    decoding_key: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A public RSA JWK (RFC 7517 §4, RFC 7518 §6.3.1).
#[derive(Debug, Clone, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// A JWK set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key (50-100 ms: keep it off the request path).
    pub fn generate() -> anyhow::Result<SigningKey> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        Ok(Self::from_key_pair(key_pair))
    }

    /// Parses a private key stored as PKCS#8 DER (RFC 5208) by [`Self::private_pkcs8_der`].
    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<SigningKey> {
        let key_pair = KeyPair::from_pkcs8(der)
            .map_err(|error| anyhow::anyhow!("not an RSA PKCS#8 private key: {error}"))?;
        Ok(Self::from_key_pair(key_pair))
    }

    fn from_key_pair(key_pair: KeyPair) -> SigningKey {
        let components: PublicKeyComponents<Vec<u8>> = key_pair.public_key().into();
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        let kid = rsa_thumbprint(&n, &e);
        let decoding_key =
            jsonwebtoken::DecodingKey::from_rsa_raw_components(&components.n, &components.e);
        let jwk = Jwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: kid.clone(),
            n,
            e,
        };
        SigningKey {
            key_pair,
            kid,
            jwk,
            decoding_key,
        }
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// The public key with this `kid` as a `jsonwebtoken` key, to verify tokens this tenant
    /// issued (subject tokens of a token exchange, `/userinfo` bearer tokens).
    pub fn decoding_key(&self, kid: &str) -> Option<&jsonwebtoken::DecodingKey> {
        (kid == self.kid).then_some(&self.decoding_key)
    }

    /// Signs a compact JWS with RS256 (RFC 7515 §7.1) over the given header and claims.
    pub fn sign_jwt<H: Serialize, C: Serialize>(
        &self,
        header: &H,
        claims: &C,
    ) -> anyhow::Result<String> {
        let header = serde_json::to_vec(header)?;
        let claims = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(
            (header.len() + claims.len() + self.key_pair.public_modulus_len()) * 4 / 3 + 4,
        );
        URL_SAFE_NO_PAD.encode_string(&header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("RS256 signing failed"))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The PKCS#8 DER of the private key: for the data dir's database (and the signing
    /// benchmark) only; never sent or logged.
    #[doc(hidden)]
    pub fn private_pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        use aws_lc_rs::encoding::AsDer as _;
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = self
            .key_pair
            .as_der()
            .map_err(|_| anyhow::anyhow!("PKCS#8 encoding failed"))?;
        Ok(der.as_ref().to_vec())
    }
}

/// What a key is to the tenant now, as `GET /api/v2/keys/signing` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Signs every new token.
    Current,
    /// Published ahead; becomes current at the next rotation.
    Next,
    /// Signed tokens before the last rotation(s); published until they have expired.
    Previous,
}

impl KeyRole {
    /// The name stored in the data dir's database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Next => "next",
            Self::Previous => "previous",
        }
    }

    /// The role stored under `name`.
    pub fn parse(name: &str) -> Option<KeyRole> {
        match name {
            "current" => Some(Self::Current),
            "next" => Some(Self::Next),
            "previous" => Some(Self::Previous),
            _ => None,
        }
    }
}

/// A key of a [`KeySet`] with its role and its times (Unix seconds).
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub key: Arc<SigningKey>,
    pub role: KeyRole,
    /// When the key was generated.
    pub created_at: u64,
    /// When it became current (current and previous keys).
    pub current_since: Option<u64>,
    /// When it stopped being current (previous keys).
    pub current_until: Option<u64>,
    /// When it leaves the JWK set: every token it signed has expired by then
    /// (previous keys).
    pub retire_at: Option<u64>,
}

/// The tenant's keys at one moment: exactly one current, exactly one next, and the
/// previous keys not yet retired, newest first.
#[derive(Debug, Clone)]
pub struct KeySet {
    current: KeyEntry,
    next: KeyEntry,
    previous: Vec<KeyEntry>,
}

impl KeySet {
    /// A fresh set: a new current key and a new next key, generated in parallel (RSA key
    /// generation dominates start-up).
    pub fn generate(now: u64) -> anyhow::Result<KeySet> {
        let next = std::thread::spawn(SigningKey::generate);
        let current = SigningKey::generate()?;
        let next = next
            .join()
            .map_err(|_| anyhow::anyhow!("RSA key generation panicked"))??;
        Ok(KeySet {
            current: KeyEntry {
                key: Arc::new(current),
                role: KeyRole::Current,
                created_at: now,
                current_since: Some(now),
                current_until: None,
                retire_at: None,
            },
            next: Self::next_entry(next, now),
            previous: Vec::new(),
        })
    }

    fn next_entry(key: SigningKey, now: u64) -> KeyEntry {
        KeyEntry {
            key: Arc::new(key),
            role: KeyRole::Next,
            created_at: now,
            current_since: None,
            current_until: None,
            retire_at: None,
        }
    }

    /// Rebuilds a set from stored entries; fails unless there is exactly one current and
    /// one next key.
    pub fn from_entries(entries: Vec<KeyEntry>) -> anyhow::Result<KeySet> {
        let mut current = None;
        let mut next = None;
        let mut previous = Vec::new();
        for entry in entries {
            let slot = match entry.role {
                KeyRole::Current => &mut current,
                KeyRole::Next => &mut next,
                KeyRole::Previous => {
                    previous.push(entry);
                    continue;
                }
            };
            if slot.replace(entry).is_some() {
                anyhow::bail!("more than one current or next signing key");
            }
        }
        previous.sort_by_key(|entry| std::cmp::Reverse(entry.current_until));
        match (current, next) {
            (Some(current), Some(next)) => Ok(KeySet {
                current,
                next,
                previous,
            }),
            _ => anyhow::bail!("no current or no next signing key"),
        }
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        &self.current.key
    }

    /// The key that becomes current at the next rotation.
    pub fn next(&self) -> &SigningKey {
        &self.next.key
    }

    /// Every key with its role: current, next, then previous keys newest first.
    pub fn entries(&self) -> impl Iterator<Item = &KeyEntry> {
        [&self.current, &self.next]
            .into_iter()
            .chain(self.previous.iter())
    }

    /// The set after a rotation at `now`: the next key becomes current, `new_next` is
    /// published as next, and the old current key stays published for `keep_for` seconds
    /// (the longest lifetime of a token it may have signed). Retired keys are dropped.
    pub fn rotated(&self, new_next: SigningKey, now: u64, keep_for: u64) -> KeySet {
        let mut old_current = self.current.clone();
        old_current.role = KeyRole::Previous;
        old_current.current_until = Some(now);
        old_current.retire_at = Some(now.saturating_add(keep_for));
        let mut current = self.next.clone();
        current.role = KeyRole::Current;
        current.current_since = Some(now);
        let previous = std::iter::once(old_current)
            .chain(self.previous.iter().cloned())
            .filter(|entry| entry.retire_at.is_some_and(|at| at > now))
            .collect();
        KeySet {
            current,
            next: Self::next_entry(new_next, now),
            previous,
        }
    }

    /// The published keys at `now` (`/.well-known/jwks.json`): current, next, and the
    /// previous keys whose tokens may still be live.
    pub fn jwks(&self, now: u64) -> JwkSet {
        JwkSet {
            keys: self
                .entries()
                .filter(|entry| entry.retire_at.is_none_or(|at| at > now))
                .map(|entry| entry.key.jwk.clone())
                .collect(),
        }
    }

    /// The public key with this `kid`, to verify tokens this tenant issued. A retired
    /// key that has not been pruned yet only ever signed expired tokens, which fail their
    /// expiry check anyway.
    pub fn decoding_key(&self, kid: &str) -> Option<&jsonwebtoken::DecodingKey> {
        self.entries()
            .find(|entry| entry.key.kid == kid)
            .map(|entry| &entry.key.decoding_key)
    }
}

/// The tenant's published keys, for verifying subject and actor tokens of a token
/// exchange. A token without `kid` matches no key: the set always holds several, and a
/// JWKS resolver cannot choose among them either.
impl crate::token_exchange::TenantKeys for KeySet {
    fn by_kid(&self, kid: &str) -> Option<&jsonwebtoken::DecodingKey> {
        self.decoding_key(kid)
    }

    fn single(&self) -> Option<&jsonwebtoken::DecodingKey> {
        None
    }
}

/// The RFC 7638 §3 thumbprint of an RSA public key given as base64url `n` and `e`:
/// SHA-256 over `{"e":…,"kty":"RSA","n":…}` (members in lexicographic order, no spaces).
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Fresh random bytes, base64url: codes, refresh tokens, `jti`, client ids and secrets.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0; bytes];
    aws_lc_rs::rand::fill(&mut buffer).expect("the system random generator works");
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_7638_section_3_1() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let e = "AQAB";
        assert_eq!(
            rsa_thumbprint(n, e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_key() {
        let key = SigningKey::generate().unwrap();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()});
        let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000_u64});
        let token = key.sign_jwt(&header, &claims).unwrap();

        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            key.decoding_key(key.kid()).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(key.jwks().keys[0].kid, key.kid());
    }

    #[test]
    fn a_stored_key_parses_back_to_the_same_kid() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8(&key.private_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert!(SigningKey::from_pkcs8(b"not a key").is_err());
    }

    #[test]
    fn rotation_promotes_the_published_next_key_and_keeps_the_old_one_until_it_retires() {
        let set = KeySet::generate(1_000).unwrap();
        let (old, next) = (set.current().kid().to_owned(), set.next().kid().to_owned());
        let published: Vec<String> = set.jwks(1_000).keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(published, [old.clone(), next.clone()]);

        let rotated = set.rotated(SigningKey::generate().unwrap(), 2_000, 100);
        assert_eq!(rotated.current().kid(), next);
        let published: Vec<String> = rotated
            .jwks(2_050)
            .keys
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(published.len(), 3);
        assert!(published.contains(&old));
        assert!(rotated.decoding_key(&old).is_some());
        // Once every token of the old key has expired, it leaves the JWK set.
        assert!(!rotated.jwks(2_100).keys.iter().any(|k| k.kid == old));
        let again = rotated.rotated(SigningKey::generate().unwrap(), 2_200, 100);
        assert!(again.decoding_key(&old).is_none());
    }
}
