//! Rotating refresh tokens grouped in families (RFC 9700 §4.14.2): each token is single
//! use, and presenting a spent one revokes its whole family.
//!
//! Tokens are keyed by their SHA-256, so neither memory nor the data dir's database (to
//! which callers commit every new token and revocation) ever holds a usable token.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::lock::lock;

/// Lifetime of a refresh token (Auth0's default absolute lifetime, 30 days).
pub(crate) const REFRESH_TOKEN_LIFETIME: u64 = 30 * 86_400;

/// What a refresh token grants, shared by every token of its rotation family.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RefreshGrant {
    pub family: String,
    pub client_id: String,
    pub user_id: String,
    pub api: Option<String>,
    /// The scopes the family was granted: a refresh may ask for fewer, never for more
    /// (RFC 6749 §6), and they pass the scope policy again. Stored under the name data
    /// dirs have always used.
    #[serde(rename = "requested_scopes")]
    pub scopes: Vec<String>,
    pub auth_time: u64,
}

/// A refresh token a grant has minted, to be stored (and committed to the data dir) before
/// the response that carries it is sent.
#[derive(Debug)]
pub(crate) struct PendingRefresh {
    pub token: String,
    pub grant: RefreshGrant,
    pub expires_at: u64,
    /// The token it replaces when rotating: already spent in memory, and marked spent on
    /// disk in the same commit.
    pub spent: Option<String>,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub(crate) enum RefreshUse {
    /// The token was live; it is now spent.
    Fresh(RefreshGrant),
    /// The token had been used already: its whole family is now revoked (RFC 9700 §4.14.2).
    Reused { family: String },
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
    /// Expired tokens are pruned when the map reaches this size, so that an insert does not
    /// scan every token (a data dir can hold 30 days of them).
    prune_at: usize,
}

/// The smallest size at which expired refresh tokens are pruned.
const MIN_PRUNE_AT: usize = 1024;

/// The key a refresh token is stored under: its SHA-256, base64url.
pub(crate) fn token_hash(token: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

impl RefreshTokens {
    /// Stores a new refresh token of `grant.family`.
    pub(crate) fn insert(&self, token: &str, grant: RefreshGrant, expires_at: u64, now: u64) {
        self.insert_hashed(token_hash(token), grant, expires_at, false, now);
    }

    /// Stores a refresh token by its hash (loading from the data dir).
    pub(crate) fn insert_hashed(
        &self,
        hash: String,
        grant: RefreshGrant,
        expires_at: u64,
        used: bool,
        now: u64,
    ) {
        let mut inner = lock(&self.inner);
        if inner.tokens.len() >= inner.prune_at {
            inner.tokens.retain(|_, record| record.expires_at > now);
            inner.prune_at = (inner.tokens.len() * 2).max(MIN_PRUNE_AT);
        }
        inner.tokens.insert(
            hash,
            RefreshRecord {
                grant,
                used,
                expires_at,
            },
        );
    }

    /// Marks families revoked (loading from the data dir).
    pub(crate) fn revoke_families(&self, families: impl IntoIterator<Item = String>) {
        lock(&self.inner).revoked_families.extend(families);
    }

    /// Forgets every token and revocation.
    pub(crate) fn clear(&self) {
        *lock(&self.inner) = RefreshInner::default();
    }

    /// What a live, unspent refresh token of `client_id` grants, without spending it: a
    /// refresh checks the request against it first, so a refused request keeps the token.
    pub(crate) fn peek(&self, token: &str, client_id: &str, now: u64) -> Option<RefreshGrant> {
        let inner = lock(&self.inner);
        let record = inner.tokens.get(&token_hash(token))?;
        let live = !record.used
            && record.expires_at > now
            && record.grant.client_id == client_id
            && !inner.revoked_families.contains(&record.grant.family);
        live.then(|| record.grant.clone())
    }

    /// Spends a refresh token presented by `client_id`. Reuse of a spent token revokes its
    /// family; a token of another client is `Invalid` and stays unspent.
    pub(crate) fn spend(&self, token: &str, client_id: &str, now: u64) -> RefreshUse {
        let mut inner = lock(&self.inner);
        let RefreshInner {
            tokens,
            revoked_families,
            ..
        } = &mut *inner;
        let Some(record) = tokens.get_mut(&token_hash(token)) else {
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
            return RefreshUse::Reused {
                family: record.grant.family.clone(),
            };
        }
        record.used = true;
        RefreshUse::Fresh(record.grant.clone())
    }

    /// Revokes the family of `token` if it belongs to `client_id` (RFC 7009). Returns the
    /// family, if one was newly revoked.
    pub(crate) fn revoke(&self, token: &str, client_id: &str) -> Option<String> {
        let mut inner = lock(&self.inner);
        let family = match inner.tokens.get(&token_hash(token)) {
            Some(record) if record.grant.client_id == client_id => record.grant.family.clone(),
            _ => return None,
        };
        inner
            .revoked_families
            .insert(family.clone())
            .then_some(family)
    }
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
            scopes: Vec::new(),
            auth_time: 0,
        }
    }

    #[test]
    fn reusing_a_refresh_token_revokes_its_family() {
        let store = RefreshTokens::default();
        store.insert("one", grant(), 100, 0);
        assert!(matches!(store.spend("one", "c", 1), RefreshUse::Fresh(_)));
        store.insert("two", grant(), 100, 1);
        assert!(matches!(
            store.spend("one", "c", 2),
            RefreshUse::Reused { .. }
        ));
        assert!(matches!(store.spend("two", "c", 3), RefreshUse::Invalid));
    }
}
