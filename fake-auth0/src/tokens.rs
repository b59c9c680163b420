//! Minting access tokens and ID tokens, and checking tokens this tenant issued.
//!
//! Every grant (including token exchange) mints through [`TokenIssuer`], so the shape of a
//! token depends only on the API's token dialect and never on the grant that asked for it.
//! The issuer holds the tenant's [`KeySet`] behind an [`ArcSwap`]: each token is signed
//! with the current key of one loaded set, and a rotation swaps in a new set without ever
//! making a signer wait.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::keys::{KeySet, SigningKey, random_token};
use crate::model::{ResourceServer, Tenant, TokenDialect, User};
use crate::oauth_error::OAuthError;
use crate::store::PendingRefresh;

/// Lifetime of access tokens that name no API (Auth0's userinfo-only tokens).
const USERINFO_TOKEN_LIFETIME: u64 = 86_400;
/// Lifetime of ID tokens (Auth0's default, 10 hours).
const ID_TOKEN_LIFETIME: u64 = 36_000;
/// Clock skew verifiers commonly allow; a retired key stays published this much longer.
const VERIFIER_LEEWAY: u64 = 60;

/// How long a key that stops being current must stay published: the longest lifetime of
/// any token it may have signed (every API's, userinfo-only and ID tokens), plus leeway.
pub(crate) fn longest_token_lifetime(tenant: &Tenant) -> u64 {
    tenant
        .resource_servers
        .iter()
        .map(|api| api.token_lifetime)
        .chain([USERINFO_TOKEN_LIFETIME, ID_TOKEN_LIFETIME])
        .max()
        .unwrap_or(USERINFO_TOKEN_LIFETIME)
        .saturating_add(VERIFIER_LEEWAY)
}

/// Signs the tenant's tokens. One per server; shared through the app state.
#[derive(Debug)]
pub(crate) struct TokenIssuer {
    /// The `iss` of every token, with its trailing slash as Auth0 writes it.
    issuer: String,
    /// Current, next and previous keys; replaced whole by a rotation.
    keys: ArcSwap<KeySet>,
    clock: Clock,
}

/// Auth0's `gty` claim ("grant type"), set in Auth0's own dialects for some grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gty {
    ClientCredentials,
    Password,
}

impl Gty {
    fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client-credentials",
            Self::Password => "password",
        }
    }
}

/// What an access token says; the dialect of `api` decides how it says it.
#[derive(Debug)]
pub(crate) struct AccessTokenSpec<'a> {
    /// `sub`: a `user_id`, or `<client_id>@clients` for machine tokens.
    pub subject: &'a str,
    /// The client the token is issued to (`client_id` or `azp`).
    pub client_id: &'a str,
    /// The API (audience); `None` gives a token for `/userinfo` only.
    pub api: Option<&'a ResourceServer>,
    /// Every granted scope, written space-separated in `scope` (OIDC scopes included).
    pub scopes: &'a [String],
    /// The subject's permissions on the API, written only by the `_authz` dialects.
    pub permissions: &'a [String],
    /// `gty`, written only by Auth0's own dialects.
    pub gty: Option<Gty>,
    /// Adds `<issuer>userinfo` to `aud` (when `openid` was granted), as Auth0 does.
    pub userinfo_audience: bool,
    /// Further claims, e.g. `act` (RFC 8693 §4.1).
    pub extra_claims: Map<String, Value>,
}

/// A minted access token.
#[derive(Debug)]
pub(crate) struct MintedToken {
    pub token: String,
    pub expires_in: u64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    iat: u64,
    exp: u64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    azp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gty: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<&'a [String]>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
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
        format!("{}userinfo", self.issuer)
    }

    /// Mints an RS256 access token in the API's dialect.
    pub(crate) fn access_token(
        &self,
        spec: &AccessTokenSpec<'_>,
    ) -> Result<MintedToken, OAuthError> {
        let userinfo = self.userinfo_audience();
        let (dialect, lifetime, aud) = match spec.api {
            Some(api) => {
                let aud = if spec.userinfo_audience {
                    Audience::Many(vec![api.identifier.as_str(), userinfo.as_str()])
                } else {
                    Audience::One(api.identifier.as_str())
                };
                (api.token_dialect, api.token_lifetime, aud)
            }
            None => (
                TokenDialect::AccessToken,
                USERINFO_TOKEN_LIFETIME,
                Audience::One(userinfo.as_str()),
            ),
        };
        let now = self.clock.now();
        let rfc9068 = dialect.is_rfc9068();
        let claims = AccessTokenClaims {
            iss: &self.issuer,
            sub: spec.subject,
            aud,
            iat: now,
            exp: now + lifetime,
            jti: random_token(16),
            client_id: rfc9068.then_some(spec.client_id),
            azp: (!rfc9068).then_some(spec.client_id),
            scope: (!spec.scopes.is_empty()).then(|| spec.scopes.join(" ")),
            gty: if rfc9068 {
                None
            } else {
                spec.gty.map(Gty::as_str)
            },
            permissions: dialect.has_permissions().then_some(spec.permissions),
            extra: &spec.extra_claims,
        };
        let keys = self.keys.load();
        let key = keys.current();
        let header = Header {
            alg: "RS256",
            typ: if rfc9068 { "at+jwt" } else { "JWT" },
            kid: key.kid(),
        };
        let token = Self::sign(key, &header, &claims)?;
        Ok(MintedToken {
            token,
            expires_in: lifetime,
        })
    }

    /// Mints an OpenID Connect ID token for `user` and `client_id` (OIDC Core §2). Profile
    /// and email claims follow the `profile` and `email` scopes.
    pub(crate) fn id_token(
        &self,
        user: &User,
        client_id: &str,
        nonce: Option<&str>,
        scopes: &[String],
        auth_time: u64,
    ) -> Result<String, OAuthError> {
        let has = |scope: &str| scopes.iter().any(|s| s == scope);
        let now = self.clock.now();
        let profile = has("profile");
        let email = has("email");
        let claims = IdTokenClaims {
            iss: &self.issuer,
            sub: &user.user_id,
            aud: client_id,
            iat: now,
            exp: now + ID_TOKEN_LIFETIME,
            auth_time,
            nonce,
            name: user.name.as_deref().filter(|_| profile),
            nickname: user.nickname.as_deref().filter(|_| profile),
            email: email.then_some(user.email.as_str()),
            email_verified: email.then_some(user.email_verified),
        };
        let keys = self.keys.load();
        let key = keys.current();
        let header = Header {
            alg: "RS256",
            typ: "JWT",
            kid: key.kid(),
        };
        Self::sign(key, &header, &claims)
    }

    fn sign<C: Serialize>(
        key: &SigningKey,
        header: &Header<'_>,
        claims: &C,
    ) -> Result<String, OAuthError> {
        key.sign_jwt(header, claims).map_err(|error| {
            tracing::error!(%error, "signing a token failed");
            OAuthError::server_error("The token could not be signed")
        })
    }

    /// Verifies a JWT this tenant issued: RS256 with the tenant's key, `iss` = this issuer,
    /// `aud` containing `audience`, not expired by [`Clock`]. Returns the claims, or a
    /// reason fit for an `error_description`.
    pub(crate) fn verify(&self, token: &str, audience: &str) -> Result<Map<String, Value>, String> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| "The token is not a JWT".to_owned())?;
        let kid = header.kid.as_deref().unwrap_or_default();
        let keys = self.keys.load();
        let key = keys
            .decoding_key(kid)
            .ok_or_else(|| "The token was not signed by this tenant".to_owned())?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below against the tenant's clock.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|error| format!("The token is invalid: {error}"))?;
        let exp = data.claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        if exp <= self.clock.now() {
            return Err("The token has expired".to_owned());
        }
        Ok(data.claims)
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
