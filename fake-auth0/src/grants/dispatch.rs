//! What the token endpoint does once the request is parsed and the client authenticated:
//! check that the client may use the grant, run it, and commit the refresh token it
//! minted (to the data dir, when there is one) before anything is answered, so an
//! acknowledged refresh token survives a crash.

use super::authorization_code::authorization_code;
use super::client_auth::AuthenticatedClient;
use super::client_credentials::client_credentials;
use super::custom_token_exchange;
use super::on_behalf_of;
use super::password::password;
use super::refresh_token::refresh_token;
use super::response::TokenResponse;
use crate::model::GrantType;
use crate::oauth::{FormParams, OAuthError};
use crate::state::AppState;

/// Runs `grant` for an authenticated client.
pub(crate) async fn grant_tokens(
    state: &AppState,
    client: &AuthenticatedClient,
    grant: GrantType,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    // Token exchange (Custom Token Exchange and On-Behalf-Of) checks its own client
    // permissions (the client's `token_exchange` settings), as Auth0 does.
    if grant != GrantType::TokenExchange && !client.client.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "Grant type '{}' not allowed for the client.",
            grant.as_str()
        )));
    }
    let mut response = match grant {
        GrantType::AuthorizationCode => authorization_code(state, client, params),
        GrantType::RefreshToken => refresh_token(state, client, params).await,
        GrantType::ClientCredentials => client_credentials(state, client, params),
        GrantType::Password => password(state, client, params),
        // Verifying and signing take a few hundred microseconds of CPU, fine inline.
        GrantType::TokenExchange if on_behalf_of::is_on_behalf_of(params) => {
            on_behalf_of::exchange(state, client, params)
        }
        GrantType::TokenExchange => custom_token_exchange::exchange(state, client, params),
    }?;
    if grant == GrantType::TokenExchange {
        state.count_token_exchange();
    }
    // Grants without a refresh token (client_credentials, most exchanges) write nothing.
    if let Some(pending) = response.pending_refresh.take() {
        state.save_refresh_token(pending).await?;
    }
    tracing::debug!(
        grant = grant.as_str(),
        client_id = %client.client.client_id,
        scope = response.scope.as_deref().unwrap_or_default(),
        "token issued"
    );
    Ok(response)
}
