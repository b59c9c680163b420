//! The shared state every handler reads: the tenant, the token issuer and the stores.
//!
//! Handlers receive it as `State<Arc<AppState>>`; grants (including token exchange) take
//! `&AppState`. The tenant can change at run time (the Management API, a control reset), so
//! it sits behind an [`ArcSwap`]: a request takes one snapshot with [`AppState::tenant`] and
//! sees a consistent tenant for its whole life, while a writer swaps in a new one without
//! blocking readers. Clients registered at run time (RFC 7591) live beside it in their own map.
//!
//! With `--data-dir`, every change a client is told about (a registration, a refresh token,
//! a revocation, a Management API change, a key rotation) is committed to the data dir's
//! database before the response is sent; see `persist`.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::clock::Clock;
use crate::keys::{KeySet, SigningKey};
use crate::model::{Client, Tenant};
use crate::oauth::OAuthError;
use crate::persist::{self, DataDirError, Store, Write};
use crate::store::{PendingRefresh, RefreshGrant, Stores, token_hash};
use crate::tokens::TokenIssuer;

/// Lifetime of an authorization code (Auth0 and RFC 6749 §4.1.2 suggest short; 60 s).
pub(crate) const CODE_LIFETIME: u64 = 60;
/// Time a user has to log in and consent.
pub(crate) const LOGIN_TRANSACTION_LIFETIME: u64 = 600;
/// Lifetime of a refresh token (Auth0's default absolute lifetime, 30 days).
pub(crate) const REFRESH_TOKEN_LIFETIME: u64 = 30 * 86_400;

/// One version of the tenant with its client index; it dereferences to [`Tenant`].
#[derive(Debug)]
pub(crate) struct TenantSnapshot {
    tenant: Tenant,
    /// The tenant's clients by id, for O(1) lookup on every token request.
    clients: HashMap<String, Arc<Client>>,
}

impl TenantSnapshot {
    fn new(tenant: Tenant) -> TenantSnapshot {
        let clients = tenant
            .clients
            .iter()
            .map(|client| (client.client_id.clone(), Arc::new(client.clone())))
            .collect();
        TenantSnapshot { tenant, clients }
    }
}

impl Deref for TenantSnapshot {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.tenant
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The current tenant; replaced whole on every change.
    tenant: ArcSwap<TenantSnapshot>,
    /// Serialises writers so that two concurrent changes cannot lose one another.
    tenant_writer: Mutex<()>,
    /// Mints and checks tokens; owns the signing key and the clock.
    pub tokens: TokenIssuer,
    /// Codes, login transactions and refresh tokens.
    pub stores: Stores,
    /// Clients created through `/oidc/register`.
    registered: RwLock<HashMap<String, Arc<Client>>>,
    /// The data dir's database (`--data-dir`); `None` keeps everything in memory.
    persist: Option<Persisted>,
    /// Serialises key rotations; holds a key generated ahead so a rotation need not wait
    /// for RSA key generation.
    rotation: tokio::sync::Mutex<Option<SigningKey>>,
}

/// The database and what orders writes to it.
#[derive(Debug)]
struct Persisted {
    store: Store,
    /// Held while a tenant snapshot is taken and queued, so that an older snapshot can
    /// never be committed after a newer one.
    tenant_order: Mutex<()>,
}

impl AppState {
    /// Builds the state. With a data dir, loads its keys, registered clients, refresh
    /// tokens, revocations and tenant snapshot (which replaces `tenant`), creating the
    /// database on first use; errors about the data dir are [`DataDirError`]s.
    pub(crate) fn open(
        issuer: String,
        tenant: Tenant,
        data_dir: Option<&Path>,
    ) -> anyhow::Result<AppState> {
        let clock = Clock::system();
        let now = clock.now();
        let Some(dir) = data_dir else {
            return Ok(Self::assemble(
                issuer,
                tenant,
                KeySet::generate(now)?,
                clock,
                None,
            ));
        };
        let (store, loaded) = Store::open(dir, now)?;
        let db_path = store.path().to_owned();
        let corrupt = |detail: String| DataDirError::Corrupt {
            path: db_path.clone(),
            detail,
        };
        let keys = if loaded.keys.is_empty() {
            let keys = KeySet::generate(now)?;
            store.commit_blocking(Write::Keys(persist::key_rows(&keys)?))?;
            tracing::info!(path = %store.path().display(), "data dir created; new signing keys stored");
            keys
        } else {
            persist::key_set(&loaded.keys).map_err(|e| corrupt(format!("signing keys: {e}")))?
        };
        let tenant = match &loaded.tenant {
            Some(json) => {
                let mut snapshot = Tenant::from_yaml_str(json, store.path())
                    .map_err(|e| corrupt(format!("tenant snapshot: {e}")))?;
                if let Ok(issuer) = url::Url::parse(&issuer) {
                    snapshot.rebase_management_api(&issuer);
                }
                tracing::info!(
                    "serving the tenant as last changed through the Management API \
                     (stored in the data dir), not the tenant file"
                );
                snapshot
            }
            None => tenant,
        };
        let mut registered = HashMap::new();
        for json in &loaded.clients {
            let client: Client = serde_json::from_str(json)
                .map_err(|e| corrupt(format!("registered client: {e}")))?;
            registered.insert(client.client_id.clone(), Arc::new(client));
        }
        let state = Self::assemble(
            issuer,
            tenant,
            keys,
            clock,
            Some(Persisted {
                store,
                tenant_order: Mutex::new(()),
            }),
        );
        *state
            .registered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = registered;
        for row in loaded.refresh_tokens {
            let grant: RefreshGrant = serde_json::from_str(&row.grant)
                .map_err(|e| corrupt(format!("refresh token: {e}")))?;
            state.stores.refresh_tokens.insert_hashed(
                row.token_hash,
                grant,
                row.expires_at,
                row.used,
                now,
            );
        }
        state
            .stores
            .refresh_tokens
            .revoke_families(loaded.revoked_families);
        tracing::info!(
            kid = state.tokens.keys().current().kid(),
            clients = loaded.clients.len(),
            "data dir loaded"
        );
        Ok(state)
    }

    fn assemble(
        issuer: String,
        tenant: Tenant,
        keys: KeySet,
        clock: Clock,
        persist: Option<Persisted>,
    ) -> AppState {
        AppState {
            tenant: ArcSwap::from_pointee(TenantSnapshot::new(tenant)),
            tenant_writer: Mutex::new(()),
            tokens: TokenIssuer::new(issuer, keys, clock),
            stores: Stores::default(),
            registered: RwLock::new(HashMap::new()),
            persist,
            rotation: tokio::sync::Mutex::new(None),
        }
    }

    /// The issuer identifier, ending with `/`.
    pub(crate) fn issuer(&self) -> &str {
        self.tokens.issuer()
    }

    /// Now, in Unix seconds, from the tenant's clock.
    pub(crate) fn now(&self) -> u64 {
        self.tokens.clock().now()
    }

    /// The current tenant. Take it once per request: later changes do not affect a snapshot.
    pub(crate) fn tenant(&self) -> Arc<TenantSnapshot> {
        self.tenant.load_full()
    }

    /// Replaces the whole tenant (a control reset to the tenant file). The Management API
    /// identifier follows the issuer, as at start.
    pub(crate) fn replace_tenant(&self, mut tenant: Tenant) {
        if let Ok(issuer) = url::Url::parse(self.issuer()) {
            tenant.rebase_management_api(&issuer);
        }
        let _writer = self
            .tenant_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.tenant.store(Arc::new(TenantSnapshot::new(tenant)));
    }

    /// Applies one change to the tenant atomically: `change` edits a copy, and the copy
    /// replaces the tenant only if `change` succeeds. Writers are serialised, readers never
    /// wait. The caller persists afterwards with [`AppState::persist_tenant`].
    pub(crate) fn update_tenant<T, E>(
        &self,
        change: impl FnOnce(&mut Tenant) -> Result<T, E>,
    ) -> Result<T, E> {
        let _writer = self
            .tenant_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut tenant = self.tenant.load().tenant.clone();
        let result = change(&mut tenant)?;
        self.tenant.store(Arc::new(TenantSnapshot::new(tenant)));
        Ok(result)
    }

    /// Writes the current tenant to the data dir, if there is one, and returns once it is
    /// committed. Called after every Management API change, before the response is sent.
    pub(crate) async fn persist_tenant(&self) -> anyhow::Result<()> {
        let Some(persisted) = &self.persist else {
            return Ok(());
        };
        let committed = {
            let _order = persisted
                .tenant_order
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let tenant = serde_json::to_string(&**self.tenant())?;
            persisted.store.commit(Write::Tenant {
                tenant,
                at: self.now(),
            })
        };
        committed.await?;
        Ok(())
    }

    /// Forgets every registered client, refresh token, revocation, code and login
    /// transaction, in memory and in the data dir, and the data dir's tenant snapshot (so
    /// a restart serves the tenant file); keeps the signing keys, so tokens issued before
    /// still verify (a control reset).
    pub(crate) async fn reset_persisted(&self) -> anyhow::Result<()> {
        self.registered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.stores.clear();
        if let Some(persisted) = &self.persist {
            persisted.store.commit(Write::Reset).await?;
        }
        Ok(())
    }

    /// Commits a refresh token a grant minted (and marks the one it replaces spent), then
    /// makes it usable. Fails with `server_error` if the data dir does not commit: the
    /// token is then never handed out.
    pub(crate) async fn save_refresh_token(
        &self,
        pending: PendingRefresh,
    ) -> Result<String, OAuthError> {
        let PendingRefresh {
            token,
            grant,
            expires_at,
            spent,
        } = pending;
        if let Some(persisted) = &self.persist {
            let row = persist::StoredRefresh {
                token_hash: token_hash(&token),
                family: grant.family.clone(),
                grant: serde_json::to_string(&grant).map_err(|error| {
                    tracing::error!(%error, "a refresh grant could not be serialised");
                    OAuthError::server_error("The refresh token could not be stored")
                })?,
                expires_at,
                used: false,
            };
            let spent = spent.as_deref().map(token_hash);
            persisted
                .store
                .commit(Write::Refresh { token: row, spent })
                .await
                .map_err(|error| {
                    tracing::error!(%error, "a refresh token could not be stored");
                    OAuthError::server_error("The refresh token could not be stored")
                })?;
        }
        self.stores
            .refresh_tokens
            .insert(&token, grant, expires_at, self.now());
        Ok(token)
    }

    /// Commits the revocation of a refresh-token family (already revoked in memory).
    pub(crate) async fn persist_revocation(&self, family: String) -> Result<(), OAuthError> {
        let Some(persisted) = &self.persist else {
            return Ok(());
        };
        persisted
            .store
            .commit(Write::RevokeFamily {
                family,
                at: self.now(),
            })
            .await
            .map_err(|error| {
                tracing::error!(%error, "a revocation could not be stored");
                OAuthError::server_error("The revocation could not be stored")
            })
    }

    /// Rotates the signing keys: the published next key becomes current, a new next key
    /// is published, and the old current key stays in the JWK set until every token it
    /// signed has expired. Committed to the data dir before it takes effect. Returns the
    /// new key set.
    pub(crate) async fn rotate_keys(self: &Arc<Self>) -> anyhow::Result<Arc<KeySet>> {
        let mut spare = self.rotation.lock().await;
        let new_next = match spare.take() {
            Some(key) => key,
            None => tokio::task::spawn_blocking(SigningKey::generate).await??,
        };
        let keep_for = crate::jwt::longest_token_lifetime(&self.tenant());
        let keys = Arc::new(self.tokens.keys().rotated(new_next, self.now(), keep_for));
        if let Some(persisted) = &self.persist {
            persisted
                .store
                .commit(Write::Keys(persist::key_rows(&keys)?))
                .await?;
        }
        self.tokens.swap_keys(Arc::clone(&keys));
        drop(spare);
        tracing::info!(
            kid = keys.current().kid(),
            next = keys.next().kid(),
            "signing keys rotated"
        );
        // Generate the key after next now, so the next rotation is instant.
        let state = Arc::clone(self);
        tokio::spawn(async move {
            if let Ok(Ok(key)) = tokio::task::spawn_blocking(SigningKey::generate).await {
                state.rotation.lock().await.get_or_insert(key);
            }
        });
        Ok(keys)
    }

    /// Rotates the keys every `every` (`--rotate-every`), for as long as the state lives.
    pub(crate) fn spawn_scheduled_rotation(self: &Arc<Self>, every: Duration) {
        let state: Weak<AppState> = Arc::downgrade(self);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(state) = state.upgrade() else {
                    return;
                };
                if let Err(error) = state.rotate_keys().await {
                    tracing::error!(%error, "scheduled key rotation failed");
                }
            }
        });
    }

    /// A client of the tenant or a dynamically registered one.
    pub(crate) fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        if let Some(client) = self.tenant.load().clients.get(client_id) {
            return Some(Arc::clone(client));
        }
        self.registered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(client_id)
            .cloned()
    }

    /// Adds a dynamically registered client, committed to the data dir first when there
    /// is one.
    pub(crate) async fn register_client(&self, client: Client) -> Result<(), OAuthError> {
        if let Some(persisted) = &self.persist {
            let json = serde_json::to_string(&client).map_err(|error| {
                tracing::error!(%error, "a registered client could not be serialised");
                OAuthError::server_error("The client could not be stored")
            })?;
            persisted
                .store
                .commit(Write::Client {
                    client_id: client.client_id.clone(),
                    client: json,
                    created_at: self.now(),
                })
                .await
                .map_err(|error| {
                    tracing::error!(%error, "a registered client could not be stored");
                    OAuthError::server_error("The client could not be stored")
                })?;
        }
        self.registered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(client.client_id.clone(), Arc::new(client));
        Ok(())
    }
}
