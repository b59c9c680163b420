//! Reading a Management API request: the body (within the size limit, refused in Auth0's
//! error shape), a JSON body against the route's schema (unknown fields refused, with the
//! path of the mistake), and the query string.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ManagementError;
use crate::http::body::MAX_BODY_BYTES;

/// A Management API request body. Unlike `Bytes` alone, a body over the size limit (or one
/// that cannot be read, e.g. not complete within the body read timeout) is refused in the
/// Management API's own error shape, not as axum's plain text.
pub(super) struct ManagementBody(pub(super) Bytes);

impl<S: Send + Sync> FromRequest<S> for ManagementBody {
    type Rejection = ManagementError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(ManagementBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ManagementError::payload_too_large(MAX_BODY_BYTES)
                } else {
                    ManagementError::invalid_body("The request body could not be read")
                }
            })
    }
}

/// Parses a JSON request body against a route's schema; unknown fields are refused, as
/// Auth0's schemas refuse additional properties.
pub(super) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ManagementError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        if path == "." {
            ManagementError::invalid_body(format!("Payload validation error: {message}"))
        } else {
            ManagementError::invalid_body(format!(
                "Payload validation error: at `{path}`: {message}"
            ))
        }
    })
}

/// The query string as name/value pairs.
pub(super) fn parse_query(query: Option<&str>) -> Result<Vec<(String, String)>, ManagementError> {
    serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|_| ManagementError::invalid_query("The query string is not valid"))
}

/// The value of one query parameter.
pub(super) fn query_param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
