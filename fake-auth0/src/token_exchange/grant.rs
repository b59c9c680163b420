//! The token-exchange grant at `/oauth/token` (RFC 8693 §2), as Auth0's Custom Token
//! Exchange runs it: check the request and the client, pick the profile by
//! `subject_token_type`, run its Action, and issue an access token for the user the Action
//! set.
//!
//! Every rejection is logged with its reason (never a token) and answered in the Auth0 /
//! RFC 6749 §5.2 shape with a short description.

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::client_auth::AuthenticatedClient;
use crate::jwt::AccessTokenSpec;
use crate::model::{Client, GrantType, ResourceServer, User};
use crate::oauth::FormParams;
use crate::oauth::random_token;
use crate::oauth::{ErrorCode, OAuthError};
use crate::state::{AppState, REFRESH_TOKEN_LIFETIME};
use crate::state::{PendingRefresh, RefreshGrant};
use crate::tokens::TokenResponse;

use super::action::{Action, Decision, Event, SecretToken, TenantView};
use super::on_behalf_of::{CLOCK_TOLERANCE_SECONDS, OnBehalfOf};
use crate::jwt::{Expected, verify_tenant_token};
use crate::model::{ProfileAction, ProfileType, TokenExchangeProfile};
use crate::oauth::{ACCESS_TOKEN_TYPE, TokenType};

/// The OpenID Connect scopes granted besides the API's own scopes.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// The scope that asks for a refresh token (OIDC Core §11).
const OFFLINE_ACCESS: &str = "offline_access";

/// The parameters of one exchange, checked for presence and consistency.
struct ExchangeRequest<'a> {
    subject_token: SecretToken,
    subject_token_type: &'a str,
    audience: Option<&'a str>,
    scopes: Vec<String>,
    organization: Option<&'a str>,
    actor: Option<(SecretToken, &'a str)>,
}

impl<'a> ExchangeRequest<'a> {
    fn parse(params: &'a FormParams) -> Result<Self, OAuthError> {
        let subject_token = params.require("subject_token")?;
        let subject_token_type = params.require("subject_token_type")?;
        // Auth0 treats `resource` as `audience` (Resource Parameter Compatibility Profile).
        let audience = match (params.get("audience"), params.get("resource")) {
            (Some(audience), Some(resource)) if audience != resource => {
                return Err(OAuthError::invalid_request(
                    "audience and resource must not differ",
                ));
            }
            (audience, resource) => audience.or(resource),
        };
        let actor = match (params.get("actor_token"), params.get("actor_token_type")) {
            (Some(token), Some(token_type)) => {
                Some((SecretToken::new(token.to_owned()), token_type))
            }
            (None, None) => None,
            _ => {
                return Err(OAuthError::invalid_request(
                    "actor_token and actor_token_type must be sent together",
                ));
            }
        };
        if let Some(requested) = params.get("requested_token_type")
            && requested != ACCESS_TOKEN_TYPE
        {
            return Err(OAuthError::invalid_request(
                "Invalid subject_token_type and requested_token_type combination.",
            ));
        }
        Ok(Self {
            subject_token: SecretToken::new(subject_token.to_owned()),
            subject_token_type,
            audience,
            scopes: params.scopes(),
            organization: params.get("organization"),
            actor,
        })
    }
}

/// Runs one Custom Token Exchange for an authenticated client.
pub(crate) fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let client_id = client.client.client_id.as_str();
    let request = ExchangeRequest::parse(params).inspect_err(|error| {
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
    let api = match request.audience {
        Some(audience) => match tenant_snapshot.resource_server(audience) {
            Some(api) => Some(api),
            None => {
                return Err(rejected(
                    "unknown audience",
                    OAuthError::access_denied(format!("Service not found: {audience}")),
                ));
            }
        },
        None => match tenant_snapshot.settings.default_audience.as_deref() {
            Some(default) => tenant_snapshot.resource_server(default),
            None => None,
        },
    };
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

    let response = issue(
        state,
        &client.client,
        api,
        user,
        &request.scopes,
        actor_sub.as_deref(),
    )?;
    tracing::info!(
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
fn action_for(profile: &TokenExchangeProfile) -> impl Action + '_ {
    match &profile.action {
        ProfileAction::FirstPartyOnBehalfOf { secrets, .. } => OnBehalfOf::new(secrets),
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

/// Mints the access token for `user`, an ID token when `openid` is granted, and a refresh
/// token when `offline_access` is granted.
fn issue(
    state: &AppState,
    client: &Client,
    api: Option<&ResourceServer>,
    user: &User,
    requested: &[String],
    actor_sub: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let client_id = client.client_id.as_str();
    // Under RBAC the `_authz` dialects list the user's permissions on the API.
    let permissions = api
        .filter(|api| api.enforce_policies)
        .map(|api| state.tenant().user_permissions(user, api))
        .unwrap_or_default();
    // offline_access, as Auth0 grants it: never with an actor, only to clients allowed the
    // refresh_token grant, and only for APIs that allow offline access.
    let offline_allowed = actor_sub.is_none()
        && client.allows_grant(GrantType::RefreshToken)
        && api.is_none_or(|api| api.allow_offline_access);
    // Requested ∩ what the API defines (∩ the user's permissions under RBAC); OIDC scopes
    // pass, and offline_access when allowed.
    let granted: Vec<String> = requested
        .iter()
        .filter(|scope| {
            OIDC_SCOPES.contains(&scope.as_str())
                || (offline_allowed && *scope == OFFLINE_ACCESS)
                || api.is_some_and(|api| {
                    api.scopes.iter().any(|s| &s.value == *scope)
                        && (!api.enforce_policies || permissions.contains(scope))
                })
        })
        .cloned()
        .collect();
    let has = |scope: &str| granted.iter().any(|s| s == scope);
    let openid = has("openid");

    let mut extra_claims = Map::new();
    if let Some(actor) = actor_sub {
        // RFC 8693 §4.1: the acting party.
        extra_claims.insert("act".to_owned(), json!({ "sub": actor }));
    }
    let minted = state.tokens.access_token(&AccessTokenSpec {
        subject: &user.user_id,
        client_id,
        api,
        scopes: &granted,
        permissions: &permissions,
        gty: None,
        userinfo_audience: openid && api.is_some(),
        extra_claims,
    })?;
    let now = state.now();
    let mut response = TokenResponse::bearer(minted, &granted);
    response.issued_token_type = Some(ACCESS_TOKEN_TYPE.to_owned());
    if openid {
        response.id_token = Some(
            state
                .tokens
                .id_token(user, client_id, None, &granted, now)?,
        );
    }
    if has(OFFLINE_ACCESS) {
        // A plain refresh token of the tenant: refreshing it issues ordinary tokens for the
        // user, without running the Action again.
        // `/oauth/token` stores it (durably, with a data dir) before responding.
        let token = random_token(32);
        response.pending_refresh = Some(PendingRefresh {
            token: token.clone(),
            grant: RefreshGrant {
                family: random_token(16),
                client_id: client_id.to_owned(),
                user_id: user.user_id.clone(),
                api: api.map(|api| api.identifier.clone()),
                requested_scopes: granted.clone(),
                auth_time: now,
            },
            expires_at: now + REFRESH_TOKEN_LIFETIME,
            spent: None,
        });
        response.refresh_token = Some(token);
    }
    Ok(response)
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
