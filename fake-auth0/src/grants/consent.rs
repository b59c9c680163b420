//! What a third-party client's consent page lists: exactly the scopes the token will carry,
//! grouped by what they give access to (the user's account, then the API), each with its
//! description from the tenant.
//!
//! The scopes come from the one scope policy through [`granted_scopes`], with the same
//! inputs the authorization code grant issues with, so the page cannot promise less (or
//! more) than the token holds: a request naming no API scope shows every permission the
//! token will get. `http/authorize.rs` only renders this.

use super::issuance::{Issue, granted_scopes};
use super::scope_policy::{OFFLINE_ACCESS, OIDC_SCOPES};
use crate::model::{Client, ResourceServer, Tenant, User};

/// One scope as the consent page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentScope {
    pub value: String,
    /// The API's description of the scope, or fake-auth0's for the OpenID Connect scopes;
    /// `None` when the tenant gives none.
    pub description: Option<String>,
}

/// The scopes of one thing the client asks access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentGroup {
    /// The API's name; `None` for the user's own account (the OpenID Connect scopes).
    pub api_name: Option<String>,
    pub scopes: Vec<ConsentScope>,
}

/// What the user is asked to consent to when `client` asks for `requested` on `api`:
/// the account's scopes first, then the API's, each group only when it is not empty.
pub(crate) fn consent_groups(
    tenant: &Tenant,
    client: &Client,
    user: &User,
    api: Option<&ResourceServer>,
    requested: &[String],
) -> Vec<ConsentGroup> {
    // As the authorization code grant will issue it (its auth_time changes no scope).
    let granted = granted_scopes(tenant, &Issue::to_user(client, user, api, requested, 0));
    let (account, api_scopes): (Vec<String>, Vec<String>) = granted
        .into_iter()
        .partition(|scope| is_account_scope(scope));
    let mut groups = Vec::new();
    if !account.is_empty() {
        groups.push(ConsentGroup {
            api_name: None,
            scopes: account
                .into_iter()
                .map(|value| ConsentScope {
                    description: account_scope_description(&value).map(str::to_owned),
                    value,
                })
                .collect(),
        });
    }
    if let (Some(api), false) = (api, api_scopes.is_empty()) {
        groups.push(ConsentGroup {
            api_name: Some(api.name.clone()),
            scopes: api_scopes
                .into_iter()
                .map(|value| ConsentScope {
                    description: api
                        .scopes
                        .iter()
                        .find(|scope| scope.value == value)
                        .and_then(|scope| scope.description.clone()),
                    value,
                })
                .collect(),
        });
    }
    groups
}

fn is_account_scope(scope: &str) -> bool {
    scope == OFFLINE_ACCESS || OIDC_SCOPES.contains(&scope)
}

/// What the OpenID Connect scopes release (OIDC Core §5.4, §11), in words a user reads.
fn account_scope_description(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Sign you in with your account"),
        "profile" => Some("Your name and nickname"),
        "email" => Some("Your email address and whether it is verified"),
        OFFLINE_ACCESS => Some("Stay signed in when you are away (a refresh token)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_cli(tenant: &Tenant) -> &Client {
        tenant
            .clients
            .iter()
            .find(|client| client.client_id == "demo-cli")
            .unwrap()
    }

    fn values(group: &ConsentGroup) -> Vec<&str> {
        group.scopes.iter().map(|s| s.value.as_str()).collect()
    }

    #[test]
    fn an_api_without_requested_scopes_lists_every_permission_the_token_gets() {
        let tenant = Tenant::demo();
        let user = tenant.user_by_email("admin@example.com").unwrap();
        let client = demo_cli(&tenant);
        let api = tenant.resource_server("http://localhost:8787/");

        let groups = consent_groups(&tenant, client, user, api, &["openid".to_owned()]);

        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].api_name, None);
        assert_eq!(values(&groups[0]), ["openid"]);
        assert_eq!(
            groups[1].api_name.as_deref(),
            Some("Protected First Party API")
        );
        assert_eq!(values(&groups[1]), ["read:private"]);
        assert_eq!(
            groups[1].scopes[0].description.as_deref(),
            Some("Read the private endpoint")
        );
    }

    #[test]
    fn scopes_the_user_may_not_hold_are_not_listed() {
        let tenant = Tenant::demo();
        let user = tenant.user_by_email("user@example.com").unwrap();
        let client = demo_cli(&tenant);
        let api = tenant.resource_server("http://localhost:3001/");
        let requested = ["tool:whoami".to_owned(), "tool:greet".to_owned()];

        let groups = consent_groups(&tenant, client, user, api, &requested);

        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!(values(&groups[0]), ["tool:whoami"]);
    }
}
