//! The resource owner password credentials grant (RFC 6749 §4.3): a user's email and
//! password, for clients that allow it. Auth0 answers a wrong password with 403.

use http::StatusCode;

use super::audience::resolve_api;
use super::client_auth::AuthenticatedClient;
use super::issuance::{Issue, issue};
use super::response::TokenResponse;
use crate::jwt::Gty;
use crate::oauth::{FormParams, OAuthError};
use crate::state::AppState;

/// Checks the user's password and issues their tokens.
pub(crate) fn password(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let username = params.require("username")?;
    let password = params.require("password")?;
    let tenant = state.tenant();
    let api = resolve_api(&tenant, params)?;
    let user = tenant
        .user_by_email(username)
        .filter(|user| user.password.matches(password));
    let Some(user) = user else {
        tracing::info!(client_id = %client.client.client_id, "password grant: wrong email or password");
        return Err(OAuthError::invalid_grant("Wrong email or password.")
            .with_status(StatusCode::FORBIDDEN));
    };
    if user.blocked {
        return Err(OAuthError::invalid_grant("user is blocked").with_status(StatusCode::FORBIDDEN));
    }
    let requested = params.scopes();
    let mut request = Issue::to_user(&client.client, user, api, &requested, state.now());
    request.gty = Some(Gty::Password);
    issue(state, &tenant, request)
}
