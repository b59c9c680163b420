//! The OAuth error wire format: every rejection of the OAuth JSON surface answers with the
//! RFC 6749 §5.2 shape `{"error", "error_description"}`, which is also what Auth0 sends,
//! with `Cache-Control: no-store` and, where the error carries one, a `WWW-Authenticate`
//! challenge (RFC 6749 §5.2 after HTTP Basic, RFC 6750 §3 at `/userinfo`).

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::oauth::OAuthError;

#[derive(Serialize)]
struct WireError<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = WireError {
            error: self.code.as_str(),
            error_description: &self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(challenge) = self.www_authenticate
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
