//! `/oauth/revoke` (RFC 7009): revokes a refresh token and its whole rotation family.
//!
//! Access tokens are self-contained JWTs and cannot be revoked; like Auth0, the endpoint
//! answers 200 for them and for unknown tokens (RFC 7009 §2.2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::body::parse_body;
use crate::grants::authenticate_client;
use crate::oauth::OAuthError;
use crate::state::AppState;

/// `POST /oauth/revoke`.
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let params = parse_body(&headers, body)?;
        let client = authenticate_client(&state, &headers, &params)?;
        let token = params.require("token")?;
        if let Some(hint) = params.get("token_type_hint")
            && !matches!(hint, "refresh_token" | "access_token")
        {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                crate::oauth::ErrorCode::UnsupportedTokenType,
                format!("Unsupported token_type_hint: {hint}"),
            ));
        }
        let revoked = state
            .stores
            .refresh_tokens
            .revoke(token, &client.client.client_id);
        tracing::info!(client_id = %client.client.client_id, revoked = revoked.is_some(), "revocation request");
        // The revocation is committed (with a data dir) before it is acknowledged.
        if let Some(family) = revoked {
            state.persist_revocation(family).await?;
        }
        Ok::<(), OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => {
            tracing::info!(error = %error.code, description = %error.description, "revocation rejected");
            error.into_response()
        }
    }
}
