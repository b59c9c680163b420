//! The tenant's live token issuer (its issuer identifier, current key set and clock) and
//! the token endpoint's success response.
//!
//! Minting and verifying are pure functions in [`crate::jwt`]; this type hands them the
//! key set and the time of the moment. The key set sits behind an [`ArcSwap`]: each token
//! is signed with the current key of one loaded set, and a rotation swaps in a new set
//! without ever making a signer wait.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::jwt::{
    AccessTokenSpec, Expected, MintedToken, Minter, VerifyError, verify_tenant_token,
};
use crate::keys::KeySet;
use crate::model::User;
use crate::oauth::OAuthError;
use crate::store::PendingRefresh;

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

/// A successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1).
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    /// RFC 8693 §2.2.1: required in token-exchange responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The refresh token above, not yet stored: `/oauth/token` commits it (to the data
    /// dir, when there is one) before the response is sent.
    #[serde(skip)]
    pub pending_refresh: Option<PendingRefresh>,
}

impl TokenResponse {
    /// A bearer-token response with the given access token and granted scopes.
    pub(crate) fn bearer(minted: MintedToken, scopes: &[String]) -> Self {
        Self {
            access_token: minted.token,
            issued_token_type: None,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            id_token: None,
            refresh_token: None,
            pending_refresh: None,
        }
    }
}

impl axum::response::IntoResponse for TokenResponse {
    fn into_response(self) -> axum::response::Response {
        let mut response = axum::Json(self).into_response();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        headers.insert(
            http::header::PRAGMA,
            http::HeaderValue::from_static("no-cache"),
        );
        response
    }
}
