//! The Management API's error type: Auth0's wire format
//! `{"statusCode", "error", "message", "errorCode"}`, distinct from the OAuth errors of the
//! protocol endpoints (`{"error", "error_description"}`).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;

/// Auth0's `errorCode` values that fake-auth0 answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// No bearer token, or one that does not verify.
    InvalidToken,
    /// The token lacks the scope the route requires.
    InsufficientScope,
    /// The request body is not what the route accepts.
    InvalidBody,
    /// A query parameter is not what the route accepts.
    InvalidQueryString,
    /// An object with the same unique key exists already.
    Conflict,
    /// The object named in the path does not exist; Auth0 names its kind
    /// (`inexistent_client`, `inexistent_role`, …).
    NotFound(&'static str),
    /// fake-auth0 does not implement this route or this use of it.
    NotImplemented,
    /// Something failed inside fake-auth0 (logged, not sent).
    Internal,
}

impl ErrorCode {
    fn as_str(self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidBody => "invalid_body",
            Self::InvalidQueryString => "invalid_query_string",
            Self::Conflict => "conflict",
            Self::NotFound(object) => {
                return std::borrow::Cow::Owned(format!("inexistent_{object}"));
            }
            Self::NotImplemented => "not_implemented",
            Self::Internal => "internal_error",
        })
    }
}

/// An error of the Management API (`/api/v2/…`).
#[derive(Debug, Clone)]
pub(crate) struct ManagementError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ManagementError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401: no token or one that does not verify (Auth0: "Missing authentication",
    /// "Invalid token", "Bad audience: …").
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, message)
    }

    /// 403: the token lacks the route's scope, named as Auth0 names it.
    pub(crate) fn insufficient_scope(required_scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            format!("Insufficient scope, expected any of: {required_scope}"),
        )
    }

    /// 400: the body does not match the route's schema.
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidBody, message)
    }

    /// 413: the body is over the size limit (Auth0's API gateway words it so).
    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidBody,
            format!("Payload content length greater than maximum allowed: {limit}"),
        )
    }

    /// 400: a query parameter does not match what the route accepts.
    pub(crate) fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQueryString,
            message,
        )
    }

    /// 409: an object with the same unique key exists.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 404: the object in the path does not exist (`errorCode` `inexistent_object`).
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::not_found_of("object", message)
    }

    /// 404 with Auth0's `inexistent_<object>` code, e.g. `not_found_of("client", …)`.
    pub(crate) fn not_found_of(object: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound(object), message)
    }

    /// 501: a route or a use of it that fake-auth0 does not implement; the message names it
    /// so that nobody mistakes the gap for success.
    pub(crate) fn not_implemented(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            ErrorCode::NotImplemented,
            format!("{what} is not implemented by fake-auth0"),
        )
    }

    /// 500: the cause is logged by the caller, never sent.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Internal error",
        )
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }
}

impl std::fmt::Display for ManagementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code.as_str(),
            self.message
        )
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    status_code: u16,
    error: &'a str,
    message: &'a str,
    error_code: &'a str,
}

impl IntoResponse for ManagementError {
    fn into_response(self) -> Response {
        let body = Body {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
            error_code: &self.code.as_str(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"fake-auth0 Management API\""),
            );
        }
        response
    }
}
