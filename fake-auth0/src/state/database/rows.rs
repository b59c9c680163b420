//! What the database stores, as rows: signing keys (PKCS#8), refresh tokens (by SHA-256,
//! never the token), the changes a request commits ([`Change`]) and what start-up loads
//! ([`Loaded`]); and the conversion between a key set and its rows.

use std::sync::Arc;

use crate::keys::{KeyEntry, KeyRole, KeySet, SigningKey};

/// A signing key as stored: the private key as PKCS#8 DER, its role and times.
#[derive(Debug, Clone)]
pub(crate) struct StoredKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub role: String,
    pub created_at: u64,
    pub current_since: Option<u64>,
    pub current_until: Option<u64>,
    pub retire_at: Option<u64>,
}

/// A refresh token as stored: only its SHA-256, never the token itself.
#[derive(Debug, Clone)]
pub(crate) struct StoredRefresh {
    pub token_hash: String,
    pub family: String,
    /// The grant as JSON (`state::RefreshGrant`).
    pub grant: String,
    pub expires_at: u64,
    pub used: bool,
}

/// One change to commit.
#[derive(Debug)]
pub(crate) enum Change {
    /// Replaces the whole key set (a handful of rows).
    Keys(Vec<StoredKey>),
    /// Adds a dynamically registered client (the tenant's `Client` as JSON).
    Client {
        client_id: String,
        client: String,
        created_at: u64,
    },
    /// Adds a refresh token and, when rotating, marks the presented one spent: both in
    /// one transaction, so a restart never revives a spent token.
    Refresh {
        token: StoredRefresh,
        spent: Option<String>,
    },
    /// Revokes a refresh-token family (RFC 7009, or reuse detection).
    RevokeFamily { family: String, at: u64 },
    /// Stores the tenant as changed through the Management API (JSON).
    Tenant { tenant: String, at: u64 },
    /// Forgets clients, refresh tokens, revocations and the tenant snapshot; keeps keys.
    Reset,
}

/// What the data dir held at start.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub keys: Vec<StoredKey>,
    /// Registered clients as JSON.
    pub clients: Vec<String>,
    pub refresh_tokens: Vec<StoredRefresh>,
    pub revoked_families: Vec<String>,
    /// The tenant snapshot as JSON, if the Management API ever changed it.
    pub tenant: Option<String>,
}

/// The rows that store a key set.
pub(crate) fn key_rows(keys: &KeySet) -> anyhow::Result<Vec<StoredKey>> {
    keys.entries()
        .map(|entry| {
            Ok(StoredKey {
                kid: entry.key.kid().to_owned(),
                pkcs8: entry.key.private_pkcs8_der()?,
                role: entry.role.as_str().to_owned(),
                created_at: entry.created_at,
                current_since: entry.current_since,
                current_until: entry.current_until,
                retire_at: entry.retire_at,
            })
        })
        .collect()
}

/// The key set stored in `rows`; fails on a key that does not parse or does not match its
/// `kid`, or a set without exactly one current and one next key.
pub(crate) fn key_set(rows: &[StoredKey]) -> anyhow::Result<KeySet> {
    let entries = rows
        .iter()
        .map(|row| {
            let key = SigningKey::from_pkcs8(&row.pkcs8)?;
            anyhow::ensure!(
                key.kid() == row.kid,
                "key {} does not match its kid",
                row.kid
            );
            let role = KeyRole::parse(&row.role)
                .ok_or_else(|| anyhow::anyhow!("unknown key role {}", row.role))?;
            Ok(KeyEntry {
                key: Arc::new(key),
                role,
                created_at: row.created_at,
                current_since: row.current_since,
                current_until: row.current_until,
                retire_at: row.retire_at,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    KeySet::from_entries(entries)
}
