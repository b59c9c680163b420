//! The token-exchange grant at `/oauth/token` (RFC 8693 §2), as Auth0's Custom Token
//! Exchange runs it: check the request and the client, pick the profile by
//! `subject_token_type`, run its Action, and issue an access token for the user the Action
//! set.
//!
//! Every rejection is logged with its reason (never a token) and answered in the Auth0 /
//! RFC 6749 §5.2 shape with a short description.

use http::StatusCode;
use serde_json::Value;

use super::action::{CustomTokenExchangeAction, Decision, Event, SecretToken, TenantView};
use super::first_party_on_behalf_of::{CLOCK_TOLERANCE_SECONDS, FirstPartyOnBehalfOf};
use super::request::ExchangeRequest;
use crate::grants::audience::resolve_audience;
use crate::grants::client_auth::AuthenticatedClient;
use crate::grants::issuance::{Issue, issue};
use crate::grants::response::TokenResponse;
use crate::grants::scope_policy::WithoutApiScopes;
use crate::jwt::{Expected, verify_tenant_token};
use crate::model::{ProfileAction, ProfileType, TokenExchangeProfile};
use crate::oauth::{ACCESS_TOKEN_TYPE, Actor, ErrorCode, FormParams, OAuthError, TokenType};
use crate::state::AppState;

/// Runs one Custom Token Exchange for an authenticated client.
pub(crate) fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let client_id = client.client.client_id.as_str();
    let conflict = state.tenant().settings.audience_resource_conflict;
    let request = ExchangeRequest::parse(params, conflict).inspect_err(|error| {
        tracing::info!(client_id, %error, "token exchange rejected: bad request");
    })?;
    let rejected = |reason: &str, error: OAuthError| {
        tracing::info!(
            client_id,
            subject_token_type = request.subject_token_type,
            reason,
            error = %error,
            "token exchange rejected"
        );
        error
    };

    // The platform's checks, before any Action runs.
    let custom_authentication = ProfileType::CustomAuthentication.as_str();
    let allowed = client.client.is_first_party
        && client.client.token_exchange.as_ref().is_some_and(|te| {
            te.allow_any_profile_of_type
                .iter()
                .any(|t| t == custom_authentication)
        });
    if !allowed {
        return Err(rejected(
            "client not enabled for custom token exchange",
            OAuthError::unauthorized_client(
                "The client is not authorized to use Custom Token Exchange",
            ),
        ));
    }
    let tenant_snapshot = state.tenant();
    let Some(profile) = find_profile(
        &tenant_snapshot.token_exchange_profiles,
        request.subject_token_type,
    ) else {
        return Err(rejected(
            "no profile for subject_token_type",
            OAuthError::invalid_request("Invalid subject_token_type"),
        ));
    };
    let api = resolve_audience(&tenant_snapshot, request.audience)
        .map_err(|error| rejected("unknown audience", error))?;
    let keys = state.tokens.keys();
    let tenant = TenantView {
        issuer: state.issuer(),
        keys: &**keys,
        now: state.now(),
    };
    let actor_sub = match &request.actor {
        Some((token, token_type)) => Some(
            verify_actor(token, token_type, &tenant)
                .map_err(|(reason, error)| rejected(reason, error))?,
        ),
        None => None,
    };

    // The Action decides who the token is for.
    let request_body: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| *name != "client_secret")
        .collect();
    let event = Event {
        client_id,
        client_name: &client.client.name,
        resource_server: api.map(|api| api.identifier.as_str()),
        requested_scopes: &request.scopes,
        subject_token: &request.subject_token,
        subject_token_type: request.subject_token_type,
        actor_token: request.actor.as_ref().map(|(token, _)| token),
        actor_token_type: request.actor.as_ref().map(|(_, token_type)| *token_type),
        organization: request.organization,
        request_body: &request_body,
    };
    let user_id = decided_user(action_for(profile).execute(&event, &tenant))
        .map_err(|(reason, error)| rejected(reason, error))?;
    let Some(user) = tenant_snapshot.user_by_id(&user_id) else {
        tracing::info!(
            client_id,
            user_id,
            "token exchange rejected: the action set an unknown user"
        );
        return Err(OAuthError::invalid_request("User does not exist"));
    };
    if user.blocked {
        tracing::info!(
            client_id,
            user_id,
            "token exchange rejected: the user is blocked"
        );
        return Err(OAuthError::invalid_request("User is blocked"));
    }

    let mut issuance = Issue::to_user(&client.client, user, api, &request.scopes, state.now());
    // Scopes are decoupled from the subject token: only what was asked for.
    issuance.without_api_scopes = WithoutApiScopes::Nothing;
    issuance.actor = actor_sub.as_deref().map(Actor::new);
    issuance.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    let response = issue(state, &tenant_snapshot, issuance)?;
    tracing::debug!(
        client_id,
        profile = profile.id,
        user_id,
        audience = api.map(|api| api.identifier.as_str()),
        scope = response.scope.as_deref(),
        actor = actor_sub.as_deref(),
        "token exchange succeeded"
    );
    Ok(response)
}

/// The user an Action's decision sets, or the error the client gets (with a reason for the
/// log). Auth0 does not document the status of a deny: 400 fits every client error, and
/// `server_error` is a 500.
fn decided_user(decision: Decision) -> Result<String, (&'static str, OAuthError)> {
    match decision {
        Decision::SetUser(user_id) => Ok(user_id),
        Decision::Deny { code, reason } => {
            let status = if code.as_str() == ErrorCode::ServerError.as_str() {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            Err((
                "denied by the action",
                OAuthError::new(status, code, reason),
            ))
        }
        Decision::RejectInvalidSubjectToken(reason) => Err((
            "subject token rejected by the action",
            OAuthError::invalid_request(reason),
        )),
    }
}

/// The profile whose `subject_token_type` is exactly the requested one.
fn find_profile<'p>(
    profiles: &'p [TokenExchangeProfile],
    subject_token_type: &str,
) -> Option<&'p TokenExchangeProfile> {
    profiles
        .iter()
        .find(|profile| profile.subject_token_type == subject_token_type)
}

/// The Action a profile runs.
fn action_for(profile: &TokenExchangeProfile) -> impl CustomTokenExchangeAction + '_ {
    match &profile.action {
        ProfileAction::FirstPartyOnBehalfOf { secrets, .. } => FirstPartyOnBehalfOf::new(secrets),
    }
}

/// Verifies an actor token (a JWT of this tenant, any audience) and returns its `sub`.
fn verify_actor(
    token: &SecretToken,
    token_type: &str,
    tenant: &TenantView<'_>,
) -> Result<String, (&'static str, OAuthError)> {
    if TokenType::parse(token_type).is_none() {
        return Err((
            "unsupported actor_token_type",
            OAuthError::invalid_request("Unsupported actor_token_type"),
        ));
    }
    let expected = Expected {
        issuer: tenant.issuer,
        audience: None,
        now: tenant.now,
        // Auth0 documents no tolerance of its own for actor tokens: the template's.
        leeway: CLOCK_TOLERANCE_SECONDS,
    };
    let claims = verify_tenant_token(token.expose(), tenant.keys, &expected).map_err(|error| {
        tracing::info!(reason = error.reason(), "actor token rejected");
        (
            "invalid actor token",
            OAuthError::invalid_request("Invalid actor_token"),
        )
    })?;
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_owned()),
        _ => Err((
            "actor token without sub",
            OAuthError::invalid_request("Invalid actor_token"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(decision: Decision) -> (u16, String, String) {
        let (_, error) = decided_user(decision).unwrap_err();
        (
            error.status.as_u16(),
            error.code.as_str().to_owned(),
            error.description,
        )
    }

    #[test]
    fn decisions_map_to_auth0_error_responses() {
        let expected = |status: u16, code: &str, description: &str| {
            (status, code.to_owned(), description.to_owned())
        };
        assert_eq!(
            wire(Decision::deny(
                ErrorCode::InvalidScope,
                "Unauthorized scopes requested: x"
            )),
            expected(400, "invalid_scope", "Unauthorized scopes requested: x")
        );
        assert_eq!(
            wire(Decision::deny(
                ErrorCode::ServerError,
                "Token exchange failed"
            )),
            expected(500, "server_error", "Token exchange failed")
        );
        assert_eq!(
            wire(Decision::deny(
                ErrorCode::Custom("server_error".to_owned()),
                "Token exchange failed"
            )),
            expected(500, "server_error", "Token exchange failed")
        );
        assert_eq!(
            wire(Decision::deny(
                ErrorCode::Custom("too_risky".to_owned()),
                "Try later"
            )),
            expected(400, "too_risky", "Try later")
        );
        assert_eq!(
            wire(Decision::reject_invalid_subject_token(
                "The subject token has expired"
            )),
            expected(400, "invalid_request", "The subject token has expired")
        );
        assert_eq!(
            decided_user(Decision::SetUser("auth0|admin".to_owned())).unwrap(),
            "auth0|admin"
        );
    }
}
