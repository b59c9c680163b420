//! `/api/v2/actions/actions`: the tenant's Actions, which are fake-auth0's built-in
//! templates (today: the on-behalf-of Custom Token Exchange template). Their secrets can be
//! set, and a change reaches every profile bound to the Action at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{ManagementError, authorize, commit, page_of, parse_body, parse_query, query_param};
use crate::model::{ActionDefinition, ActionSecret, ActionTemplate, SecretValue, Tenant};
use crate::state::AppState;

/// The trigger of Custom Token Exchange Actions.
const TRIGGER: &str = "custom-token-exchange";

/// An Action as the Management API shows it (secret values are never shown).
#[derive(Serialize)]
struct ActionView<'a> {
    id: &'a str,
    name: &'a str,
    supported_triggers: [Trigger; 1],
    status: &'static str,
    all_changes_deployed: bool,
    runtime: &'static str,
    secrets: Vec<SecretName<'a>>,
    /// Which built-in template runs (fake-auth0's own field).
    template: ActionTemplate,
}

#[derive(Serialize)]
struct Trigger {
    id: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct SecretName<'a> {
    name: &'a str,
}

fn view(action: &ActionDefinition) -> ActionView<'_> {
    ActionView {
        id: &action.id,
        name: &action.name,
        supported_triggers: [Trigger {
            id: TRIGGER,
            version: "v1",
        }],
        status: "built",
        // Changes take effect at once: there are no undeployed drafts.
        all_changes_deployed: true,
        runtime: "node22",
        secrets: action
            .secrets
            .iter()
            .map(|s| SecretName { name: &s.name })
            .collect(),
        template: action.template,
    }
}

fn find<'t>(tenant: &'t Tenant, id: &str) -> Option<&'t ActionDefinition> {
    tenant.actions.iter().find(|a| a.id == id)
}

fn not_found() -> ManagementError {
    ManagementError::not_found_of("action", "The action does not exist")
}

/// `GET /api/v2/actions/actions` (filters: `triggerId`, `actionName`) →
/// `{"actions": […], "total", "page", "per_page"}`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:actions")?;
    let query = parse_query(query.as_deref())?;
    let trigger = query_param(&query, "triggerId");
    let name = query_param(&query, "actionName");
    let tenant = state.tenant();
    let actions: Vec<ActionView<'_>> = tenant
        .actions
        .iter()
        .filter(|_| trigger.is_none_or(|t| t == TRIGGER))
        .filter(|a| name.is_none_or(|n| a.name == n))
        .map(view)
        .collect();
    // Always paged: Auth0's SDKs ask for the next page until one comes back empty.
    let page = page_of(actions, &query)?;
    Ok(Json(serde_json::json!({
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "actions": page.items,
    }))
    .into_response())
}

/// `GET /api/v2/actions/actions/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:actions")?;
    let tenant = state.tenant();
    let action = find(&tenant, &id).ok_or_else(not_found)?;
    Ok(Json(view(action)).into_response())
}

/// The body of `PATCH /api/v2/actions/actions/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchAction {
    name: Option<String>,
    secrets: Option<Vec<NewSecret>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSecret {
    name: String,
    value: String,
}

/// `PATCH /api/v2/actions/actions/{id}`: renames the Action and sets secrets (merged by
/// name). Profiles bound to the Action run with the new secrets at once; a change that
/// leaves such a profile's Action unusable is refused with the reason.
pub(super) async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:actions")?;
    let request: PatchAction = parse_body(&body)?;
    let updated = commit(&state, |tenant| {
        let action = tenant
            .actions
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(not_found)?;
        if let Some(name) = request.name {
            action.name = name;
        }
        for secret in request.secrets.unwrap_or_default() {
            action.secrets.retain(|s| s.name != secret.name);
            action.secrets.push(ActionSecret {
                name: secret.name,
                value: SecretValue::Text(secret.value),
            });
        }
        let action = action.clone();
        let bound: Vec<_> = tenant
            .token_exchange_profiles
            .iter_mut()
            .filter(|p| p.action_id.as_deref() == Some(action.id.as_str()))
            .collect();
        if !bound.is_empty() {
            let config = action
                .profile_action()
                .map_err(ManagementError::invalid_body)?;
            for profile in bound {
                profile.action = config.clone();
            }
        }
        Ok(action)
    })
    .await?;
    tracing::info!(action_id = updated.id, "management API: action updated");
    Ok(Json(view(&updated)).into_response())
}

/// `POST /api/v2/actions/actions/{id}/deploy`: changes are live already, so this only
/// confirms, answering like Auth0 with the deployed version.
pub(super) async fn deploy(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:actions")?;
    parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let action = find(&tenant, &id).ok_or_else(not_found)?;
    Ok((
        http::StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "action_id": action.id,
            "deployed": true,
            "status": "built",
            "runtime": "node22",
        })),
    )
        .into_response())
}
