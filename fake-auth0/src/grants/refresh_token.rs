//! The refresh token grant (RFC 6749 §6) with rotation: each refresh token is single use,
//! the response carries the next token of the same family, and presenting a spent token
//! again revokes the whole family (RFC 9700 §4.14.2).

use super::audience::{AudienceConflict, requested_audience};
use super::client_auth::AuthenticatedClient;
use super::issuance::{Issue, Rotation, granted_to, issue};
use super::response::TokenResponse;
use super::scope_policy::OFFLINE_ACCESS;
use crate::oauth::{FormParams, OAuthError, split_scope};
use crate::state::{AppState, RefreshUse};

/// Spends a refresh token and issues the user's tokens again.
pub(crate) async fn refresh_token(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
    // The family stays bound to the API it was granted for (RFC 8707 §2.2): naming another
    // one is refused rather than ignored, and the token stays unspent.
    let conflict = state.tenant().settings.audience_resource_conflict;
    let named = requested_audience(params, conflict).map_err(|AudienceConflict| {
        OAuthError::invalid_target("audience and resource name different APIs")
    })?;
    if let Some(named) = named
        && let Some(bound) =
            state
                .stores
                .refresh_tokens
                .peek(token, &client.client.client_id, state.now())
        && bound.api.as_deref() != Some(named)
    {
        tracing::info!(
            client_id = %client.client.client_id,
            "refresh refused: another audience than the family's"
        );
        return Err(OAuthError::invalid_target(
            "The refresh token was granted for another audience",
        ));
    }
    let grant =
        match state
            .stores
            .refresh_tokens
            .spend(token, &client.client.client_id, state.now())
        {
            RefreshUse::Fresh(grant) => grant,
            RefreshUse::Reused { family } => {
                tracing::warn!(
                    client_id = %client.client.client_id,
                    "a spent refresh token was presented again; its family is revoked"
                );
                state.persist_revocation(family).await?;
                return Err(OAuthError::invalid_grant(
                    "Unknown or invalid refresh token.",
                ));
            }
            RefreshUse::Invalid => {
                return Err(OAuthError::invalid_grant(
                    "Unknown or invalid refresh token.",
                ));
            }
        };
    // A narrower scope may be asked for (RFC 6749 §6), never a wider one.
    let mut requested = match params.get("scope") {
        Some(scope) => {
            let narrowed = split_scope(scope);
            if let Some(extra) = narrowed.iter().find(|s| !grant.scopes.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "Scope {extra} was not granted originally"
                )));
            }
            narrowed
        }
        None => grant.scopes.clone(),
    };
    if !requested.iter().any(|s| s == OFFLINE_ACCESS) {
        // The family continues with the original grant's offline access.
        requested.push(OFFLINE_ACCESS.to_owned());
    }
    let tenant = state.tenant();
    let (user, api) = granted_to(&tenant, &grant.user_id, grant.api.as_deref())?;
    let mut request = Issue::to_user(&client.client, user, api, &requested, grant.auth_time);
    request.rotation = Some(Rotation {
        family: grant.family,
        replaces: token,
    });
    issue(state, &tenant, request)
}
