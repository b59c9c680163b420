//! The shared state every handler reads: the live tenant, the token issuer, the grants'
//! stores, the dynamically registered clients and, with `--data-dir`, the database.
//!
//! Handlers receive it as `State<Arc<AppState>>`; grants take `&AppState`. With a data
//! dir, every change a client is told about (a registration, a refresh token, a
//! revocation, a Management API change, a key rotation) is committed to the database
//! before the response is sent.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::client_metadata::ClientMetadataFetcher;
use super::clock::Clock;
use super::database::{self, Change, DataDirError, Database};
use super::grant_stores::GrantStores;
use super::live_tenant::{LiveTenant, TenantSnapshot};
use super::refresh_tokens::{PendingRefresh, RefreshGrant, token_hash};
use super::token_issuer::TokenIssuer;
use crate::keys::{KeySet, SigningKey};
use crate::model::{Client, ClientMetadataMode, Tenant};
use crate::oauth::{OAuthError, client_metadata};

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The current tenant; replaced whole on every change.
    tenant: LiveTenant,
    /// Mints and checks tokens; owns the signing keys and the clock.
    pub tokens: TokenIssuer,
    /// Codes, login transactions and refresh tokens.
    pub stores: GrantStores,
    /// Clients known by a Client ID Metadata Document fetched on first use (dev mode).
    pub client_metadata: ClientMetadataFetcher,
    /// Clients created through `/oidc/register` (and metadata document URLs registered
    /// through the Management API).
    registered: RwLock<HashMap<String, Arc<Client>>>,
    /// How many of `registered` came through `/oidc/register`, and the most allowed.
    registrations: RegistrationCap,
    /// The data dir's database (`--data-dir`); `None` keeps everything in memory.
    persist: Option<Persisted>,
    /// Serialises key rotations; holds a key generated ahead so a rotation need not wait
    /// for RSA key generation (see `key_rotation`).
    pub(super) rotation: tokio::sync::Mutex<Option<SigningKey>>,
    /// Token exchanges answered with a token (Custom Token Exchange and On-Behalf-Of), for
    /// `/_control/stats`: how a test proves that replicas shared one exchange.
    token_exchanges: std::sync::atomic::AtomicU64,
}

/// Why the state could not be opened at start.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The data dir cannot be used.
    DataDir(DataDirError),
    /// The signing keys cannot be generated or stored.
    Keys(anyhow::Error),
}

impl From<DataDirError> for OpenError {
    fn from(error: DataDirError) -> Self {
        Self::DataDir(error)
    }
}

/// The cap on dynamic registrations (`--max-registrations`): an unauthenticated loop on
/// `/oidc/register` must not grow the tenant without bound. A slot is taken before the
/// client is committed and given back if it is not, so concurrent registrations never pass
/// the cap.
#[derive(Debug)]
struct RegistrationCap {
    max: usize,
    taken: AtomicUsize,
}

impl RegistrationCap {
    fn take_slot(&self) -> Result<(), OAuthError> {
        let taken = self.taken.fetch_add(1, Ordering::AcqRel);
        if taken < self.max {
            return Ok(());
        }
        self.taken.fetch_sub(1, Ordering::AcqRel);
        tracing::warn!(
            max = self.max,
            "dynamic registration refused: the tenant holds --max-registrations clients"
        );
        Err(OAuthError::invalid_client_metadata(format!(
            "This tenant already has {} dynamically registered clients, its limit",
            self.max
        )))
    }

    fn give_back(&self) {
        self.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The database and what orders writes to it.
#[derive(Debug)]
struct Persisted {
    database: Database,
    /// Held while a tenant snapshot is taken and queued, so that an older snapshot can
    /// never be committed after a newer one.
    tenant_order: Mutex<()>,
}

impl AppState {
    /// Builds the state. With a data dir, loads its keys, registered clients, refresh
    /// tokens, revocations and tenant snapshot (which replaces `tenant`), creating the
    /// database on first use.
    pub(crate) fn open(
        issuer: String,
        tenant: Tenant,
        data_dir: Option<&Path>,
        max_registrations: usize,
        client_metadata: ClientMetadataFetcher,
    ) -> Result<AppState, OpenError> {
        let clock = Clock::system();
        let now = clock.now();
        let Some(dir) = data_dir else {
            return Ok(Self::assemble(
                issuer,
                tenant,
                KeySet::generate(now).map_err(OpenError::Keys)?,
                clock,
                None,
                max_registrations,
                client_metadata,
            ));
        };
        let (database, loaded) = Database::open(dir, now)?;
        let db_path = database.path().to_owned();
        let corrupt = |detail: String| DataDirError::Corrupt {
            path: db_path.clone(),
            detail,
        };
        let keys = if loaded.keys.is_empty() {
            let keys = KeySet::generate(now).map_err(OpenError::Keys)?;
            let rows = database::key_rows(&keys).map_err(OpenError::Keys)?;
            database
                .commit_blocking(Change::Keys(rows))
                .map_err(|error| OpenError::Keys(error.into()))?;
            tracing::info!(path = %database.path().display(), "data dir created; new signing keys stored");
            keys
        } else {
            database::key_set(&loaded.keys).map_err(|e| corrupt(format!("signing keys: {e}")))?
        };
        let tenant = match &loaded.tenant {
            Some(json) => {
                let mut snapshot = Tenant::from_yaml_str(json, database.path())
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
                database,
                tenant_order: Mutex::new(()),
            }),
            max_registrations,
            client_metadata,
        );
        // Clients registered before a restart count against the cap too.
        let dynamic = registered
            .keys()
            .filter(|id| !client_metadata::is_url_shaped(id))
            .count();
        state.registrations.taken.store(dynamic, Ordering::Release);
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
        max_registrations: usize,
        client_metadata: ClientMetadataFetcher,
    ) -> AppState {
        AppState {
            client_metadata,
            tenant: LiveTenant::new(tenant),
            tokens: TokenIssuer::new(issuer, keys, clock),
            stores: GrantStores::default(),
            registered: RwLock::new(HashMap::new()),
            registrations: RegistrationCap {
                max: max_registrations,
                taken: AtomicUsize::new(0),
            },
            persist,
            rotation: tokio::sync::Mutex::new(None),
            token_exchanges: std::sync::atomic::AtomicU64::new(0),
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
        self.tenant.load()
    }

    /// Replaces the whole tenant (a control reset to the tenant file). The Management API
    /// identifier follows the issuer, as at start.
    pub(crate) fn replace_tenant(&self, mut tenant: Tenant) {
        if let Ok(issuer) = url::Url::parse(self.issuer()) {
            tenant.rebase_management_api(&issuer);
        }
        self.tenant.replace(tenant);
    }

    /// Applies one change to the tenant atomically: `change` edits a copy, and the copy
    /// replaces the tenant only if `change` succeeds. Writers are serialised, readers never
    /// wait. The caller persists afterwards with [`AppState::persist_tenant`].
    pub(crate) fn update_tenant<T, E>(
        &self,
        change: impl FnOnce(&mut Tenant) -> Result<T, E>,
    ) -> Result<T, E> {
        self.tenant.update(change)
    }

    /// Writes the current tenant to the data dir, if there is one, and returns once it is
    /// committed. Called after every Management API change, before the response is sent.
    pub(crate) async fn persist_tenant(&self) -> anyhow::Result<()> {
        let Some(persisted) = &self.persist else {
            return Ok(());
        };
        let committed = {
            let _order = super::lock::lock(&persisted.tenant_order);
            let tenant = serde_json::to_string(&**self.tenant())?;
            persisted.database.commit(Change::Tenant {
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
        self.registrations.taken.store(0, Ordering::Release);
        self.stores.clear();
        if let Some(persisted) = &self.persist {
            persisted.database.commit(Change::Reset).await?;
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
            let row = database::StoredRefresh {
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
                .database
                .commit(Change::Refresh { token: row, spent })
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
            .database
            .commit(Change::RevokeFamily {
                family,
                at: self.now(),
            })
            .await
            .map_err(|error| {
                tracing::error!(%error, "a revocation could not be stored");
                OAuthError::server_error("The revocation could not be stored")
            })
    }

    /// Commits a new key set to the data dir, if there is one (a rotation, before the set
    /// takes effect).
    pub(super) async fn persist_keys(&self, keys: &KeySet) -> anyhow::Result<()> {
        if let Some(persisted) = &self.persist {
            persisted
                .database
                .commit(Change::Keys(database::key_rows(keys)?))
                .await?;
        }
        Ok(())
    }

    /// A client of the tenant, a registered one, or one whose metadata document is
    /// cached and fresh.
    pub(crate) fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        if let Some(client) = self.tenant.client(client_id) {
            return Some(client);
        }
        let registered = self
            .registered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(client_id)
            .cloned();
        registered.or_else(|| self.client_metadata.cached(client_id, self.now()))
    }

    /// Counts one token exchange answered with a token.
    pub(crate) fn count_token_exchange(&self) {
        self.token_exchanges.fetch_add(1, Ordering::Relaxed);
    }

    /// How many token exchanges were answered with a token since start.
    pub(crate) fn token_exchanges(&self) -> u64 {
        self.token_exchanges.load(Ordering::Relaxed)
    }

    /// How many clients registered themselves through `/oidc/register` (metadata
    /// document clients are not counted: they never call it).
    pub(crate) fn dynamic_registrations(&self) -> usize {
        self.registrations.taken.load(Ordering::Acquire)
    }

    /// The client a request names, fetching its Client ID Metadata Document when the id
    /// is an unregistered URL and the tenant fetches on first use. `Ok(None)`: no such
    /// client. `Err`: the `invalid_client` description for a URL that cannot be used.
    pub(crate) async fn resolve_client(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<Client>>, String> {
        if let Some(client) = self.client(client_id) {
            return Ok(Some(client));
        }
        if !client_metadata::is_url_shaped(client_id) {
            return Ok(None);
        }
        let settings = self.tenant().settings.clone();
        if !settings.client_id_metadata_document_supported {
            return Err("This tenant does not accept Client ID Metadata Documents".to_owned());
        }
        let url = client_metadata::ClientIdUrl::parse(client_id)?;
        match settings.client_id_metadata_document_mode {
            ClientMetadataMode::RegisteredOnly => Err(format!(
                "The client metadata document URL {} is not registered with this tenant",
                url.as_str()
            )),
            ClientMetadataMode::FetchOnFirstUse => self
                .client_metadata
                .resolve(&url, self.now())
                .await
                .map(Some),
        }
    }

    /// Adds a registered client, committed to the data dir first when there is one. A
    /// client of `/oidc/register` (not a metadata document URL) takes one of the tenant's
    /// `--max-registrations` slots, or is refused with `invalid_client_metadata`.
    pub(crate) async fn register_client(&self, client: Client) -> Result<(), OAuthError> {
        let dynamic = !client_metadata::is_url_shaped(&client.client_id);
        if dynamic {
            self.registrations.take_slot()?;
        }
        let stored = self.store_client(client).await;
        if stored.is_err() && dynamic {
            self.registrations.give_back();
        }
        stored
    }

    async fn store_client(&self, client: Client) -> Result<(), OAuthError> {
        if let Some(persisted) = &self.persist {
            let json = serde_json::to_string(&client).map_err(|error| {
                tracing::error!(%error, "a registered client could not be serialised");
                OAuthError::server_error("The client could not be stored")
            })?;
            persisted
                .database
                .commit(Change::Client {
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
