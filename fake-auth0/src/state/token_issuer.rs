//! The tenant's live token issuer: its issuer identifier, its current key set and its
//! clock.
//!
//! Minting and verifying are pure functions in [`crate::jwt`]; this type hands them the
//! key set and the time of the moment. The key set sits behind an [`ArcSwap`]: each token
//! is signed with the current key of one loaded set, and a rotation swaps in a new set
//! without ever making a signer wait.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::{Map, Value};

use super::clock::Clock;
use crate::jwt::{
    AccessTokenSpec, Expected, MintedToken, Minter, VerifyError, verify_tenant_token,
};
use crate::keys::KeySet;
use crate::model::User;
use crate::oauth::OAuthError;

/// Signs and checks the tenant's tokens. One per server; shared through the app state.
#[derive(Debug)]
pub(crate) struct TokenIssuer {
    /// The `iss` of every token, with its trailing slash as Auth0 writes it.
    issuer: String,
    /// Current, next and previous keys; replaced whole by a rotation.
    keys: ArcSwap<KeySet>,
    clock: Clock,
}

impl TokenIssuer {
    pub(crate) fn new(issuer: String, keys: KeySet, clock: Clock) -> Self {
        Self {
            issuer,
            keys: ArcSwap::from_pointee(keys),
            clock,
        }
    }

    /// The issuer identifier, ending with `/`.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key set now (for JWKS and for verifying this tenant's own tokens). Hold it
    /// only for the request at hand: a rotation replaces it.
    pub(crate) fn keys(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.keys.load()
    }

    /// Makes `keys` the key set every later token is signed with.
    pub(crate) fn swap_keys(&self, keys: Arc<KeySet>) {
        self.keys.store(keys);
    }

    /// The clock every expiry is computed with.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The `aud` value Auth0 adds for `/userinfo`.
    pub(crate) fn userinfo_audience(&self) -> String {
        crate::jwt::userinfo_audience(&self.issuer)
    }

    /// Mints an RS256 access token in the API's dialect, with the current key, now.
    pub(crate) fn access_token(
        &self,
        spec: &AccessTokenSpec<'_>,
    ) -> Result<MintedToken, OAuthError> {
        let keys = self.keys.load();
        self.minter(&keys).access_token(spec)
    }

    /// Mints an OpenID Connect ID token, with the current key, now.
    pub(crate) fn id_token(
        &self,
        user: &User,
        client_id: &str,
        nonce: Option<&str>,
        scopes: &[String],
        auth_time: u64,
    ) -> Result<String, OAuthError> {
        let keys = self.keys.load();
        self.minter(&keys)
            .id_token(user, client_id, nonce, scopes, auth_time)
    }

    fn minter<'k>(&'k self, keys: &'k KeySet) -> Minter<'k> {
        Minter {
            issuer: &self.issuer,
            key: keys.current(),
            now: self.clock.now(),
        }
    }

    /// Verifies a token this tenant issued for `audience`, exactly (no leeway): what a
    /// resource server of this tenant checks (`/userinfo`, the Management API).
    pub(crate) fn verify(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<Map<String, Value>, VerifyError> {
        let keys = self.keys.load();
        verify_tenant_token(
            token,
            &**keys,
            &Expected {
                issuer: &self.issuer,
                audience: Some(audience),
                now: self.clock.now(),
                leeway: 0,
            },
        )
    }
}
