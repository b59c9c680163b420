//! Applications (`/api/v2/clients`): how a client authenticates, which grants and callbacks
//! it may use, and its token-exchange permissions (Custom Token Exchange profiles, and
//! Auth0's On-Behalf-Of exchange for Custom API clients).

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
    /// The API a Custom API client (`app_type: resource_server`) stands for: the audience of
    /// the tokens it may exchange with On-Behalf-Of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_server_identifier: Option<String>,
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
    /// For a client registered from a Client ID Metadata Document: the document's URL,
    /// which is also its `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_client_id: Option<String>,
    /// How the client was registered from outside metadata (Auth0 omits it for clients
    /// created in the tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_metadata_type: Option<ExternalMetadataType>,
    /// Auth0 registers metadata-document clients as strict third-party clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_security_mode: Option<ThirdPartySecurityMode>,
}

/// Auth0's `external_metadata_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalMetadataType {
    /// Registered from a Client ID Metadata Document.
    Cimd,
    /// Registered through Dynamic Client Registration (RFC 7591).
    Dcr,
}

/// Auth0's `third_party_security_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThirdPartySecurityMode {
    Strict,
    Permissive,
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

    /// The API this client stands for when it is a Custom API client (`app_type:
    /// resource_server` with a `resource_server_identifier`), the only kind of client
    /// Auth0 lets use the On-Behalf-Of exchange.
    pub fn custom_api_identifier(&self) -> Option<&str> {
        match self.app_type {
            AppType::ResourceServer => self.resource_server_identifier.as_deref(),
            _ => None,
        }
    }

    /// Whether `token_exchange.allow_any_profile_of_type` lists `profile_type`.
    pub fn allows_exchange_of_type(&self, profile_type: &str) -> bool {
        self.token_exchange.as_ref().is_some_and(|te| {
            te.allow_any_profile_of_type
                .iter()
                .any(|t| t == profile_type)
        })
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

/// The `allow_any_profile_of_type` value that lets a Custom API client use Auth0's
/// On-Behalf-Of exchange.
pub const ON_BEHALF_OF_TOKEN_EXCHANGE: &str = "on_behalf_of_token_exchange";

/// A client's token-exchange permissions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTokenExchange {
    /// Profile types the client may use: `custom_authentication` (Custom Token Exchange),
    /// `on_behalf_of_token_exchange` (Auth0's On-Behalf-Of exchange).
    #[serde(default)]
    pub allow_any_profile_of_type: Vec<String>,
}
