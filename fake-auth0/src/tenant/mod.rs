//! The tenant: APIs, applications, client grants, roles, users and token-exchange profiles.
//!
//! The objects are shaped after the Auth0 Management API (`/api/v2/resource-servers`,
//! `/clients`, `/client-grants`, `/roles`, `/users`, `/token-exchange-profiles`) so that a
//! tenant file reads like an exported Auth0 tenant. A tenant is loaded once, checked for
//! dangling references, and then only read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::token_exchange::TokenExchangeProfile;

/// The demo tenant of the shared contract, embedded so `cargo run` needs no file.
const DEMO_TENANT_YAML: &str = include_str!("demo.yaml");

/// The demo tenant's API identifiers, which [`Tenant::demo_for`] replaces.
const DEMO_MCP_AUDIENCE: &str = "http://localhost:3001/";
const DEMO_UPSTREAM_AUDIENCE: &str = "http://localhost:8787/";
/// The demo tenant's Management API identifier; it follows the issuer (see
/// [`Tenant::rebase_management_api`]).
const DEMO_MANAGEMENT_AUDIENCE: &str = "http://localhost:4000/api/v2/";

/// A whole tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    #[serde(default)]
    pub settings: TenantSettings,
    #[serde(default)]
    pub resource_servers: Vec<ResourceServer>,
    #[serde(default)]
    pub clients: Vec<Client>,
    #[serde(default)]
    pub client_grants: Vec<ClientGrant>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub connection: Connection,
    #[serde(default)]
    pub users: Vec<User>,
    /// Custom Token Exchange profiles (`POST /api/v2/token-exchange-profiles`).
    #[serde(default)]
    pub token_exchange_profiles: Vec<TokenExchangeProfile>,
    /// Actions (`/api/v2/actions/actions`): built-in templates with their secrets, which a
    /// profile created through the Management API binds by `action_id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// Tenant-wide settings (`/api/v2/tenants/settings`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// The API used when a request names none (Auth0's "Default Audience").
    #[serde(default)]
    pub default_audience: Option<String>,
}

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
    #[serde(default = "yes")]
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

fn yes() -> bool {
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

/// Which scopes of which API a client may get with client_credentials (`/api/v2/client-grants`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    #[serde(default)]
    pub scope: Vec<String>,
}

/// A role with its permissions (`/api/v2/roles`, `/roles/{id}/permissions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// One permission: a scope of one API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub resource_server_identifier: String,
    pub permission_name: String,
}

/// The database connection users log in through.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub name: String,
    /// Whether third-party applications may use the connection (Auth0's "domain level"
    /// connection). Recorded for the Management API; fake-auth0 lets every client log in.
    #[serde(default)]
    pub is_domain_connection: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            name: "Username-Password-Authentication".to_owned(),
            is_domain_connection: false,
        }
    }
}

/// An Action (`/api/v2/actions/actions`): one of fake-auth0's built-in templates, named and
/// configured with secrets as in Auth0 (values are strings; the list secrets of the
/// on-behalf-of template hold JSON arrays). A tenant file may write list values as lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `act_…`.
    pub id: String,
    pub name: String,
    /// The built-in template the Action runs.
    pub template: ActionTemplate,
    #[serde(default)]
    pub secrets: Vec<ActionSecret>,
}

/// The built-in Action templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionTemplate {
    /// Auth0's marketplace template "On-behalf-of token exchange for first-party apps".
    #[serde(rename = "first-party-on-behalf-of")]
    FirstPartyOnBehalfOf,
}

/// One secret of an Action; `Debug` never shows the value.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSecret {
    pub name: String,
    pub value: SecretValue,
}

impl std::fmt::Debug for ActionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSecret")
            .field("name", &self.name)
            .field("value", &"[redacted]")
            .finish()
    }
}

/// A secret's value: a string as Auth0 stores it, or a list in a tenant file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretValue {
    Text(String),
    List(Vec<String>),
}

impl Action {
    /// The template's configuration from the secrets, checked the way the template's
    /// `loadConfig` reads them: `SUBJECT_TOKEN_AUDIENCE` a string, the other three JSON
    /// arrays of strings; all required and non-empty. The error names what is missing.
    pub fn config(&self) -> Result<crate::token_exchange::ActionConfig, String> {
        use crate::token_exchange::{ActionConfig, OnBehalfOfConfig};
        let secret = |name: &str| {
            self.secrets
                .iter()
                .rev()
                .find(|s| s.name == name)
                .map(|s| &s.value)
                .ok_or_else(|| format!("action `{}` has no secret {name}", self.id))
        };
        let list = |name: &str| -> Result<Vec<String>, String> {
            let list = match secret(name)? {
                SecretValue::List(list) => list.clone(),
                SecretValue::Text(text) => serde_json::from_str(text).map_err(|_| {
                    format!(
                        "action `{}`: secret {name} must be a JSON array of strings",
                        self.id
                    )
                })?,
            };
            if list.is_empty() {
                return Err(format!(
                    "action `{}`: secret {name} must not be empty",
                    self.id
                ));
            }
            Ok(list)
        };
        let audience = match secret("SUBJECT_TOKEN_AUDIENCE")? {
            SecretValue::Text(text) if !text.trim().is_empty() => text.clone(),
            _ => {
                return Err(format!(
                    "action `{}`: secret SUBJECT_TOKEN_AUDIENCE must be a non-empty string",
                    self.id
                ));
            }
        };
        match self.template {
            ActionTemplate::FirstPartyOnBehalfOf => Ok(ActionConfig::FirstPartyOnBehalfOf {
                name: Some(self.name.clone()),
                secrets: OnBehalfOfConfig {
                    subject_token_audience: audience,
                    allowed_client_ids: list("ALLOWED_CLIENT_IDS")?,
                    allowed_target_audiences: list("ALLOWED_TARGET_AUDIENCES")?,
                    allowed_scopes: list("ALLOWED_SCOPES")?,
                },
            }),
        }
    }
}

/// A user of the connection (`/api/v2/users`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `auth0|…`, the `sub` of the user's tokens.
    pub user_id: String,
    pub email: String,
    #[serde(default = "yes")]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    pub password: UserPassword,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub blocked: bool,
}

/// A demo user's password; `Debug` never shows it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserPassword(String);

impl UserPassword {
    /// Constant-time comparison.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserPassword([redacted])")
    }
}

/// Why a tenant could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenant file {file}: cannot read it: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("tenant file {file}: unknown extension; use .yaml, .yml or .json")]
    Extension { file: PathBuf },
    #[error("tenant file {file}: at `{path}`: {message}")]
    Parse {
        file: PathBuf,
        path: String,
        message: String,
    },
    #[error("tenant file {file}: {message}")]
    Invalid { file: PathBuf, message: String },
}

/// The file format of a tenant file.
#[derive(Debug, Clone, Copy)]
enum Format {
    Yaml,
    Json,
}

impl Tenant {
    /// The embedded demo tenant of the shared contract.
    pub fn demo() -> Tenant {
        Self::demo_for(DEMO_MCP_AUDIENCE, DEMO_UPSTREAM_AUDIENCE)
    }

    /// The demo tenant with the MCP API and upstream API identifiers replaced everywhere they
    /// appear (resource servers, role permissions, client grants, the token-exchange action's
    /// configuration). Tests use it to point the tenant at servers on ephemeral ports.
    pub fn demo_for(mcp_audience: &str, upstream_audience: &str) -> Tenant {
        let mut value: serde_json::Value =
            serde_yaml_ng::from_str(DEMO_TENANT_YAML).expect("the embedded demo tenant is YAML");
        replace_strings(&mut value, &|s| match s {
            DEMO_MCP_AUDIENCE => Some(mcp_audience.to_owned()),
            DEMO_UPSTREAM_AUDIENCE => Some(upstream_audience.to_owned()),
            _ => None,
        });
        let tenant: Tenant =
            serde_json::from_value(value).expect("the embedded demo tenant is a valid tenant");
        tenant
            .validate()
            .expect("the embedded demo tenant is consistent");
        tenant
    }

    /// Loads a tenant from a YAML (`.yaml`, `.yml`) or JSON (`.json`) file. The error names
    /// the file, the path inside it and what is wrong.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Tenant, TenantError> {
        let file = path.as_ref().to_path_buf();
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            _ => return Err(TenantError::Extension { file }),
        };
        let text = std::fs::read_to_string(&file).map_err(|source| TenantError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text, format, &file)
    }

    /// Parses a tenant from YAML text; `name` is used in error messages.
    pub fn from_yaml_str(text: &str, name: impl AsRef<Path>) -> Result<Tenant, TenantError> {
        Self::parse(text, Format::Yaml, name.as_ref())
    }

    fn parse(text: &str, format: Format, file: &Path) -> Result<Tenant, TenantError> {
        let parse_error = |path: String, message: String| {
            // serde_yaml_ng already starts its messages with the path; say it once.
            let message = message
                .strip_prefix(&format!("{path}: "))
                .map_or(message.clone(), str::to_owned);
            TenantError::Parse {
                file: file.to_path_buf(),
                path,
                message,
            }
        };
        let tenant: Tenant = match format {
            Format::Yaml => {
                let deserializer = serde_yaml_ng::Deserializer::from_str(text);
                serde_path_to_error::deserialize(deserializer)
                    .map_err(|e| parse_error(e.path().to_string(), e.inner().to_string()))?
            }
            Format::Json => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                serde_path_to_error::deserialize(&mut deserializer)
                    .map_err(|e| parse_error(e.path().to_string(), e.inner().to_string()))?
            }
        };
        tenant.validate().map_err(|message| TenantError::Invalid {
            file: file.to_path_buf(),
            message,
        })?;
        Ok(tenant)
    }

    /// Checks references between objects, so a typo fails at start and not at login.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut identifiers = HashSet::new();
        for (i, api) in self.resource_servers.iter().enumerate() {
            if !identifiers.insert(api.identifier.as_str()) {
                return Err(format!(
                    "resource_servers[{i}].identifier: `{}` is defined twice",
                    api.identifier
                ));
            }
        }
        let mut client_ids = HashSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            if !client_ids.insert(client.client_id.as_str()) {
                return Err(format!(
                    "clients[{i}].client_id: `{}` is defined twice",
                    client.client_id
                ));
            }
            match (client.is_confidential(), client.client_secret.is_some()) {
                (true, false) => {
                    return Err(format!(
                        "clients[{i}]: token_endpoint_auth_method `{}` needs a client_secret",
                        client.token_endpoint_auth_method.as_str()
                    ));
                }
                (false, true) => {
                    return Err(format!(
                        "clients[{i}]: a public client (token_endpoint_auth_method `none`) has no client_secret"
                    ));
                }
                _ => {}
            }
            for (j, callback) in client.callbacks.iter().enumerate() {
                if url::Url::parse(callback).is_err() {
                    return Err(format!(
                        "clients[{i}].callbacks[{j}]: `{callback}` is not an absolute URL"
                    ));
                }
            }
        }
        let api_has_scope = |identifier: &str, scope: &str| {
            self.resource_server(identifier)
                .map(|api| api.scopes.iter().any(|s| s.value == scope))
        };
        for (i, grant) in self.client_grants.iter().enumerate() {
            if !client_ids.contains(grant.client_id.as_str()) {
                return Err(format!(
                    "client_grants[{i}].client_id: no client `{}`",
                    grant.client_id
                ));
            }
            for scope in &grant.scope {
                match api_has_scope(&grant.audience, scope) {
                    None => {
                        return Err(format!(
                            "client_grants[{i}].audience: no resource server `{}`",
                            grant.audience
                        ));
                    }
                    Some(false) => {
                        return Err(format!(
                            "client_grants[{i}].scope: `{scope}` is not a scope of `{}`",
                            grant.audience
                        ));
                    }
                    Some(true) => {}
                }
            }
        }
        let mut role_names = HashSet::new();
        for (i, role) in self.roles.iter().enumerate() {
            if !role_names.insert(role.name.as_str()) {
                return Err(format!("roles[{i}].name: `{}` is defined twice", role.name));
            }
            for (j, permission) in role.permissions.iter().enumerate() {
                match api_has_scope(
                    &permission.resource_server_identifier,
                    &permission.permission_name,
                ) {
                    None => {
                        return Err(format!(
                            "roles[{i}].permissions[{j}].resource_server_identifier: no resource server `{}`",
                            permission.resource_server_identifier
                        ));
                    }
                    Some(false) => {
                        return Err(format!(
                            "roles[{i}].permissions[{j}].permission_name: `{}` is not a scope of `{}`",
                            permission.permission_name, permission.resource_server_identifier
                        ));
                    }
                    Some(true) => {}
                }
            }
        }
        let mut user_ids = HashSet::new();
        let mut emails = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if !user_ids.insert(user.user_id.as_str()) {
                return Err(format!(
                    "users[{i}].user_id: `{}` is defined twice",
                    user.user_id
                ));
            }
            if !emails.insert(user.email.to_ascii_lowercase()) {
                return Err(format!("users[{i}].email: `{}` is used twice", user.email));
            }
            for role in &user.roles {
                if !role_names.contains(role.as_str()) {
                    return Err(format!("users[{i}].roles: no role `{role}`"));
                }
            }
        }
        if let Some(audience) = &self.settings.default_audience
            && self.resource_server(audience).is_none()
        {
            return Err(format!(
                "settings.default_audience: no resource server `{audience}`"
            ));
        }
        crate::token_exchange::validate_profiles(&self.token_exchange_profiles)
            .map_err(|message| format!("token_exchange_profiles: {message}"))?;
        let mut action_ids = HashSet::new();
        for (i, action) in self.actions.iter().enumerate() {
            if !action.id.starts_with("act_") || action.id.len() == "act_".len() {
                return Err(format!(
                    "actions[{i}].id: `{}` must start with `act_`",
                    action.id
                ));
            }
            if !action_ids.insert(action.id.as_str()) {
                return Err(format!("actions[{i}].id: `{}` is used twice", action.id));
            }
        }
        for (i, profile) in self.token_exchange_profiles.iter().enumerate() {
            if let Some(action_id) = &profile.action_id
                && !action_ids.contains(action_id.as_str())
                && !self.actions.is_empty()
            {
                return Err(format!(
                    "token_exchange_profiles[{i}].action_id: no action `{action_id}`"
                ));
            }
        }
        Ok(())
    }

    /// Makes the demo tenant's Management API identifier follow the issuer
    /// (`<issuer>api/v2/`), as a real tenant's does.
    pub fn rebase_management_api(&mut self, issuer: &url::Url) {
        let rebased = format!("{issuer}api/v2/");
        if rebased == DEMO_MANAGEMENT_AUDIENCE {
            return;
        }
        for api in &mut self.resource_servers {
            if api.identifier == DEMO_MANAGEMENT_AUDIENCE {
                api.identifier.clone_from(&rebased);
            }
        }
        for grant in &mut self.client_grants {
            if grant.audience == DEMO_MANAGEMENT_AUDIENCE {
                grant.audience.clone_from(&rebased);
            }
        }
    }

    /// The API with this identifier.
    pub fn resource_server(&self, identifier: &str) -> Option<&ResourceServer> {
        self.resource_servers
            .iter()
            .find(|api| api.identifier == identifier)
    }

    /// The user with this email (case-insensitive, as Auth0 stores emails lowercased).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(email))
    }

    /// The user with this `user_id`.
    pub fn user_by_id(&self, user_id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.user_id == user_id)
    }

    /// Every permission the user's roles grant on one API, in the API's scope order.
    pub fn user_permissions(&self, user: &User, api: &ResourceServer) -> Vec<String> {
        let granted: HashSet<&str> = self
            .roles
            .iter()
            .filter(|role| user.roles.contains(&role.name))
            .flat_map(|role| &role.permissions)
            .filter(|p| p.resource_server_identifier == api.identifier)
            .map(|p| p.permission_name.as_str())
            .collect();
        api.scopes
            .iter()
            .filter(|scope| granted.contains(scope.value.as_str()))
            .map(|scope| scope.value.clone())
            .collect()
    }

    /// The client grant of `client_id` for `audience`, if any.
    pub fn client_grant(&self, client_id: &str, audience: &str) -> Option<&ClientGrant> {
        self.client_grants
            .iter()
            .find(|grant| grant.client_id == client_id && grant.audience == audience)
    }
}

/// Replaces every string in a JSON tree for which `replace` returns a value.
fn replace_strings(value: &mut serde_json::Value, replace: &dyn Fn(&str) -> Option<String>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(new) = replace(s) {
                *s = new;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                replace_strings(item, replace);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                replace_strings(item, replace);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_tenant_grants_the_admin_every_tool() {
        let tenant = Tenant::demo();
        let admin = tenant.user_by_email("ADMIN@example.com").unwrap();
        let mcp = tenant.resource_server("http://localhost:3001/").unwrap();
        assert_eq!(
            tenant.user_permissions(admin, mcp),
            ["tool:whoami", "tool:greet"]
        );
        let guest = tenant.user_by_email("guest@example.com").unwrap();
        assert!(tenant.user_permissions(guest, mcp).is_empty());
    }

    #[test]
    fn demo_for_replaces_the_api_identifiers_everywhere() {
        let tenant = Tenant::demo_for("http://127.0.0.1:5555/", "http://127.0.0.1:6666/");
        assert!(tenant.resource_server("http://127.0.0.1:5555/").is_some());
        assert!(tenant.resource_server("http://127.0.0.1:6666/").is_some());
        let text = serde_json::to_string(&tenant).unwrap();
        assert!(!text.contains("localhost:3001"), "{text}");
        assert!(!text.contains("localhost:8787"), "{text}");
    }

    #[test]
    fn a_bad_tenant_file_names_the_file_and_the_path() {
        let yaml = "clients:\n  - client_id: x\n    name: X\n    grant_types: [implicit]\n";
        let error = Tenant::from_yaml_str(yaml, "tenant.yaml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("tenant.yaml"), "{error}");
        assert!(error.contains("clients[0].grant_types[0]"), "{error}");
        assert!(error.contains("implicit"), "{error}");
        assert_eq!(
            error.matches("clients[0].grant_types[0]").count(),
            1,
            "{error}"
        );
    }

    #[test]
    fn tenant_files_load_by_extension_and_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("fake-auth0-tenant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("tenant.json");
        std::fs::write(
            &json,
            serde_json::to_string(&Tenant::demo())
                .unwrap()
                .replace("demo-cli", "json-cli"),
        )
        .unwrap();
        let tenant = Tenant::from_file(&json).unwrap();
        assert!(tenant.clients.iter().any(|c| c.client_id == "json-cli"));

        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"resource_servers": [{"name": "x", "identifier": 3}]}"#,
        )
        .unwrap();
        let error = Tenant::from_file(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.json"), "{error}");
        assert!(error.contains("resource_servers[0].identifier"), "{error}");

        let error = Tenant::from_file(dir.join("tenant.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown extension"), "{error}");
        let error = Tenant::from_file(dir.join("missing.yaml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing.yaml"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dangling_role_is_rejected() {
        let yaml = "users:\n  - user_id: auth0|1\n    email: a@b.c\n    password: p\n    roles: [Nobody]\n";
        let error = Tenant::from_yaml_str(yaml, "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("users[0].roles: no role `Nobody`"),
            "{error}"
        );
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let tenant = Tenant::demo();
        let debug = format!("{tenant:?}");
        assert!(!debug.contains("mcp-server-secret"));
        assert!(!debug.contains("admin-pass"));
    }
}
