//! The tenant as a whole: every object of a tenant file, and the look-ups the grants make
//! (an API by identifier, a user by email or id, a user's permissions, a client grant).
//!
//! A tenant is a value: it is loaded and checked once ([`super::load`], [`super::validate`])
//! and then only read. A change (the Management API, a control reset) builds a new tenant
//! that replaces the old one whole.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::action::ActionDefinition;
use super::client::Client;
use super::client_grant::{ClientGrant, ClientGrantSubjectType};
use super::connection::Connection;
use super::resource_server::ResourceServer;
use super::role::Role;
use super::token_exchange_profile::TokenExchangeProfile;
use super::user::User;

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
    pub actions: Vec<ActionDefinition>,
}

/// Tenant-wide settings (`/api/v2/tenants/settings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// The API used when a request names none (Auth0's "Default Audience").
    #[serde(default)]
    pub default_audience: Option<String>,
    /// What a request naming different APIs in `audience` and `resource` gets (fake-auth0's
    /// own setting; Auth0 always lets `audience` win).
    #[serde(default)]
    pub audience_resource_conflict: AudienceResourceConflict,
    /// The login page lists the tenant's users with their roles, and picking one fills the
    /// form with its email and password (fake-auth0's own development convenience for
    /// tenants whose passwords are public; the embedded demo tenant turns it on).
    #[serde(default)]
    pub login_page_lists_users: bool,
    /// Auth0's tenant setting: discovery advertises Client ID Metadata Documents and
    /// `/authorize` accepts an https URL as `client_id`. On unless the file says otherwise.
    #[serde(default = "metadata_documents_by_default")]
    pub client_id_metadata_document_supported: bool,
    /// Which metadata document URLs are accepted (fake-auth0's own setting).
    #[serde(default)]
    pub client_id_metadata_document_mode: ClientMetadataMode,
}

fn metadata_documents_by_default() -> bool {
    true
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            friendly_name: None,
            default_audience: None,
            audience_resource_conflict: AudienceResourceConflict::default(),
            login_page_lists_users: false,
            client_id_metadata_document_supported: true,
            client_id_metadata_document_mode: ClientMetadataMode::default(),
        }
    }
}

/// Which metadata document URLs `/authorize` accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMetadataMode {
    /// Any valid URL, fetched on first use and cached (the draft's model, and Auth0's
    /// "Dynamic CIMD Registration"; fake-auth0's default, for testing CIMD clients
    /// offline).
    #[default]
    FetchOnFirstUse,
    /// Only URLs a tenant admin registered through the Management API (Auth0's manual
    /// CIMD registration).
    RegisteredOnly,
}

/// `audience` and RFC 8707 `resource` both sent, naming different APIs. Auth0's Resource
/// Parameter Compatibility Profile checks `audience` first and uses `resource` only when
/// `audience` is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceResourceConflict {
    /// `audience` wins, as in Auth0.
    #[default]
    AudienceWins,
    /// The request is refused (`invalid_target`, or `invalid_request` for token exchange),
    /// for tests of clients that must not send both.
    Refuse,
}

impl Tenant {
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

    /// The machine-to-machine client grant of `client_id` for `audience`, if any.
    pub fn client_grant(&self, client_id: &str, audience: &str) -> Option<&ClientGrant> {
        self.grant_of(client_id, audience, ClientGrantSubjectType::Client)
    }

    /// The user-delegated client grant of `client_id` for `audience`, if any.
    pub fn user_delegated_grant(&self, client_id: &str, audience: &str) -> Option<&ClientGrant> {
        self.grant_of(client_id, audience, ClientGrantSubjectType::User)
    }

    fn grant_of(
        &self,
        client_id: &str,
        audience: &str,
        subject_type: ClientGrantSubjectType,
    ) -> Option<&ClientGrant> {
        self.client_grants.iter().find(|grant| {
            grant.client_id == client_id
                && grant.audience == audience
                && grant.subject_type == subject_type
        })
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
    fn debug_output_never_shows_secrets() {
        let tenant = Tenant::demo();
        let debug = format!("{tenant:?}");
        assert!(!debug.contains("mcp-server-secret"));
        assert!(!debug.contains("admin-pass"));
    }
}
