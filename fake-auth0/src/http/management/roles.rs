//! `/api/v2/roles`, `/roles/{id}/permissions` and `/users/{id}/roles`: role-based access
//! control. Role ids (`rol_…`) derive from role names, which the tenant file uses.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{
    ManagementError, authorize, commit, derived_id, list_response, parse_body, parse_query,
    query_param,
};
use crate::model::{Permission, Role, Tenant};
use crate::state::AppState;

/// The id of a role: `rol_` and 16 hex digits, stable for a name.
pub(super) fn role_id(role: &Role) -> String {
    derived_id("rol_", "role", &role.name, 16)
}

/// A role as the Management API shows it.
#[derive(Serialize)]
struct RoleView<'a> {
    id: String,
    name: &'a str,
    description: Option<&'a str>,
}

fn view(role: &Role) -> RoleView<'_> {
    RoleView {
        id: role_id(role),
        name: &role.name,
        description: role.description.as_deref(),
    }
}

fn find<'t>(tenant: &'t Tenant, id: &str) -> Option<&'t Role> {
    tenant.roles.iter().find(|role| role_id(role) == id)
}

fn role_not_found() -> ManagementError {
    ManagementError::not_found_of("role", "The role does not exist.")
}

fn user_not_found() -> ManagementError {
    ManagementError::not_found_of("user", "The user does not exist.")
}

/// `GET /api/v2/roles` (filter: `name_filter`, case-insensitive substring).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:roles")?;
    let query = parse_query(query.as_deref())?;
    let filter = query_param(&query, "name_filter").map(str::to_lowercase);
    let tenant = state.tenant();
    let views = tenant
        .roles
        .iter()
        .filter(|role| {
            filter
                .as_deref()
                .is_none_or(|f| role.name.to_lowercase().contains(f))
        })
        .map(view)
        .collect();
    list_response("roles", views, &query)
}

/// `GET /api/v2/roles/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:roles")?;
    let tenant = state.tenant();
    let role = find(&tenant, &id).ok_or_else(role_not_found)?;
    Ok(Json(view(role)).into_response())
}

/// The body of `POST /api/v2/roles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRole {
    name: String,
    description: Option<String>,
}

/// `POST /api/v2/roles` → 200 with the new role (Auth0 answers 200 here).
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "create:roles")?;
    let request: CreateRole = parse_body(&body)?;
    if request.name.trim().is_empty() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: name must not be empty",
        ));
    }
    let role = Role {
        name: request.name,
        description: request.description,
        permissions: Vec::new(),
    };
    let created = commit(&state, |tenant| {
        if tenant.roles.iter().any(|r| r.name == role.name) {
            return Err(ManagementError::conflict("Role name already exists"));
        }
        tenant.roles.push(role.clone());
        Ok(role)
    })
    .await?;
    tracing::info!(role = created.name, "management API: role created");
    Ok(Json(view(&created)).into_response())
}

/// A permission as `GET /roles/{id}/permissions` shows it.
#[derive(Serialize)]
struct PermissionView<'a> {
    resource_server_identifier: &'a str,
    permission_name: &'a str,
    resource_server_name: Option<&'a str>,
    description: Option<&'a str>,
}

/// `GET /api/v2/roles/{id}/permissions`.
pub(super) async fn permissions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:roles")?;
    let query = parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let role = find(&tenant, &id).ok_or_else(role_not_found)?;
    let views = role
        .permissions
        .iter()
        .map(|p| {
            let api = tenant.resource_server(&p.resource_server_identifier);
            PermissionView {
                resource_server_identifier: &p.resource_server_identifier,
                permission_name: &p.permission_name,
                resource_server_name: api.map(|api| api.name.as_str()),
                description: api
                    .and_then(|api| api.scopes.iter().find(|s| s.value == p.permission_name))
                    .and_then(|s| s.description.as_deref()),
            }
        })
        .collect();
    list_response("permissions", views, &query)
}

/// The body of `POST /api/v2/roles/{id}/permissions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddPermissions {
    permissions: Vec<Permission>,
}

/// `POST /api/v2/roles/{id}/permissions` → 201: adds permissions (scopes of existing APIs);
/// ones the role has already are kept once.
pub(super) async fn add_permissions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:roles")?;
    let request: AddPermissions = parse_body(&body)?;
    if request.permissions.is_empty() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: permissions must not be empty",
        ));
    }
    commit(&state, |tenant| {
        for permission in &request.permissions {
            let Some(api) = tenant.resource_server(&permission.resource_server_identifier) else {
                return Err(ManagementError::not_found_of(
                    "resource_server",
                    format!(
                        "Resource server {} does not exist",
                        permission.resource_server_identifier
                    ),
                ));
            };
            if !api
                .scopes
                .iter()
                .any(|s| s.value == permission.permission_name)
            {
                return Err(ManagementError::invalid_body(format!(
                    "Permission {} is not defined in resource server {}",
                    permission.permission_name, permission.resource_server_identifier
                )));
            }
        }
        let name = find(tenant, &id).ok_or_else(role_not_found)?.name.clone();
        let role = tenant
            .roles
            .iter_mut()
            .find(|r| r.name == name)
            .ok_or_else(role_not_found)?;
        for permission in request.permissions {
            let exists = role.permissions.iter().any(|p| {
                p.resource_server_identifier == permission.resource_server_identifier
                    && p.permission_name == permission.permission_name
            });
            if !exists {
                role.permissions.push(permission);
            }
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /api/v2/users/{id}/roles`.
pub(super) async fn user_roles(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:users")?;
    let query = parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let user = tenant.user_by_id(&user_id).ok_or_else(user_not_found)?;
    let views = tenant
        .roles
        .iter()
        .filter(|role| user.roles.contains(&role.name))
        .map(view)
        .collect();
    list_response("roles", views, &query)
}

/// The body of `POST /api/v2/users/{id}/roles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRoles {
    roles: Vec<String>,
}

/// `POST /api/v2/users/{id}/roles` → 204: assigns roles (by id) to a user.
pub(super) async fn assign_to_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:users")?;
    let request: AssignRoles = parse_body(&body)?;
    if request.roles.is_empty() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: roles must not be empty",
        ));
    }
    commit(&state, |tenant| {
        let mut names = Vec::new();
        for id in &request.roles {
            let role = find(tenant, id).ok_or_else(|| {
                ManagementError::not_found_of("role", format!("Role {id} does not exist"))
            })?;
            names.push(role.name.clone());
        }
        let user = tenant
            .users
            .iter_mut()
            .find(|u| u.user_id == user_id)
            .ok_or_else(user_not_found)?;
        for name in names {
            if !user.roles.contains(&name) {
                user.roles.push(name);
            }
        }
        Ok(())
    })
    .await?;
    tracing::info!(user_id, "management API: roles assigned");
    Ok(StatusCode::NO_CONTENT.into_response())
}
