//! `/oauth/token`: parses the request once, authenticates the client, and dispatches on
//! the grant type (RFC 6749 §4, RFC 8693).
//!
//! The grants themselves live in `grants`, free of HTTP; this is the adapter.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::body::parse_body;
use crate::grants::{TokenResponse, authenticate_client, grant_tokens};
use crate::model::GrantType;
use crate::oauth::OAuthError;
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
    // A metadata-document client whose cache entry expired since `/authorize` is fetched
    // again; if that fails, authentication below finds no client.
    if let Some(client_id) = params.get("client_id") {
        let _ = state.resolve_client(client_id).await;
    }
    let client = authenticate_client(state, headers, &params)?;
    grant_tokens(state, &client, grant, &params).await
}

/// The success response, never cached (RFC 6749 §5.1).
impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self).into_response();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        headers.insert(
            http::header::PRAGMA,
            http::HeaderValue::from_static("no-cache"),
        );
        response
    }
}
