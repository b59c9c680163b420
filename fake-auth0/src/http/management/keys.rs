//! Application signing keys at Auth0's Management API paths: list them
//! (`GET /api/v2/keys/signing`, `GET /api/v2/keys/signing/{kid}`) and rotate them
//! (`POST /api/v2/keys/signing/rotate`).
//!
//! Auth0 reports each key with its certificate; fake-auth0 has no certificates, so `cert`,
//! `pkcs7`, `fingerprint` and `thumbprint` are left out, and keys are never revoked
//! (revoking answers 501 through the router's fallback). Private keys never leave the
//! process through these routes.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::{ManagementError, authorize};
use crate::keys::{KeyEntry, KeyRole};
use crate::state::AppState;

/// Auth0's scope for reading signing keys.
const READ_SCOPE: &str = "read:signing_keys";
/// Auth0 accepts either of these for a rotation.
const ROTATE_SCOPES: [&str; 2] = ["create:signing_keys", "update:signing_keys"];

/// The routes, relative to `/api/v2`.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/keys/signing", get(list))
        .route("/keys/signing/rotate", post(rotate))
        .route("/keys/signing/{kid}", get(get_one))
}

/// A signing key as `GET /api/v2/keys/signing` shows it.
#[derive(Debug, Serialize)]
struct SigningKeyView {
    kid: String,
    current: bool,
    next: bool,
    previous: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_until: Option<String>,
    revoked: bool,
}

impl SigningKeyView {
    fn new(entry: &KeyEntry) -> Self {
        Self {
            kid: entry.key.kid().to_owned(),
            current: entry.role == KeyRole::Current,
            next: entry.role == KeyRole::Next,
            previous: entry.role == KeyRole::Previous,
            current_since: entry.current_since.map(iso_8601),
            current_until: entry.current_until.map(iso_8601),
            revoked: false,
        }
    }
}

/// The rotation's answer: the new next key, as Auth0 answers (without its certificate).
#[derive(Debug, Serialize)]
struct RotateResponse {
    kid: String,
}

/// A Unix time as Auth0 writes dates (`2026-01-31T12:00:00.000Z`).
fn iso_8601(unix: u64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    i64::try_from(unix)
        .ok()
        .and_then(|unix| time::OffsetDateTime::from_unix_timestamp(unix).ok())
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_default()
}

/// Keys still published at `now`: retired previous keys are not listed.
fn published(state: &AppState) -> Vec<SigningKeyView> {
    let now = state.now();
    state
        .tokens
        .keys()
        .entries()
        .filter(|entry| entry.retire_at.is_none_or(|at| at > now))
        .map(SigningKeyView::new)
        .collect()
}

/// `GET /api/v2/keys/signing`: current, next, then previous keys.
async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<SigningKeyView>>, ManagementError> {
    authorize(&state, &headers, READ_SCOPE)?;
    Ok(Json(published(&state)))
}

/// `GET /api/v2/keys/signing/{kid}`.
async fn get_one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(kid): Path<String>,
) -> Result<Json<SigningKeyView>, ManagementError> {
    authorize(&state, &headers, READ_SCOPE)?;
    published(&state)
        .into_iter()
        .find(|key| key.kid == kid)
        .map(Json)
        .ok_or_else(|| ManagementError::not_found("Signing key not found"))
}

/// `POST /api/v2/keys/signing/rotate`: the next key becomes current, a new next key is
/// published, the old current key stays published until its tokens have expired. 201 with
/// the new next key's `kid`, once the rotation is committed.
async fn rotate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ManagementError> {
    let [create, update] = ROTATE_SCOPES;
    let token = match authorize(&state, &headers, create) {
        Err(error) if error.status() == StatusCode::FORBIDDEN => {
            authorize(&state, &headers, update).map_err(|error| {
                if error.status() == StatusCode::FORBIDDEN {
                    ManagementError::insufficient_scope(&ROTATE_SCOPES.join(", "))
                } else {
                    error
                }
            })?
        }
        other => other?,
    };
    let keys = state.rotate_keys().await.map_err(|error| {
        tracing::error!(%error, "management API: key rotation failed");
        ManagementError::internal()
    })?;
    tracing::info!(by = %token.subject, kid = keys.current().kid(), "signing keys rotated through the Management API");
    Ok((
        StatusCode::CREATED,
        Json(RotateResponse {
            kid: keys.next().kid().to_owned(),
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_auth0_writes_them() {
        assert_eq!(iso_8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_8601(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }
}
