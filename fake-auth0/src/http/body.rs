//! Request bodies: the size limit of every route, and the OAuth body of `/oauth/token` and
//! `/oauth/revoke`, a form or (as Auth0 accepts) JSON, parsed into [`FormParams`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use http::{HeaderMap, StatusCode};

use crate::oauth::{FormParams, OAuthError};

/// The largest request body accepted; OAuth requests are small.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

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
