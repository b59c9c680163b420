//! `/api/v2/connections`: the tenant's one database connection. Only
//! `is_domain_connection` can be changed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Serialize;

use super::ManagementBody;
use super::{
    ManagementError, authorize, commit, derived_id, list_response, parse_body, parse_query,
    query_param,
};
use crate::model::{Connection, Tenant};
use crate::state::AppState;

/// The strategy of a database connection.
const STRATEGY: &str = "auth0";

/// A connection's id: `con_` and 16 hex digits, stable for a name.
fn connection_id(connection: &Connection) -> String {
    derived_id("con_", "connection", &connection.name, 16)
}

/// A connection as the Management API shows it.
#[derive(Serialize)]
struct ConnectionView<'a> {
    id: String,
    name: &'a str,
    display_name: &'a str,
    strategy: &'static str,
    is_domain_connection: bool,
    /// Every client of the tenant may log in through it.
    enabled_clients: Vec<&'a str>,
    realms: [&'a str; 1],
}

fn view(tenant: &Tenant) -> ConnectionView<'_> {
    let connection = &tenant.connection;
    ConnectionView {
        id: connection_id(connection),
        name: &connection.name,
        display_name: &connection.name,
        strategy: STRATEGY,
        is_domain_connection: connection.is_domain_connection,
        enabled_clients: tenant
            .clients
            .iter()
            .map(|c| c.client_id.as_str())
            .collect(),
        realms: [&connection.name],
    }
}

fn not_found() -> ManagementError {
    ManagementError::not_found_of("connection", "The connection does not exist")
}

/// `GET /api/v2/connections` (filters: `strategy`, `name`).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:connections")?;
    let query = parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let matches = query
        .iter()
        .filter(|(name, _)| name == "strategy")
        .all(|(_, strategy)| strategy == STRATEGY)
        && query_param(&query, "name").is_none_or(|name| name == tenant.connection.name);
    let views = if matches {
        vec![view(&tenant)]
    } else {
        Vec::new()
    };
    list_response("connections", views, &query)
}

/// `GET /api/v2/connections/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:connections")?;
    let tenant = state.tenant();
    if connection_id(&tenant.connection) != id {
        return Err(not_found());
    }
    Ok(Json(view(&tenant)).into_response())
}

/// `PATCH /api/v2/connections/{id}`: `is_domain_connection` only; any other field of
/// Auth0's schema answers 501, naming it.
pub(super) async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:connections")?;
    let request: serde_json::Map<String, serde_json::Value> = parse_body(&body)?;
    if let Some(field) = request.keys().find(|k| *k != "is_domain_connection") {
        return Err(ManagementError::not_implemented(format!(
            "PATCH /api/v2/connections/{{id}} with `{field}`"
        )));
    }
    let domain = match request.get("is_domain_connection") {
        None => None,
        Some(serde_json::Value::Bool(value)) => Some(*value),
        Some(_) => {
            return Err(ManagementError::invalid_body(
                "Payload validation error: is_domain_connection must be a boolean",
            ));
        }
    };
    commit(&state, |tenant| {
        if connection_id(&tenant.connection) != id {
            return Err(not_found());
        }
        if let Some(domain) = domain {
            tenant.connection.is_domain_connection = domain;
        }
        Ok(())
    })
    .await?;
    let tenant = state.tenant();
    Ok(Json(view(&tenant)).into_response())
}
