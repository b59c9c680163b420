//! `/api/v2/resource-servers`: the tenant's APIs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{
    ManagementError, authorize, commit, derived_id, list_response, parse_body, parse_query,
};
use crate::model::{
    ResourceServer, ResourceServerScope, SigningAlg, SubjectTypeAuthorization, Tenant, TokenDialect,
};
use crate::state::AppState;

/// A resource server as the Management API shows it.
#[derive(Serialize)]
pub(super) struct ResourceServerView<'a> {
    id: String,
    #[serde(flatten)]
    api: &'a ResourceServer,
    /// Auth0 marks its own Management API as a system API.
    is_system: bool,
}

/// The id Auth0 would give the API: 24 hex digits, stable for an identifier.
pub(super) fn resource_server_id(api: &ResourceServer) -> String {
    derived_id("", "resource-server", &api.identifier, 24)
}

fn view<'a>(state: &AppState, api: &'a ResourceServer) -> ResourceServerView<'a> {
    ResourceServerView {
        id: resource_server_id(api),
        api,
        is_system: api.identifier == super::auth::audience(state),
    }
}

/// The API named by `id`: its id, or its identifier (Auth0 accepts both).
fn find<'t>(tenant: &'t Tenant, id: &str) -> Option<&'t ResourceServer> {
    tenant
        .resource_servers
        .iter()
        .find(|api| api.identifier == id || resource_server_id(api) == id)
}

fn not_found() -> ManagementError {
    ManagementError::not_found_of("resource_server", "The resource server does not exist.")
}

/// `GET /api/v2/resource-servers`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:resource_servers")?;
    let query = parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let views = tenant
        .resource_servers
        .iter()
        .map(|api| view(&state, api))
        .collect();
    list_response("resource_servers", views, &query)
}

/// `GET /api/v2/resource-servers/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:resource_servers")?;
    let tenant = state.tenant();
    let api = find(&tenant, &id).ok_or_else(not_found)?;
    Ok(Json(view(&state, api)).into_response())
}

/// The body of `POST /api/v2/resource-servers`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateResourceServer {
    identifier: String,
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<ResourceServerScope>,
    signing_alg: Option<SigningAlg>,
    token_dialect: Option<TokenDialect>,
    enforce_policies: Option<bool>,
    allow_offline_access: Option<bool>,
    token_lifetime: Option<u64>,
    subject_type_authorization: Option<SubjectTypeAuthorization>,
    /// Accepted and ignored: fake-auth0 never asks a first-party client's user for consent.
    #[serde(rename = "skip_consent_for_verifiable_first_party_clients")]
    _skip_consent: Option<bool>,
    /// Accepted and ignored: every token of an API has the same lifetime.
    #[serde(rename = "token_lifetime_for_web")]
    _token_lifetime_for_web: Option<u64>,
}

/// `POST /api/v2/resource-servers` → 201 with the new API.
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "create:resource_servers")?;
    let request: CreateResourceServer = parse_body(&body)?;
    if request.identifier.trim().is_empty() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: identifier must not be empty",
        ));
    }
    let api = ResourceServer {
        name: request.name.unwrap_or_else(|| request.identifier.clone()),
        identifier: request.identifier,
        scopes: request.scopes,
        signing_alg: request.signing_alg.unwrap_or_default(),
        token_dialect: request.token_dialect.unwrap_or_default(),
        enforce_policies: request.enforce_policies.unwrap_or(false),
        allow_offline_access: request.allow_offline_access.unwrap_or(false),
        token_lifetime: request.token_lifetime.unwrap_or(86_400),
        subject_type_authorization: request.subject_type_authorization,
    };
    let created = commit(&state, |tenant| {
        if tenant.resource_server(&api.identifier).is_some() {
            return Err(ManagementError::conflict(
                "A resource server with the same identifier already exists",
            ));
        }
        tenant.resource_servers.push(api.clone());
        Ok(api)
    })
    .await?;
    tracing::info!(
        identifier = created.identifier,
        "management API: resource server created"
    );
    Ok((StatusCode::CREATED, Json(view(&state, &created))).into_response())
}

/// The body of `PATCH /api/v2/resource-servers/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchResourceServer {
    name: Option<String>,
    scopes: Option<Vec<ResourceServerScope>>,
    signing_alg: Option<SigningAlg>,
    token_dialect: Option<TokenDialect>,
    enforce_policies: Option<bool>,
    allow_offline_access: Option<bool>,
    token_lifetime: Option<u64>,
    subject_type_authorization: Option<SubjectTypeAuthorization>,
    #[serde(rename = "skip_consent_for_verifiable_first_party_clients")]
    _skip_consent: Option<bool>,
    #[serde(rename = "token_lifetime_for_web")]
    _token_lifetime_for_web: Option<u64>,
}

/// `PATCH /api/v2/resource-servers/{id}`: the given fields replace the API's.
pub(super) async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:resource_servers")?;
    let request: PatchResourceServer = parse_body(&body)?;
    let updated = commit(&state, |tenant| {
        let identifier = find(tenant, &id).ok_or_else(not_found)?.identifier.clone();
        let api = tenant
            .resource_servers
            .iter_mut()
            .find(|api| api.identifier == identifier)
            .ok_or_else(not_found)?;
        if let Some(name) = request.name {
            api.name = name;
        }
        if let Some(scopes) = request.scopes {
            api.scopes = scopes;
        }
        if let Some(alg) = request.signing_alg {
            api.signing_alg = alg;
        }
        if let Some(dialect) = request.token_dialect {
            api.token_dialect = dialect;
        }
        if let Some(enforce) = request.enforce_policies {
            api.enforce_policies = enforce;
        }
        if let Some(offline) = request.allow_offline_access {
            api.allow_offline_access = offline;
        }
        if let Some(lifetime) = request.token_lifetime {
            api.token_lifetime = lifetime;
        }
        if let Some(authorization) = request.subject_type_authorization {
            api.subject_type_authorization = Some(authorization);
        }
        Ok(api.clone())
    })
    .await?;
    Ok(Json(view(&state, &updated)).into_response())
}
