//! `/userinfo` (OpenID Connect Core §5.3): the profile of the user an access token was
//! issued to. The token must carry `<issuer>userinfo` in `aud`, as Auth0's do when
//! `openid` was granted.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Serialize;

use crate::jwt::VerifyError;
use crate::model::ProfileClaims;
use crate::oauth::OAuthError;
use crate::state::AppState;

/// The userinfo response (OIDC Core §5.3.2).
#[derive(Debug, Serialize)]
struct UserInfo<'a> {
    sub: &'a str,
    #[serde(flatten)]
    profile: ProfileClaims<'a>,
}

/// `GET|POST /userinfo` with `Authorization: Bearer`.
pub(crate) async fn userinfo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(token) = crate::http::bearer::bearer_token(&headers) else {
        return OAuthError::invalid_token("Missing bearer token")
            .with_www_authenticate("Bearer realm=\"fake-auth0\"")
            .into_response();
    };
    let claims = match state
        .tokens
        .verify(token, &state.tokens.userinfo_audience())
    {
        Ok(claims) => claims,
        Err(error) => {
            tracing::info!(reason = error.reason(), "userinfo rejected a token");
            return OAuthError::invalid_token(description(&error)).into_response();
        }
    };
    let sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let tenant = state.tenant();
    let Some(user) = tenant.user_by_id(sub) else {
        return OAuthError::invalid_token("The token's user does not exist").into_response();
    };
    let scopes: Vec<&str> = claims
        .get("scope")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .collect();
    Json(UserInfo {
        sub: &user.user_id,
        profile: user.profile_claims(&scopes),
    })
    .into_response()
}

/// The `error_description` (and RFC 6750 challenge) for a token that did not verify.
fn description(error: &VerifyError) -> String {
    match error {
        VerifyError::Malformed => "The token is not a JWT".to_owned(),
        VerifyError::NoMatchingKey => "The token was not signed by this tenant".to_owned(),
        VerifyError::Expired => "The token has expired".to_owned(),
        VerifyError::BadSignature | VerifyError::Claim(_) => {
            format!("The token is invalid: {error}")
        }
    }
}
