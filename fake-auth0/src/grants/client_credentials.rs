//! The client credentials grant (RFC 6749 §4.4): a machine token for an API the client
//! has a client grant for, with the scopes of that grant (narrowed to the requested ones).

use super::audience::resolve_api;
use super::client_auth::AuthenticatedClient;
use super::issuance::{Issue, Subject, issue};
use super::response::TokenResponse;
use super::scope_policy::WithoutApiScopes;
use crate::jwt::Gty;
use crate::model::TokenEndpointAuthMethod;
use crate::oauth::{FormParams, OAuthError};
use crate::state::AppState;

/// Issues a machine token to a confidential client.
pub(crate) fn client_credentials(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    if client.method == TokenEndpointAuthMethod::None {
        return Err(OAuthError::unauthorized_client(
            "Public clients cannot use client_credentials",
        ));
    }
    let client_id = client.client.client_id.as_str();
    let tenant = state.tenant();
    let Some(api) = resolve_api(&tenant, params)? else {
        return Err(OAuthError::access_denied(
            "No audience parameter was provided, and no default audience has been configured",
        ));
    };
    let Some(client_grant) = tenant.client_grant(client_id, &api.identifier) else {
        return Err(OAuthError::access_denied(format!(
            "Client is not authorized to access \"{}\". You need to create a \"client-grant\" associated to this API.",
            api.identifier
        )));
    };
    let requested = params.scopes();
    issue(
        state,
        &tenant,
        Issue {
            client: &client.client,
            subject: Subject::Machine(client_grant),
            api: Some(api),
            requested: &requested,
            without_api_scopes: WithoutApiScopes::AllPermissions,
            gty: Some(Gty::ClientCredentials),
            actor: None,
            delegated_grant: None,
            nonce: None,
            auth_time: state.now(),
            issued_token_type: None,
            rotation: None,
        },
    )
}
