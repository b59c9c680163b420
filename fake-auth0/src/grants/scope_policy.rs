//! The one scope policy: which of the requested scopes a token gets, whatever the grant.
//!
//! - OpenID Connect scopes (`openid`, `profile`, `email`) pass on user tokens, never on
//!   machine tokens.
//! - `offline_access` passes only when a refresh token comes with it (the client may use
//!   the `refresh_token` grant, the API allows offline access, no actor is set); otherwise
//!   it is dropped, so `scope` never promises a refresh token that was not issued.
//! - An API scope passes when the subject may hold it: one the API defines, under RBAC
//!   (`enforce_policies`) one of the user's permissions, for a machine one of its client
//!   grant's scopes. Others are dropped silently, as Auth0 does.
//! - A user-delegated client grant (the On-Behalf-Of exchange) narrows a user's API scopes
//!   to the ones it grants, the default included.
//! - A request naming no API scope (for a machine: naming no scope at all) gets what the subject explicitly holds (the user's
//!   permissions under RBAC, a machine's client grant) for the user grants and
//!   client_credentials, and no API scope for token exchange, whose scopes are decoupled
//!   from the subject token (PARITY.md: "No API scope requested").
//!
//! Granted scopes keep the order they were requested in; the default is appended in the
//! API's order.

use crate::model::{ClientGrant, ResourceServer, Tenant, User};

/// The OpenID Connect scopes a user token may carry besides its API scopes.
pub(crate) const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// The scope that asks for a refresh token (OIDC Core §11).
pub(crate) const OFFLINE_ACCESS: &str = "offline_access";

/// What a user's request that names no scope of the API gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WithoutApiScopes {
    /// Every permission the user holds on the API (the code, password and refresh grants).
    AllPermissions,
    /// No API scope (token exchange).
    Nothing,
}

/// What one subject may get on one API.
#[derive(Debug, Clone)]
pub(crate) struct ScopePolicy {
    /// The API scopes the subject may get, in the API's order.
    allowed: Vec<String>,
    /// What a request naming no API scope gets instead, in the API's order.
    by_default: Vec<String>,
    /// The `permissions` claim of a user token (RBAC); `None` for a machine, whose
    /// permissions are the scopes it is granted.
    user_permissions: Option<Vec<String>>,
    /// Whether `offline_access` may be granted.
    offline_access: bool,
}

impl ScopePolicy {
    /// The policy for `user` on `api` (`None`: a token for `/userinfo` only).
    pub(crate) fn for_user(
        tenant: &Tenant,
        user: &User,
        api: Option<&ResourceServer>,
        without_api_scopes: WithoutApiScopes,
        offline_access: bool,
    ) -> ScopePolicy {
        let (allowed, permissions) = match api {
            Some(api) if api.enforce_policies => {
                let permissions = tenant.user_permissions(user, api);
                (permissions.clone(), permissions)
            }
            Some(api) => (
                api.scopes.iter().map(|scope| scope.value.clone()).collect(),
                Vec::new(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let by_default = match without_api_scopes {
            WithoutApiScopes::AllPermissions => permissions.clone(),
            WithoutApiScopes::Nothing => Vec::new(),
        };
        ScopePolicy {
            allowed,
            by_default,
            user_permissions: Some(permissions),
            offline_access,
        }
    }

    /// The policy narrowed to the API scopes of a user-delegated client grant (Auth0's
    /// On-Behalf-Of exchange: what the user holds *and* the client was granted).
    pub(crate) fn within(mut self, grant_scopes: &[String]) -> ScopePolicy {
        self.allowed.retain(|scope| grant_scopes.contains(scope));
        self.by_default.retain(|scope| grant_scopes.contains(scope));
        self
    }

    /// The policy for a machine (client_credentials) with its client grant for the API.
    pub(crate) fn for_machine(client_grant: &ClientGrant) -> ScopePolicy {
        ScopePolicy {
            allowed: client_grant.scope.clone(),
            by_default: client_grant.scope.clone(),
            user_permissions: None,
            offline_access: false,
        }
    }

    /// The scopes granted for `requested`.
    pub(crate) fn grant(&self, requested: &[String]) -> Vec<String> {
        let user = self.user_permissions.is_some();
        let mut names_api_scope = false;
        let mut granted: Vec<String> = requested
            .iter()
            .filter(|scope| {
                if user && OIDC_SCOPES.contains(&scope.as_str()) {
                    true
                } else if user && *scope == OFFLINE_ACCESS {
                    self.offline_access
                } else {
                    // A machine has no user scopes: whatever it names, it names API scopes.
                    names_api_scope = true;
                    self.allowed.contains(scope)
                }
            })
            .cloned()
            .collect();
        if !names_api_scope {
            granted.extend(self.by_default.iter().cloned());
        }
        granted
    }

    /// The `permissions` claim (written by the `_authz` dialects) of a token granted
    /// `granted`: a user's permissions on the API under RBAC (all of them, whatever was
    /// requested, as Auth0 writes it), a machine's granted scopes.
    pub(crate) fn permissions(&self, granted: &[String]) -> Vec<String> {
        match &self.user_permissions {
            Some(permissions) => permissions.clone(),
            None => granted.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn granted(
        user: &str,
        without: WithoutApiScopes,
        offline: bool,
        requested: &[&str],
    ) -> Vec<String> {
        let tenant = Tenant::demo();
        let user = tenant.user_by_email(user).unwrap();
        let api = tenant.resource_server("http://localhost:3001/");
        ScopePolicy::for_user(&tenant, user, api, without, offline).grant(&scopes(requested))
    }

    fn check(user: &str, requested: &[&str], expected_scopes: &[&str]) {
        let got = granted(user, WithoutApiScopes::AllPermissions, true, requested);
        assert_eq!(got, scopes(expected_scopes), "{requested:?}");
    }

    #[test]
    fn rbac_grants_the_requested_scopes_the_user_holds() {
        check(
            "admin@example.com",
            &["openid", "tool:greet"],
            &["openid", "tool:greet"],
        );
        check(
            "user@example.com",
            &["tool:whoami", "tool:greet"],
            &["tool:whoami"],
        );
        check("guest@example.com", &["tool:whoami"], &[]);
        check("user@example.com", &["tool:unknown"], &[]);
    }

    #[test]
    fn no_api_scope_requested_grants_every_permission() {
        check(
            "admin@example.com",
            &["openid", "offline_access"],
            &["openid", "offline_access", "tool:whoami", "tool:greet"],
        );
    }

    #[test]
    fn token_exchange_grants_no_api_scope_it_was_not_asked_for() {
        let got = granted(
            "admin@example.com",
            WithoutApiScopes::Nothing,
            true,
            &["openid"],
        );
        assert_eq!(got, scopes(&["openid"]));
    }

    #[test]
    fn offline_access_is_granted_only_with_a_refresh_token() {
        let requested = ["tool:whoami", "offline_access"];
        let with = granted(
            "admin@example.com",
            WithoutApiScopes::Nothing,
            true,
            &requested,
        );
        assert_eq!(with, scopes(&requested));
        let without = granted(
            "admin@example.com",
            WithoutApiScopes::Nothing,
            false,
            &requested,
        );
        assert_eq!(without, scopes(&["tool:whoami"]));
    }

    #[test]
    fn a_machine_gets_its_client_grant_and_no_user_scopes() {
        let grant = ClientGrant {
            client_id: "m2m".to_owned(),
            audience: "http://localhost:4000/api/v2/".to_owned(),
            scope: scopes(&["read:clients", "read:users"]),
            subject_type: Default::default(),
        };
        let policy = ScopePolicy::for_machine(&grant);
        assert_eq!(policy.grant(&[]), scopes(&["read:clients", "read:users"]));
        let narrowed = policy.grant(&scopes(&["openid", "offline_access", "read:users", "x"]));
        assert_eq!(narrowed, scopes(&["read:users"]));
        assert_eq!(policy.permissions(&narrowed), narrowed);
    }
}
