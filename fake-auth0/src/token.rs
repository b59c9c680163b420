//! `/oauth/token`: parses the request once, authenticates the client, and dispatches on
//! the grant type (RFC 6749 §4, RFC 8693).
//!
//! The grants themselves live in `grants`, free of HTTP; this is the adapter.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use crate::grants::{TokenResponse, authenticate_client, grant_tokens};
use crate::model::GrantType;
use crate::oauth::{FormParams, OAuthError};
use crate::state::AppState;

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match handle(&state, &headers, body).await {
        Ok(response) => response.into_response(),
        Err(error) => {
            tracing::info!(
                error = %error.code,
                description = %error.description,
                "token request rejected"
            );
            error.into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, OAuthError> {
    let params = parse_body(headers, body)?;
    let grant_type = params.require("grant_type")?;
    let Some(grant) = GrantType::parse(grant_type) else {
        return Err(OAuthError::unsupported_grant_type(format!(
            "Unsupported grant type: {grant_type}"
        )));
    };
    let client = authenticate_client(state, headers, &params)?;
    grant_tokens(state, &client, grant, &params).await
}

/// Parses a form (or, as Auth0 accepts, JSON) body into parameters.
pub(crate) fn parse_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<FormParams, OAuthError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::invalid_request("The request body is too large")
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            OAuthError::invalid_request("The request body could not be read")
        }
    })?;
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-www-form-urlencoded" => FormParams::parse_urlencoded(&body),
        "application/json" => FormParams::from_json(&body),
        _ => Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        )),
    }
}
