//! The tenant's keys at one moment and how a rotation changes them: the current key that
//! signs, the next key published ahead of its turn (as Auth0 does), and previous keys kept
//! in the JWK set until the tokens they signed have expired.
//!
//! A [`KeySet`] is immutable; a rotation builds a new one, which the live state swaps in
//! atomically (`state::TokenIssuer`), so signing never waits for a rotation.

use std::sync::Arc;

use super::signing_key::{JwkSet, SigningKey};

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
                .map(|entry| entry.key.jwk().clone())
                .collect(),
        }
    }

    /// The public key with this `kid`, to verify tokens this tenant issued. A retired
    /// key that has not been pruned yet only ever signed expired tokens, which fail their
    /// expiry check anyway.
    pub fn decoding_key(&self, kid: &str) -> Option<&jsonwebtoken::DecodingKey> {
        self.entries().find_map(|entry| entry.key.decoding_key(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
