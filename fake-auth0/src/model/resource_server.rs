//! APIs (Auth0 "resource servers", `/api/v2/resource-servers`): what tokens for an API look
//! like (dialect, lifetime, signing algorithm) and which scopes it defines.

use serde::{Deserialize, Serialize};

/// An API (`/api/v2/resource-servers`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServer {
    pub name: String,
    /// The audience (`aud`) of tokens for this API.
    pub identifier: String,
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
    #[serde(default)]
    pub signing_alg: SigningAlg,
    #[serde(default)]
    pub token_dialect: TokenDialect,
    /// RBAC: with it, users get only the scopes their roles grant.
    #[serde(default)]
    pub enforce_policies: bool,
    /// Whether refresh tokens may be issued for this API (`offline_access`).
    #[serde(default)]
    pub allow_offline_access: bool,
    /// Access-token lifetime in seconds.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime: u64,
    /// Which subjects' tokens clients may get for this API, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type_authorization: Option<SubjectTypeAuthorization>,
}

/// Auth0's `subject_type_authorization` of an API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectTypeAuthorization {
    /// Tokens for users (what the On-Behalf-Of exchange asks for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<SubjectPolicy<UserPolicy>>,
    /// Tokens for clients themselves (client_credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<SubjectPolicy<ClientPolicy>>,
}

/// `{"policy": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectPolicy<P> {
    pub policy: P,
}

/// Who may get a user's token for an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserPolicy {
    AllowAll,
    DenyAll,
    /// Only a client with a user-delegated client grant for the API.
    RequireClientGrant,
}

/// Who may get a machine token for an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientPolicy {
    DenyAll,
    RequireClientGrant,
}

impl ResourceServer {
    /// The user policy the On-Behalf-Of exchange applies. Without one set, a
    /// user-delegated client grant is required, as the OBO set-up guide configures it.
    pub fn user_policy(&self) -> UserPolicy {
        self.subject_type_authorization
            .as_ref()
            .and_then(|sta| sta.user)
            .map_or(UserPolicy::RequireClientGrant, |p| p.policy)
    }
}

fn default_token_lifetime() -> u64 {
    86_400
}

/// One scope an API defines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerScope {
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// The JWS algorithm of an API's tokens; fake-auth0 signs RS256 only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    #[default]
    RS256,
}

/// Auth0's access-token profiles ("token dialects").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenDialect {
    /// Auth0's own profile: header `typ: JWT`, `azp`, `gty`.
    #[default]
    AccessToken,
    /// Auth0's profile plus a `permissions` array.
    AccessTokenAuthz,
    /// RFC 9068: header `typ: at+jwt`, `client_id`.
    Rfc9068Profile,
    /// RFC 9068 plus a `permissions` array.
    Rfc9068ProfileAuthz,
}

impl TokenDialect {
    /// Whether tokens carry the RFC 9068 shape (`typ: at+jwt`, `client_id`, no `gty`).
    pub fn is_rfc9068(self) -> bool {
        matches!(self, Self::Rfc9068Profile | Self::Rfc9068ProfileAuthz)
    }

    /// Whether tokens carry a `permissions` claim.
    pub fn has_permissions(self) -> bool {
        matches!(self, Self::AccessTokenAuthz | Self::Rfc9068ProfileAuthz)
    }
}
