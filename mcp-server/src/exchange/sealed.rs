//! What the shared tier keeps in Redis for one subject token, and how it is sealed, so that
//! a copy of Redis alone yields no usable token.
//!
//! Two values are derived from the subject token, each with its own label, so that knowing
//! one tells nothing about the other:
//! - the **key name**: SHA-256 over a label, the subject token and the grant's fingerprint
//!   (the local cache key's construction, length-prefixed parts, with a label of its own);
//!   Redis sees only its hex form;
//! - the **encryption key**: HKDF-SHA-256 (RFC 5869) with the subject token as input key
//!   material, a fixed salt and an `info` naming AES-256-GCM and the grant.
//!
//! The value is AES-256-GCM over a small JSON document (the exchanged token, its type, scope
//! and absolute expiry), with a random 96-bit nonce and the key name as associated data
//! (an entry copied under another name does not open). Only a caller holding the subject
//! token, i.e. the user's own bearer token, can find or open the entry. Both primitives come
//! from aws-lc-rs, which the workspace already builds (jsonwebtoken's and rustls's backend):
//! no second crypto library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hkdf;
use serde::{Deserialize, Serialize};

use super::cache::digest_of;
use super::token::{AccessToken, ExchangedToken};

/// Prefix of every key the shared exchange cache writes; the version changes with the format.
const KEY_PREFIX: &str = "mcp:exchange:v1:";
/// The label of the key name's digest.
const NAME_LABEL: &[u8] = b"mcp-server exchange cache v1: key name";
/// HKDF's salt: fixed, since the input (a signed token) already has full entropy.
const HKDF_SALT: &[u8] = b"mcp-server exchange cache v1: hkdf salt";
/// HKDF's `info`, before the grant's fingerprint.
const AEAD_INFO: &[u8] = b"mcp-server exchange cache v1: aes-256-gcm key";
/// The first byte of every sealed value.
const FORMAT_VERSION: u8 = 1;

/// The plaintext of a sealed entry.
#[derive(Serialize, Deserialize)]
struct Plaintext {
    access_token: String,
    token_type: String,
    /// When the exchanged token expires, in Unix milliseconds.
    expires_at_ms: u64,
    scope: Option<String>,
    issued_token_type: Option<String>,
}

/// One subject token's place in Redis: its key names and its encryption key.
pub(super) struct SharedEntry {
    /// Where the sealed token lives.
    pub(super) name: String,
    /// The short lock taken by the replica that exchanges on a miss.
    pub(super) lock: String,
    key: RandomizedNonceKey,
}

impl SharedEntry {
    /// Derives the entry of `subject_token` for the grant with `grant_fingerprint`.
    pub(super) fn derive(subject_token: &str, grant_fingerprint: &[u8; 32]) -> Self {
        let digest = digest_of(&[NAME_LABEL, subject_token.as_bytes(), grant_fingerprint]);
        let hex = hex(&digest);
        let mut key_bytes = [0u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT)
            .extract(subject_token.as_bytes())
            .expand(&[AEAD_INFO, grant_fingerprint], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut key_bytes))
            .expect("32 bytes is a valid HKDF-SHA-256 output length");
        let key =
            RandomizedNonceKey::new(&AES_256_GCM, &key_bytes).expect("32 bytes is an AES-256 key");
        Self {
            name: format!("{KEY_PREFIX}token:{hex}"),
            lock: format!("{KEY_PREFIX}lock:{hex}"),
            key,
        }
    }

    /// `token`, received at `received`, sealed for Redis: version, nonce, ciphertext and tag.
    pub(super) fn seal(&self, token: &ExchangedToken, received: SystemTime) -> Vec<u8> {
        let expires_at = received + token.expires_in.unwrap_or_default();
        let plaintext = Plaintext {
            access_token: token.access_token.secret().to_owned(),
            token_type: token.token_type.clone(),
            expires_at_ms: unix_millis(expires_at),
            scope: token.scope.clone(),
            issued_token_type: token.issued_token_type.clone(),
        };
        let mut in_out = serde_json::to_vec(&plaintext).expect("plain strings serialise");
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(self.name.as_bytes()), &mut in_out)
            .expect("sealing a small buffer does not fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// The token sealed in `sealed`, its `expires_in` counted from `now`; `None` if it does
    /// not open with this entry's key (another format, tampered with, or not ours).
    pub(super) fn open(&self, sealed: &[u8], now: SystemTime) -> Option<ExchangedToken> {
        let (&version, rest) = sealed.split_first()?;
        if version != FORMAT_VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(self.name.as_bytes()), &mut in_out)
            .ok()?;
        let plaintext: Plaintext = serde_json::from_slice(plaintext).ok()?;
        let left_ms = plaintext.expires_at_ms.saturating_sub(unix_millis(now));
        Some(ExchangedToken {
            access_token: AccessToken::new(plaintext.access_token),
            token_type: plaintext.token_type,
            expires_in: Some(Duration::from_millis(left_ms)),
            scope: plaintext.scope,
            issued_token_type: plaintext.issued_token_type,
        })
    }
}

/// Lower-case hexadecimal, the form Redis key names take.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unix_millis(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECT: &str = "eyJhbGciOiJSUzI1NiJ9.subject-token-payload.signature";
    const FINGERPRINT: [u8; 32] = [7; 32];

    fn exchanged() -> ExchangedToken {
        ExchangedToken {
            access_token: AccessToken::new("exchanged-upstream-token"),
            token_type: "bearer".to_owned(),
            expires_in: Some(Duration::from_secs(3600)),
            scope: Some("read:private".to_owned()),
            issued_token_type: Some("urn:ietf:params:oauth:token-type:access_token".to_owned()),
        }
    }

    #[test]
    fn a_sealed_token_opens_with_the_same_subject_token_and_its_remaining_lifetime() {
        let received = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let entry = SharedEntry::derive(SUBJECT, &FINGERPRINT);
        let sealed = entry.seal(&exchanged(), received);

        let opened = SharedEntry::derive(SUBJECT, &FINGERPRINT)
            .open(&sealed, received + Duration::from_secs(600))
            .expect("the same subject token opens it");

        assert_eq!(opened.access_token, exchanged().access_token);
        assert_eq!(opened.scope.as_deref(), Some("read:private"));
        assert_eq!(opened.expires_in, Some(Duration::from_secs(3000)));
    }

    #[test]
    fn nothing_readable_reaches_redis() {
        let entry = SharedEntry::derive(SUBJECT, &FINGERPRINT);
        let sealed = entry.seal(&exchanged(), SystemTime::now());
        let stored = [entry.name.as_bytes(), entry.lock.as_bytes(), &sealed].concat();
        let text = String::from_utf8_lossy(&stored);
        for secret in [
            "exchanged-upstream-token",
            "read:private",
            "subject-token",
            "eyJ",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // Two seals of one token differ (random nonces).
        assert_ne!(sealed, entry.seal(&exchanged(), SystemTime::now()));
    }

    #[test]
    fn another_subject_token_or_grant_neither_finds_nor_opens_the_entry() {
        let now = SystemTime::now();
        let entry = SharedEntry::derive(SUBJECT, &FINGERPRINT);
        let sealed = entry.seal(&exchanged(), now);
        for other in [
            SharedEntry::derive("another-subject-token", &FINGERPRINT),
            SharedEntry::derive(SUBJECT, &[8; 32]),
        ] {
            assert_ne!(other.name, entry.name);
            assert!(other.open(&sealed, now).is_none());
        }
        // A flipped bit, or a copy under another name, does not open either.
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(entry.open(&tampered, now).is_none());
        let mut renamed = SharedEntry::derive(SUBJECT, &FINGERPRINT);
        renamed.name.push('x');
        assert!(renamed.open(&sealed, now).is_none());
    }

    #[test]
    fn the_key_name_is_not_the_local_cache_key_nor_the_encryption_key() {
        let entry = SharedEntry::derive(SUBJECT, &FINGERPRINT);
        let local = digest_of(&[SUBJECT.as_bytes(), &FINGERPRINT]);
        assert!(!entry.name.contains(&hex(&local)));
        let mut key_bytes = [0u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT)
            .extract(SUBJECT.as_bytes())
            .expand(&[AEAD_INFO, &FINGERPRINT], hkdf::HKDF_SHA256)
            .unwrap()
            .fill(&mut key_bytes)
            .unwrap();
        assert!(!entry.name.contains(&hex(&key_bytes)));
    }
}
