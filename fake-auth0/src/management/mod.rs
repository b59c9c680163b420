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
mod client_grants;
mod clients;
mod connections;
mod error;
mod keys;
mod profiles;
mod resource_servers;
mod roles;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::OriginalUri;
use axum::routing::{get, post};
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use auth::authorize;
pub(crate) use error::ManagementError;

use crate::model::Tenant;
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

/// Parses a JSON request body against a route's schema; unknown fields are refused, as
/// Auth0's schemas refuse additional properties.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ManagementError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        if path == "." {
            ManagementError::invalid_body(format!("Payload validation error: {message}"))
        } else {
            ManagementError::invalid_body(format!(
                "Payload validation error: at `{path}`: {message}"
            ))
        }
    })
}

/// The query string as name/value pairs.
fn parse_query(query: Option<&str>) -> Result<Vec<(String, String)>, ManagementError> {
    serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|_| ManagementError::invalid_query("The query string is not valid"))
}

/// The value of one query parameter.
fn query_param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Applies one change to the tenant, checks the result as a tenant file is checked, and
/// persists it before the caller answers. The change sees a private copy; if it or the
/// check fails, the tenant is left as it was.
async fn commit<T>(
    state: &AppState,
    change: impl FnOnce(&mut Tenant) -> Result<T, ManagementError>,
) -> Result<T, ManagementError> {
    let result = state.update_tenant(|tenant| {
        let result = change(tenant)?;
        tenant.validate().map_err(ManagementError::invalid_body)?;
        Ok::<T, ManagementError>(result)
    })?;
    state.persist_tenant().await.map_err(|error| {
        tracing::error!(%error, "management API: the tenant could not be persisted");
        ManagementError::internal()
    })?;
    Ok(result)
}

/// A stable id derived from an object's natural key, for objects that a tenant file names
/// by key rather than id (roles, connections, resource servers): the same tenant always
/// yields the same ids, across restarts and without storing them.
fn derived_id(prefix: &str, kind: &str, key: &str, hex_len: usize) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{kind}\n{key}").as_bytes(),
    );
    let hex: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{prefix}{}", &hex[..hex_len])
}

/// A fresh random id with an Auth0-style prefix (`tep_…`); alphanumeric, as Auth0's are.
fn random_id(prefix: &str, len: usize) -> String {
    let mut id = String::from(prefix);
    while id.len() < prefix.len() + len {
        id.extend(
            crate::oauth::random_token(len)
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(prefix.len() + len - id.len()),
        );
    }
    id
}

/// One page of a list, as Auth0 pages with `page` (from 0) and `per_page` (default 50, at
/// most 100).
struct Page<T> {
    items: Vec<T>,
    page: usize,
    per_page: usize,
    start: usize,
    total: usize,
}

fn page_of<T>(items: Vec<T>, query: &[(String, String)]) -> Result<Page<T>, ManagementError> {
    let number = |param: &str, default: usize| -> Result<usize, ManagementError> {
        query_param(query, param).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ManagementError::invalid_query(format!("{param} must be a number")))
        })
    };
    let per_page = number("per_page", 50)?.clamp(1, 100);
    let page = number("page", 0)?;
    let total = items.len();
    let start = page.saturating_mul(per_page).min(total);
    Ok(Page {
        items: items.into_iter().skip(start).take(per_page).collect(),
        page,
        per_page,
        start,
        total,
    })
}

/// A list answer: the bare array, or with `include_totals=true` Auth0's paged object
/// (`{"<name>": […], "start", "limit", "length", "total"}`). `page` and `per_page` page it.
fn list_response<T: Serialize>(
    name: &str,
    items: Vec<T>,
    query: &[(String, String)],
) -> Result<axum::response::Response, ManagementError> {
    use axum::response::IntoResponse;
    let page = page_of(items, query)?;
    if query_param(query, "include_totals") == Some("true") {
        let mut body = serde_json::Map::new();
        body.insert(
            name.to_owned(),
            serde_json::to_value(&page.items).map_err(|_| ManagementError::internal())?,
        );
        body.insert("start".to_owned(), page.start.into());
        body.insert("limit".to_owned(), page.per_page.into());
        body.insert("length".to_owned(), page.items.len().into());
        body.insert("total".to_owned(), page.total.into());
        return Ok(axum::Json(body).into_response());
    }
    Ok(axum::Json(page.items).into_response())
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

    #[test]
    fn derived_ids_are_stable_and_prefixed() {
        let id = super::derived_id("rol_", "role", "Tool User", 16);
        assert_eq!(id, super::derived_id("rol_", "role", "Tool User", 16));
        assert_ne!(id, super::derived_id("rol_", "role", "Tool Users", 16));
        assert!(id.starts_with("rol_") && id.len() == 20, "{id}");
        let random = super::random_id("tep_", 16);
        assert!(random.starts_with("tep_") && random.len() == 20, "{random}");
        assert!(random[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
