//! Reading a Management API request: a JSON body against the route's schema (unknown
//! fields refused, with the path of the mistake), and the query string.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::error::ManagementError;

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
