//! `/api/v2/token-exchange-profiles`: Custom Token Exchange profiles, which route a
//! `subject_token_type` to an Action. Auth0's rules apply on creation: a name of 3 to 50
//! characters, a `subject_token_type` outside the reserved namespaces, an existing
//! `action_id` (fixed afterwards), `type: custom_authentication`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{ManagementError, authorize, commit, parse_body, parse_query, random_id};
use crate::model::{
    ProfileType, TokenExchangeProfile, check_subject_token_type, validate_profiles,
};
use crate::state::AppState;

/// A profile as the Management API shows it (the Action's secrets stay out).
#[derive(Serialize)]
struct ProfileView<'a> {
    id: &'a str,
    name: &'a str,
    subject_token_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_id: Option<&'a str>,
    #[serde(rename = "type")]
    profile_type: ProfileType,
}

fn view(profile: &TokenExchangeProfile) -> ProfileView<'_> {
    ProfileView {
        id: &profile.id,
        name: &profile.name,
        subject_token_type: &profile.subject_token_type,
        action_id: profile.action_id.as_deref(),
        profile_type: profile.profile_type,
    }
}

fn not_found() -> ManagementError {
    ManagementError::not_found_of(
        "token_exchange_profile",
        "The token exchange profile does not exist",
    )
}

/// Checks a name as Auth0 does: 3 to 50 characters.
fn check_name(name: &str) -> Result<(), ManagementError> {
    if (3..=50).contains(&name.chars().count()) {
        Ok(())
    } else {
        Err(ManagementError::invalid_body(
            "Payload validation error: name must be 3 to 50 characters long",
        ))
    }
}

/// Checks a `subject_token_type`: a customer-owned URI outside the reserved namespaces.
fn check_type(subject_token_type: &str) -> Result<(), ManagementError> {
    check_subject_token_type(subject_token_type).map_err(ManagementError::invalid_body)
}

/// `GET /api/v2/token-exchange-profiles` → `{"token_exchange_profiles": […]}`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:token_exchange_profiles")?;
    parse_query(query.as_deref())?;
    let tenant = state.tenant();
    let profiles: Vec<ProfileView<'_>> = tenant.token_exchange_profiles.iter().map(view).collect();
    Ok(Json(serde_json::json!({ "token_exchange_profiles": profiles })).into_response())
}

/// `GET /api/v2/token-exchange-profiles/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:token_exchange_profiles")?;
    let tenant = state.tenant();
    let profile = tenant
        .token_exchange_profiles
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(not_found)?;
    Ok(Json(view(profile)).into_response())
}

/// The body of `POST /api/v2/token-exchange-profiles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateProfile {
    name: String,
    subject_token_type: String,
    action_id: String,
    #[serde(rename = "type")]
    profile_type: ProfileType,
}

/// `POST /api/v2/token-exchange-profiles` → 201 with the profile (`tep_…`).
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "create:token_exchange_profiles")?;
    let request: CreateProfile = parse_body(&body)?;
    check_name(&request.name)?;
    check_type(&request.subject_token_type)?;
    let created = commit(&state, |tenant| {
        let action = tenant
            .actions
            .iter()
            .find(|a| a.id == request.action_id)
            .ok_or_else(|| {
                ManagementError::invalid_body(format!(
                    "action_id `{}` does not refer to an action",
                    request.action_id
                ))
            })?;
        let config = action
            .profile_action()
            .map_err(ManagementError::invalid_body)?;
        if tenant
            .token_exchange_profiles
            .iter()
            .any(|p| p.subject_token_type == request.subject_token_type)
        {
            return Err(ManagementError::conflict(format!(
                "A token exchange profile for subject_token_type `{}` already exists",
                request.subject_token_type
            )));
        }
        let profile = TokenExchangeProfile {
            id: random_id("tep_", 16),
            name: request.name,
            subject_token_type: request.subject_token_type,
            action_id: Some(request.action_id),
            profile_type: request.profile_type,
            action: config,
        };
        tenant.token_exchange_profiles.push(profile.clone());
        validate_profiles(&tenant.token_exchange_profiles)
            .map_err(ManagementError::invalid_body)?;
        Ok(profile)
    })
    .await?;
    tracing::info!(
        profile = created.id,
        subject_token_type = created.subject_token_type,
        "management API: token exchange profile created"
    );
    Ok((StatusCode::CREATED, Json(view(&created))).into_response())
}

/// The body of `PATCH /api/v2/token-exchange-profiles/{id}`: `action_id` and `type` are
/// fixed after creation, as in Auth0.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchProfile {
    name: Option<String>,
    subject_token_type: Option<String>,
}

/// `PATCH /api/v2/token-exchange-profiles/{id}`.
pub(super) async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "update:token_exchange_profiles")?;
    let request: PatchProfile = parse_body(&body)?;
    if let Some(name) = &request.name {
        check_name(name)?;
    }
    if let Some(subject_token_type) = &request.subject_token_type {
        check_type(subject_token_type)?;
    }
    let updated = commit(&state, |tenant| {
        let profile = tenant
            .token_exchange_profiles
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(not_found)?;
        if let Some(name) = request.name {
            profile.name = name;
        }
        if let Some(subject_token_type) = request.subject_token_type {
            profile.subject_token_type = subject_token_type;
        }
        let profile = profile.clone();
        validate_profiles(&tenant.token_exchange_profiles).map_err(ManagementError::conflict)?;
        Ok(profile)
    })
    .await?;
    Ok(Json(view(&updated)).into_response())
}

/// `DELETE /api/v2/token-exchange-profiles/{id}` → 204.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "delete:token_exchange_profiles")?;
    commit(&state, |tenant| {
        let before = tenant.token_exchange_profiles.len();
        tenant.token_exchange_profiles.retain(|p| p.id != id);
        if tenant.token_exchange_profiles.len() == before {
            return Err(not_found());
        }
        Ok(())
    })
    .await?;
    tracing::info!(
        profile = id,
        "management API: token exchange profile deleted"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
