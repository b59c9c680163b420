//! `/api/v2/clients/cimd/…`: Auth0's manual registration of Client ID Metadata Document
//! clients. `preview` fetches and checks a document without creating anything;
//! `register` creates (201) or updates (200) the client whose `external_client_id` is the
//! URL. Both apply the draft's rules and Auth0's stricter ones (URL of at most 120 bytes
//! and not on localhost, `grant_types` required, …).
//!
//! A registered client is a strict third-party client of the tenant whose `client_id` is
//! the URL, so `/authorize` finds it in either mode and it is persisted with the tenant.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{ManagementError, authorize, commit, parse_body};
use crate::model::{AppType, Client, GrantType};
use crate::oauth::client_metadata::{ClientIdUrl, auth0_document_review, client_from_document};
use crate::state::AppState;

/// The body both routes take.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CimdRequest {
    /// The URL of the Client ID Metadata Document.
    external_client_id: String,
}

/// Auth0's `CimdValidationResult`.
#[derive(Debug, Serialize)]
struct Validation {
    valid: bool,
    violations: Vec<String>,
    warnings: Vec<String>,
}

/// Auth0's `CimdMappedClientFields`: the client the document becomes.
#[derive(Debug, Serialize)]
struct MappedFields {
    external_client_id: String,
    name: String,
    app_type: AppType,
    callbacks: Vec<String>,
    grant_types: Vec<GrantType>,
    token_endpoint_auth_method: &'static str,
}

impl MappedFields {
    fn of(client: &Client) -> MappedFields {
        MappedFields {
            external_client_id: client.client_id.clone(),
            name: client.name.clone(),
            app_type: client.app_type,
            callbacks: client.callbacks.clone(),
            grant_types: client.grant_types.clone(),
            token_endpoint_auth_method: client.token_endpoint_auth_method.as_str(),
        }
    }
}

/// What reading a document gave: it could not be retrieved (`errors`), or it was checked.
enum Review {
    Unretrievable(Vec<String>),
    Checked {
        validation: Validation,
        client: Option<Box<Client>>,
    },
}

/// Fetches the document afresh (never from the dev-mode cache) and applies every rule.
async fn review(state: &AppState, external_client_id: &str) -> Review {
    let url = match ClientIdUrl::parse(external_client_id) {
        Ok(url) => url,
        Err(violation) => {
            return Review::Checked {
                validation: Validation {
                    valid: false,
                    violations: vec![violation],
                    warnings: Vec::new(),
                },
                client: None,
            };
        }
    };
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    if let Err(rule) = url.check_auth0_rules() {
        // Auth0 refuses localhost URLs; fake-auth0 on loopback accepts them so that the
        // import can be exercised offline, and says what Auth0 would do.
        if state.client_metadata.serves_loopback() {
            warnings.push(format!("{rule} (Auth0 refuses this URL)"));
        } else {
            violations.push(rule);
        }
    }
    let body = match state.client_metadata.download(&url).await {
        Ok((body, _)) => body,
        Err(error) => return Review::Unretrievable(vec![error]),
    };
    let client = match client_from_document(&url, &body) {
        Ok(client) => Some(Box::new(client)),
        Err(violation) => {
            violations.push(violation);
            None
        }
    };
    let (auth0_violations, auth0_warnings) = auth0_document_review(&body);
    violations.extend(auth0_violations);
    warnings.extend(auth0_warnings);
    Review::Checked {
        validation: Validation {
            valid: violations.is_empty(),
            violations,
            warnings,
        },
        client,
    }
}

/// The body of `POST /api/v2/clients/cimd/preview` (Auth0's
/// `PreviewCimdMetadataResponseContent`).
#[derive(Serialize)]
struct PreviewResponse {
    /// The client already registered with this URL, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<Validation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mapped_fields: Option<MappedFields>,
}

/// The registered client with this URL as `external_client_id`.
fn registered_with(state: &AppState, external_client_id: &str) -> Option<String> {
    state
        .tenant()
        .clients
        .iter()
        .find(|client| client.external_client_id.as_deref() == Some(external_client_id))
        .map(|client| client.client_id.clone())
}

/// `POST /api/v2/clients/cimd/preview` → 200, whatever the document's state.
pub(super) async fn preview(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:clients")?;
    let request: CimdRequest = parse_body(&body)?;
    let client_id = registered_with(&state, &request.external_client_id);
    let response = match review(&state, &request.external_client_id).await {
        Review::Unretrievable(errors) => PreviewResponse {
            client_id,
            errors: Some(errors),
            validation: None,
            mapped_fields: None,
        },
        Review::Checked { validation, client } => PreviewResponse {
            client_id,
            errors: None,
            mapped_fields: client.as_deref().map(MappedFields::of),
            validation: Some(validation),
        },
    };
    Ok(Json(response).into_response())
}

/// The body of `POST /api/v2/clients/cimd/register` (Auth0's
/// `RegisterCimdClientResponseContent`).
#[derive(Serialize)]
struct RegisterResponse {
    client_id: String,
    mapped_fields: MappedFields,
    validation: Validation,
}

/// `POST /api/v2/clients/cimd/register` → 201 created or 200 updated; 400 when the
/// document cannot be retrieved or breaks a rule.
pub(super) async fn register(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    // The scope needed (create or update) depends on whether the URL is registered, so
    // the body is read first.
    let request: CimdRequest = parse_body(&body)?;
    let existing = registered_with(&state, &request.external_client_id);
    authorize(
        &state,
        &headers,
        if existing.is_some() {
            "update:clients"
        } else {
            "create:clients"
        },
    )?;
    let (validation, client) = match review(&state, &request.external_client_id).await {
        Review::Unretrievable(errors) => {
            return Err(ManagementError::invalid_body(format!(
                "The client metadata document could not be retrieved: {}",
                errors.join("; ")
            )));
        }
        Review::Checked {
            validation,
            client: Some(client),
        } if validation.valid => (validation, client),
        Review::Checked { validation, .. } => {
            return Err(ManagementError::invalid_body(format!(
                "The client metadata document is not valid: {}",
                validation.violations.join("; ")
            )));
        }
    };
    let stored = (*client).clone();
    commit(&state, move |tenant| {
        tenant
            .clients
            .retain(|known| known.client_id != stored.client_id);
        tenant.clients.push(stored);
        Ok(())
    })
    .await?;
    tracing::info!(
        client_id = client.client_id,
        updated = existing.is_some(),
        "management API: client registered from its metadata document"
    );
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let response = RegisterResponse {
        client_id: client.client_id.clone(),
        mapped_fields: MappedFields::of(&client),
        validation,
    };
    Ok((status, Json(response)).into_response())
}
