//! Applications (`/api/v2/clients`): how a client authenticates, which grants and callbacks
//! it may use, and its Custom Token Exchange permissions.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// An application (`/api/v2/clients`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    pub name: String,
    #[serde(default)]
    pub app_type: AppType,
    /// Third-party applications (every dynamically registered one) get a consent step.
    #[serde(default = "first_party_by_default")]
    pub is_first_party: bool,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// Allowed redirect URIs, matched exactly (loopback: any port, RFC 8252 §7.3).
    #[serde(default)]
    pub callbacks: Vec<String>,
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<ClientTokenExchange>,
}

/// Tenant-file clients are the tenant's own applications unless they say otherwise.
fn first_party_by_default() -> bool {
    true
}

impl Client {
    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether the client authenticates with a secret.
    pub fn is_confidential(&self) -> bool {
        self.token_endpoint_auth_method != TokenEndpointAuthMethod::None
    }
}

/// A client secret; `Debug` never shows it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for sending it to the client that registered.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison (RFC 6749 §10 asks to resist timing attacks).
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// Auth0's `app_type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppType {
    #[default]
    Native,
    Spa,
    RegularWeb,
    NonInteractive,
    ResourceServer,
}

/// The grants fake-auth0 implements (RFC 6749 §4, RFC 8693).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    #[serde(rename = "password")]
    Password,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// Every grant, in the order discovery lists them.
    pub const ALL: [GrantType; 5] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::Password,
        Self::TokenExchange,
    ];

    /// The `grant_type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// Parses a `grant_type` value; `None` for grants fake-auth0 does not implement.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == value)
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// A public client: no secret.
    None,
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
}

impl TokenEndpointAuthMethod {
    /// Whether a client registered with this method may authenticate with `used`: a client
    /// with a secret by either secret method (Auth0 accepts both whatever was registered), a
    /// public client only without a secret.
    pub fn accepts(self, used: TokenEndpointAuthMethod) -> bool {
        match self {
            Self::None => used == Self::None,
            Self::ClientSecretPost | Self::ClientSecretBasic => used != Self::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

/// A client's Custom Token Exchange permissions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTokenExchange {
    /// Profile types the client may use, e.g. `custom_authentication`.
    #[serde(default)]
    pub allow_any_profile_of_type: Vec<String>,
}
