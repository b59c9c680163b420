//! `/api/v2/client-grants`: which APIs a client may get tokens for, with which scopes: machine
//! tokens (`subject_type: client`) or users' tokens on their behalf (`subject_type: user`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{
    ManagementError, authorize, commit, derived_id, list_response, parse_body, parse_query,
    query_param,
};
use crate::model::{ClientGrant, ClientGrantSubjectType};
use crate::state::AppState;

/// A client grant as the Management API shows it.
#[derive(Serialize)]
struct ClientGrantView<'a> {
    /// `cgr_…`, stable for a client and an audience.
    id: String,
    #[serde(flatten)]
    grant: &'a ClientGrant,
}

fn view(grant: &ClientGrant) -> ClientGrantView<'_> {
    ClientGrantView {
        id: derived_id(
            "cgr_",
            "client-grant",
            &match grant.subject_type {
                ClientGrantSubjectType::Client => {
                    format!("{}\n{}", grant.client_id, grant.audience)
                }
                ClientGrantSubjectType::User => {
                    format!("{}\n{}\nuser", grant.client_id, grant.audience)
                }
            },
            16,
        ),
        grant,
    }
}

/// `GET /api/v2/client-grants` (filters: `client_id`, `audience`).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:client_grants")?;
    let query = parse_query(query.as_deref())?;
    let client_id = query_param(&query, "client_id");
    let audience = query_param(&query, "audience");
    let tenant = state.tenant();
    let views = tenant
        .client_grants
        .iter()
        .filter(|g| client_id.is_none_or(|id| g.client_id == id))
        .filter(|g| audience.is_none_or(|aud| g.audience == aud))
        .map(view)
        .collect();
    list_response("client_grants", views, &query)
}

/// The body of `POST /api/v2/client-grants`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClientGrant {
    client_id: String,
    audience: String,
    #[serde(default)]
    scope: Vec<String>,
    /// `user` for user-delegated access (the On-Behalf-Of exchange); `client` by default.
    #[serde(default)]
    subject_type: ClientGrantSubjectType,
}

/// `POST /api/v2/client-grants` → 201.
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "create:client_grants")?;
    let request: CreateClientGrant = parse_body(&body)?;
    let grant = ClientGrant {
        client_id: request.client_id,
        audience: request.audience,
        scope: request.scope,
        subject_type: request.subject_type,
    };
    let created = commit(&state, |tenant| {
        if !tenant
            .clients
            .iter()
            .any(|c| c.client_id == grant.client_id)
        {
            return Err(ManagementError::not_found_of(
                "client",
                "The client does not exist",
            ));
        }
        if tenant.resource_server(&grant.audience).is_none() {
            return Err(ManagementError::not_found_of(
                "resource_server",
                format!("No resource server found by identifier {}", grant.audience),
            ));
        }
        if tenant.client_grants.iter().any(|g| {
            g.client_id == grant.client_id
                && g.audience == grant.audience
                && g.subject_type == grant.subject_type
        }) {
            return Err(ManagementError::conflict(
                "A client grant for this client and audience already exists",
            ));
        }
        tenant.client_grants.push(grant.clone());
        Ok(grant)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view(&created))).into_response())
}
