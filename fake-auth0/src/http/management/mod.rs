//! The subset of Auth0's Management API (`/api/v2/…`) that the MCP quickstart uses to set up
//! its tenant, at Auth0's paths and in Auth0's shapes, so the quickstart's own `curl` and
//! `auth0 api` calls work against fake-auth0 unchanged.
//!
//! Every route checks a Management API token with [`authorize`]. Changes are applied to a
//! copy of the tenant that then replaces it whole ([`AppState::update_tenant`]), so they take
//! effect at once for the token endpoint, and are persisted before the response is sent.
//! Routes fake-auth0 does not implement answer 501 naming the route.

mod actions;
mod auth;
mod cimd;
mod client_grants;
mod clients;
mod commit;
mod connections;
mod error;
mod ids;
mod keys;
mod list;
mod profiles;
mod request;
mod resource_servers;
mod roles;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::OriginalUri;
use axum::routing::{get, post};
use http::Method;

// What every route uses, for the routes' `use super::{…}`.
use auth::authorize;
use commit::commit;
use error::ManagementError;
use ids::{derived_id, random_id};
use list::{list_response, page_of};
use request::{ManagementBody, parse_body, parse_query, query_param};

use crate::state::AppState;

/// The Management API's routes, to be nested at `/api/v2`.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/resource-servers",
            get(resource_servers::list).post(resource_servers::create),
        )
        .route(
            "/resource-servers/{id}",
            get(resource_servers::get).patch(resource_servers::patch),
        )
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/cimd/preview", post(cimd::preview))
        .route("/clients/cimd/register", post(cimd::register))
        .route("/clients/{id}", get(clients::get).patch(clients::patch))
        .route(
            "/client-grants",
            get(client_grants::list).post(client_grants::create),
        )
        .route("/roles", get(roles::list).post(roles::create))
        .route("/roles/{id}", get(roles::get))
        .route(
            "/roles/{id}/permissions",
            get(roles::permissions).post(roles::add_permissions),
        )
        .route("/users", get(users::list))
        .route("/users-by-email", get(users::by_email))
        .route("/users/{id}", get(users::get))
        .route(
            "/users/{id}/roles",
            get(roles::user_roles).post(roles::assign_to_user),
        )
        .route("/connections", get(connections::list))
        .route(
            "/connections/{id}",
            get(connections::get).patch(connections::patch),
        )
        .route("/actions/actions", get(actions::list))
        .route(
            "/actions/actions/{id}",
            get(actions::get).patch(actions::patch),
        )
        .route("/actions/actions/{id}/deploy", post(actions::deploy))
        .route(
            "/token-exchange-profiles",
            get(profiles::list).post(profiles::create),
        )
        .route(
            "/token-exchange-profiles/{id}",
            get(profiles::get)
                .patch(profiles::patch)
                .delete(profiles::delete),
        )
        .merge(keys::routes())
        .fallback(not_implemented)
        .method_not_allowed_fallback(not_implemented)
}

/// 501 for every route under `/api/v2/` that fake-auth0 does not implement.
async fn not_implemented(method: Method, OriginalUri(uri): OriginalUri) -> ManagementError {
    ManagementError::not_implemented(format!("{method} {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::model::Tenant;

    /// Every scope literal (`"read:…"`, `"create:…"`, `"update:…"`, `"delete:…"`) in the
    /// Management API's source.
    fn scopes_in_source() -> BTreeSet<String> {
        let sources = [
            include_str!("actions.rs"),
            include_str!("client_grants.rs"),
            include_str!("clients.rs"),
            include_str!("connections.rs"),
            include_str!("keys.rs"),
            include_str!("profiles.rs"),
            include_str!("resource_servers.rs"),
            include_str!("roles.rs"),
            include_str!("users.rs"),
        ];
        let mut scopes = BTreeSet::new();
        for source in sources {
            for literal in source.split('"').skip(1).step_by(2) {
                let Some((verb, object)) = literal.split_once(':') else {
                    continue;
                };
                if ["read", "create", "update", "delete"].contains(&verb)
                    && !object.is_empty()
                    && object.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                {
                    scopes.insert(literal.to_owned());
                }
            }
        }
        scopes
    }

    /// The contract: `management-cli` holds every Management API scope fake-auth0
    /// implements, in the demo tenant and in the quickstart's fresh tenant.
    #[test]
    fn management_cli_holds_every_implemented_scope() {
        let implemented = scopes_in_source();
        assert!(implemented.contains("create:token_exchange_profiles"));
        let quickstart = Tenant::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tenants/quickstart.yaml"
        ))
        .unwrap();
        for (name, tenant) in [("demo", Tenant::demo()), ("quickstart", quickstart)] {
            let grant = tenant
                .client_grants
                .iter()
                .find(|g| g.client_id == "management-cli")
                .unwrap();
            let granted: BTreeSet<String> = grant.scope.iter().cloned().collect();
            let missing: Vec<_> = implemented.difference(&granted).collect();
            assert!(missing.is_empty(), "{name} tenant lacks {missing:?}");
            let api = tenant.resource_server(&grant.audience).unwrap();
            let defined: BTreeSet<String> = api.scopes.iter().map(|s| s.value.clone()).collect();
            assert_eq!(defined, granted, "{name} tenant");
        }
    }
}
