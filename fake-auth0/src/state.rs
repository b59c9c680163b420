//! The shared state every handler reads: the tenant, the token issuer and the stores.
//!
//! Handlers receive it as `State<Arc<AppState>>`; grants (including token exchange) take
//! `&AppState`. The tenant is read-only after start; clients registered at run time
//! (RFC 7591) live beside it in their own map.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::keys::SigningKey;
use crate::store::Stores;
use crate::tenant::{Client, Tenant};
use crate::tokens::TokenIssuer;

/// Lifetime of an authorization code (Auth0 and RFC 6749 §4.1.2 suggest short; 60 s).
pub(crate) const CODE_LIFETIME: u64 = 60;
/// Time a user has to log in and consent.
pub(crate) const LOGIN_TRANSACTION_LIFETIME: u64 = 600;
/// Lifetime of a refresh token (Auth0's default absolute lifetime, 30 days).
pub(crate) const REFRESH_TOKEN_LIFETIME: u64 = 30 * 86_400;

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The tenant as loaded at start.
    pub tenant: Tenant,
    /// Mints and checks tokens; owns the signing key and the clock.
    pub tokens: TokenIssuer,
    /// Codes, login transactions and refresh tokens.
    pub stores: Stores,
    /// The tenant's clients by id, for O(1) lookup on every token request.
    clients: HashMap<String, Arc<Client>>,
    /// Clients created through `/oidc/register`.
    registered: RwLock<HashMap<String, Arc<Client>>>,
}

impl AppState {
    /// Builds the state; generates the signing key.
    pub(crate) fn new(issuer: String, tenant: Tenant) -> anyhow::Result<AppState> {
        let key = SigningKey::generate()?;
        let clients = tenant
            .clients
            .iter()
            .map(|client| (client.client_id.clone(), Arc::new(client.clone())))
            .collect();
        Ok(AppState {
            tenant,
            tokens: TokenIssuer::new(issuer, key, Clock::system()),
            stores: Stores::default(),
            clients,
            registered: RwLock::new(HashMap::new()),
        })
    }

    /// The issuer identifier, ending with `/`.
    pub(crate) fn issuer(&self) -> &str {
        self.tokens.issuer()
    }

    /// Now, in Unix seconds, from the tenant's clock.
    pub(crate) fn now(&self) -> u64 {
        self.tokens.clock().now()
    }

    /// A client of the tenant or a dynamically registered one.
    pub(crate) fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        if let Some(client) = self.clients.get(client_id) {
            return Some(Arc::clone(client));
        }
        self.registered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(client_id)
            .cloned()
    }

    /// Adds a dynamically registered client.
    pub(crate) fn register_client(&self, client: Client) {
        self.registered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(client.client_id.clone(), Arc::new(client));
    }
}
