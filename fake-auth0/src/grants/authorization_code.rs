//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3 with RFC 7636
//! §4.5): the code, its client, its redirect URI and the PKCE verifier must all match.
//! The code is spent by the first attempt, whatever its outcome (single use, §4.1.2).

use super::client_auth::AuthenticatedClient;
use super::issuance::{Issue, granted_to, issue};
use super::response::TokenResponse;
use crate::oauth::{FormParams, OAuthError, pkce};
use crate::state::AppState;

/// Exchanges an authorization code for the user's tokens.
pub(crate) fn authorization_code(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.require("code_verifier")?;
    let Some(grant) = state.stores.codes.take(code, state.now()) else {
        return Err(OAuthError::invalid_grant(
            "Invalid authorization code (unknown, expired or already used)",
        ));
    };
    if grant.client_id != client.client.client_id {
        return Err(OAuthError::invalid_grant(
            "The authorization code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify_s256(verifier, &grant.code_challenge) {
        return Err(OAuthError::invalid_grant("Failed to verify code verifier"));
    }
    let tenant = state.tenant();
    let (user, api) = granted_to(&tenant, &grant.user_id, grant.api.as_deref())?;
    let mut request = Issue::to_user(
        &client.client,
        user,
        api,
        &grant.requested_scopes,
        grant.auth_time,
    );
    request.nonce = grant.nonce.as_deref();
    issue(state, &tenant, request)
}
