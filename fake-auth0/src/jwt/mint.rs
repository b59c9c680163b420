//! Minting the tenant's JWTs: access tokens in the API's token dialect and OpenID Connect
//! ID tokens, signed RS256 with the current key.
//!
//! Every grant (including token exchange) and the control surface mint here, so the shape
//! of a token depends only on the API's dialect and never on who asked for it. Minting is
//! a pure function of the issuer, the key, the time and the [`AccessTokenSpec`]: the live
//! key set and the clock belong to the state (`state::TokenIssuer`).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::keys::SigningKey;
use crate::model::{ProfileClaims, ResourceServer, Tenant, TokenDialect, User};
use crate::oauth::{OAuthError, random_token};

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
    #[serde(flatten)]
    profile: ProfileClaims<'a>,
}

/// What every token of one moment is minted with: the tenant's issuer, its current key and
/// the tenant clock's "now".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Minter<'a> {
    /// The `iss` of every token, with its trailing slash as Auth0 writes it.
    pub issuer: &'a str,
    /// The key that signs (the key set's current key).
    pub key: &'a SigningKey,
    /// `iat`, in Unix seconds.
    pub now: u64,
}

/// The `aud` value Auth0 adds for `/userinfo`: `<issuer>userinfo`.
pub(crate) fn userinfo_audience(issuer: &str) -> String {
    format!("{issuer}userinfo")
}

impl Minter<'_> {
    /// Mints an RS256 access token in the API's dialect.
    pub(crate) fn access_token(
        &self,
        spec: &AccessTokenSpec<'_>,
    ) -> Result<MintedToken, OAuthError> {
        let userinfo = userinfo_audience(self.issuer);
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
        let rfc9068 = dialect.is_rfc9068();
        let claims = AccessTokenClaims {
            iss: self.issuer,
            sub: spec.subject,
            aud,
            iat: self.now,
            exp: self.now + lifetime,
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
        let header = Header {
            alg: "RS256",
            typ: if rfc9068 { "at+jwt" } else { "JWT" },
            kid: self.key.kid(),
        };
        Ok(MintedToken {
            token: self.sign(&header, &claims)?,
            expires_in: lifetime,
        })
    }

    /// Mints an OpenID Connect ID token for `user` and `client_id` (OIDC Core §2), with the
    /// profile claims `scopes` release.
    pub(crate) fn id_token(
        &self,
        user: &User,
        client_id: &str,
        nonce: Option<&str>,
        scopes: &[String],
        auth_time: u64,
    ) -> Result<String, OAuthError> {
        let claims = IdTokenClaims {
            iss: self.issuer,
            sub: &user.user_id,
            aud: client_id,
            iat: self.now,
            exp: self.now + ID_TOKEN_LIFETIME,
            auth_time,
            nonce,
            profile: user.profile_claims(scopes),
        };
        let header = Header {
            alg: "RS256",
            typ: "JWT",
            kid: self.key.kid(),
        };
        self.sign(&header, &claims)
    }

    fn sign<C: Serialize>(&self, header: &Header<'_>, claims: &C) -> Result<String, OAuthError> {
        self.key.sign_jwt(header, claims).map_err(|error| {
            tracing::error!(%error, "signing a token failed");
            OAuthError::server_error("The token could not be signed")
        })
    }
}
