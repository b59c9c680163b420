//! In-memory state that lives between requests: login transactions, authorization codes
//! and refresh-token families.
//!
//! Each store is a small type behind its own mutex, held only for a map operation and
//! never across an `.await`. Codes are single use (`take`), refresh tokens rotate.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// A map whose entries expire; expired entries are pruned on insert.
#[derive(Debug)]
pub(crate) struct ExpiringMap<V> {
    entries: Mutex<HashMap<String, (u64, V)>>,
}

impl<V> Default for ExpiringMap<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> ExpiringMap<V> {
    /// Stores `value` under `key` until `expires_at` (Unix seconds).
    pub(crate) fn insert(&self, key: String, value: V, expires_at: u64, now: u64) {
        let mut entries = lock(&self.entries);
        entries.retain(|_, (expiry, _)| *expiry > now);
        entries.insert(key, (expires_at, value));
    }

    /// Removes and returns the value, or `None` if absent or expired (single use).
    pub(crate) fn take(&self, key: &str, now: u64) -> Option<V> {
        let (expiry, value) = lock(&self.entries).remove(key)?;
        (expiry > now).then_some(value)
    }

    /// A copy of the value, if present and not expired.
    pub(crate) fn get(&self, key: &str, now: u64) -> Option<V> {
        let entries = lock(&self.entries);
        let (expiry, value) = entries.get(key)?;
        (*expiry > now).then(|| value.clone())
    }

    /// Replaces the value of a live entry, keeping its expiry.
    pub(crate) fn update(&self, key: &str, value: V, now: u64) -> bool {
        let mut entries = lock(&self.entries);
        match entries.get_mut(key) {
            Some((expiry, slot)) if *expiry > now => {
                *slot = value;
                true
            }
            _ => false,
        }
    }
}

/// Locks a mutex, recovering from poisoning: every critical section here is a single map
/// operation, so a panic elsewhere cannot leave the map half-updated.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An authorization request between `/authorize` and the code: what the client asked for,
/// and after login, who the user is.
#[derive(Debug, Clone)]
pub(crate) struct LoginTransaction {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The API identifier, if the request named one (audience or resource).
    pub api: Option<String>,
    pub requested_scopes: Vec<String>,
    /// Set once the user has logged in (before consent).
    pub user_id: Option<String>,
    pub auth_time: u64,
}

/// An issued authorization code (RFC 6749 §4.1.2): bound to client, redirect URI and PKCE
/// challenge, carrying what was granted.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub user_id: String,
    pub nonce: Option<String>,
    pub api: Option<String>,
    pub requested_scopes: Vec<String>,
    pub auth_time: u64,
}

/// What a refresh token grants, shared by every token of its rotation family.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub family: String,
    pub client_id: String,
    pub user_id: String,
    pub api: Option<String>,
    pub requested_scopes: Vec<String>,
    pub auth_time: u64,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub(crate) enum RefreshUse {
    /// The token was live; it is now spent.
    Fresh(RefreshGrant),
    /// The token had been used already: its whole family is now revoked (RFC 9700 §4.14.2).
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(Debug)]
struct RefreshRecord {
    grant: RefreshGrant,
    used: bool,
    expires_at: u64,
}

/// Rotating refresh tokens grouped in families.
#[derive(Debug, Default)]
pub(crate) struct RefreshTokens {
    inner: Mutex<RefreshInner>,
}

#[derive(Debug, Default)]
struct RefreshInner {
    tokens: HashMap<String, RefreshRecord>,
    revoked_families: HashSet<String>,
}

impl RefreshTokens {
    /// Stores a new refresh token of `grant.family`.
    pub(crate) fn insert(&self, token: String, grant: RefreshGrant, expires_at: u64, now: u64) {
        let mut inner = lock(&self.inner);
        inner.tokens.retain(|_, record| record.expires_at > now);
        inner.tokens.insert(
            token,
            RefreshRecord {
                grant,
                used: false,
                expires_at,
            },
        );
    }

    /// Spends a refresh token presented by `client_id`. Reuse of a spent token revokes its
    /// family; a token of another client is `Invalid` and stays unspent.
    pub(crate) fn spend(&self, token: &str, client_id: &str, now: u64) -> RefreshUse {
        let mut inner = lock(&self.inner);
        let RefreshInner {
            tokens,
            revoked_families,
        } = &mut *inner;
        let Some(record) = tokens.get_mut(token) else {
            return RefreshUse::Invalid;
        };
        if record.expires_at <= now
            || record.grant.client_id != client_id
            || revoked_families.contains(&record.grant.family)
        {
            return RefreshUse::Invalid;
        }
        if record.used {
            revoked_families.insert(record.grant.family.clone());
            return RefreshUse::Reused;
        }
        record.used = true;
        RefreshUse::Fresh(record.grant.clone())
    }

    /// Revokes the family of `token` if it belongs to `client_id` (RFC 7009). Returns whether
    /// a family was revoked.
    pub(crate) fn revoke(&self, token: &str, client_id: &str) -> bool {
        let mut inner = lock(&self.inner);
        let family = match inner.tokens.get(token) {
            Some(record) if record.grant.client_id == client_id => record.grant.family.clone(),
            _ => return false,
        };
        inner.revoked_families.insert(family)
    }
}

/// Every store of the server.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    pub transactions: ExpiringMap<LoginTransaction>,
    pub codes: ExpiringMap<AuthorizationCode>,
    pub refresh_tokens: RefreshTokens,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> RefreshGrant {
        RefreshGrant {
            family: "f".to_owned(),
            client_id: "c".to_owned(),
            user_id: "u".to_owned(),
            api: None,
            requested_scopes: Vec::new(),
            auth_time: 0,
        }
    }

    #[test]
    fn reusing_a_refresh_token_revokes_its_family() {
        let store = RefreshTokens::default();
        store.insert("one".to_owned(), grant(), 100, 0);
        assert!(matches!(store.spend("one", "c", 1), RefreshUse::Fresh(_)));
        store.insert("two".to_owned(), grant(), 100, 1);
        assert!(matches!(store.spend("one", "c", 2), RefreshUse::Reused));
        assert!(matches!(store.spend("two", "c", 3), RefreshUse::Invalid));
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let map = ExpiringMap::default();
        map.insert("a".to_owned(), 1, 10, 0);
        map.insert("b".to_owned(), 2, 10, 0);
        assert_eq!(map.take("a", 5), Some(1));
        assert_eq!(map.take("a", 5), None);
        assert_eq!(map.take("b", 10), None);
    }
}
