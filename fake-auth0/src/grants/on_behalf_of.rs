//! Auth0's On-Behalf-Of token exchange (RFC 8693 with both token types
//! `urn:ietf:params:oauth:token-type:access_token`): a Custom API client (an API's own
//! client, `app_type: resource_server`) trades a user's access token *for its API* for an
//! access token for another API, for the same user. No Action runs.
//!
//! The checks, in order, each with the status Auth0 documents (400 bad request, 401 bad
//! credentials or subject token, 403 not allowed):
//! 1. the request: `subject_token`, `requested_token_type` (the access-token type) and
//!    `audience` are required (400 `invalid_request`);
//! 2. the client: a confidential Custom API client whose `token_exchange` allows
//!    `on_behalf_of_token_exchange` (403 `unauthorized_client`);
//! 3. the subject token: this tenant's, unexpired, for the client's
//!    `resource_server_identifier`, naming an existing user (401 `invalid_grant`); its
//!    `act` chain at most [`MAX_ACT_DEPTH`] deep (400 `invalid_request`);
//! 4. the downstream API: known, and its `subject_type_authorization.user` policy met,
//!    by default a user-delegated client grant (403 `access_denied`);
//! 5. the scopes: each requested API scope held by the user *and* in the grant (403
//!    `access_denied`); none requested means all of those.
//!
//! The token is issued through the one issuance path for the user, to the calling client
//! (`azp`/`client_id`), with `act` naming the calling client and, nested, the subject
//! token's chain or its client. Never a refresh token or an ID token.

use http::StatusCode;
use serde_json::Value;

use super::audience::{AudienceConflict, requested_audience, resolve_audience};
use super::client_auth::AuthenticatedClient;
use super::issuance::{Issue, granted_scopes, issue};
use super::response::TokenResponse;
use crate::jwt::{Expected, VerifyError, verify_tenant_token};
use crate::model::{
    ClientGrant, ON_BEHALF_OF_TOKEN_EXCHANGE, ResourceServer, Tenant, TokenEndpointAuthMethod,
    User, UserPolicy,
};
use crate::oauth::{ACCESS_TOKEN_TYPE, Actor, ErrorCode, FormParams, OAuthError};
use crate::state::AppState;

/// The deepest `act` chain a subject token may carry (Auth0: "the maximum allowed limit of
/// 4"); the issued token then has one level more.
pub(crate) const MAX_ACT_DEPTH: usize = 4;

/// Whether a token-exchange request asks for On-Behalf-Of rather than Custom Token
/// Exchange: its `subject_token_type` is the access-token type, which no Custom Token
/// Exchange profile may use (a reserved namespace).
pub(crate) fn is_on_behalf_of(params: &FormParams) -> bool {
    params.get("subject_token_type") == Some(ACCESS_TOKEN_TYPE)
}

/// Runs one On-Behalf-Of exchange for an authenticated client.
pub(crate) fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let client_id = client.client.client_id.as_str();
    let rejected = |reason: &str, error: OAuthError| {
        tracing::info!(client_id, reason, error = %error, "on-behalf-of exchange rejected");
        error
    };
    let tenant = state.tenant();

    // 1. The request.
    let subject_token = params
        .require("subject_token")
        .map_err(|e| rejected("no subject_token", e))?;
    let requested_token_type = params
        .require("requested_token_type")
        .map_err(|e| rejected("no requested_token_type", e))?;
    if requested_token_type != ACCESS_TOKEN_TYPE {
        return Err(rejected(
            "unsupported requested_token_type",
            OAuthError::invalid_request(
                "Invalid subject_token_type and requested_token_type combination.",
            ),
        ));
    }
    let audience = requested_audience(params, tenant.settings.audience_resource_conflict)
        .map_err(|AudienceConflict| {
            rejected(
                "audience and resource differ",
                OAuthError::invalid_request("audience and resource must not differ"),
            )
        })?
        .ok_or_else(|| {
            rejected(
                "no audience",
                OAuthError::invalid_request("Missing required parameter: audience"),
            )
        })?;

    // 2. The client.
    let own_api = check_client(client).map_err(|(reason, e)| rejected(reason, e))?;

    // 3. The subject token.
    let keys = state.tokens.keys();
    let expected = Expected {
        issuer: state.issuer(),
        audience: Some(own_api),
        now: state.now(),
        leeway: 0,
    };
    let claims = verify_tenant_token(subject_token, &**keys, &expected).map_err(|error| {
        rejected(
            error.reason(),
            bad_subject_token(subject_token_message(&error)),
        )
    })?;
    let user = subject_user(&tenant, &claims).map_err(|(reason, e)| rejected(reason, e))?;
    let actor = delegation_chain(client_id, &claims).map_err(|(reason, e)| rejected(reason, e))?;

    // 4. The downstream API and the user-delegated grant.
    let api = resolve_audience(&tenant, Some(audience))
        .map_err(|e| rejected("unknown audience", e))?
        .expect("an identifier was given");
    let grant =
        delegated_grant(&tenant, client_id, api).map_err(|(reason, e)| rejected(reason, e))?;

    // 5. The scopes: only the API's own (OpenID scopes and offline_access bring nothing
    //    here: no ID token, no refresh token).
    let requested: Vec<String> = params
        .scopes()
        .into_iter()
        .filter(|scope| api.scopes.iter().any(|s| &s.value == scope))
        .collect();
    let mut issuance = Issue::to_user(&client.client, user, Some(api), &requested, state.now());
    issuance.delegated_grant = grant;
    issuance.actor = Some(actor);
    issuance.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    let granted = granted_scopes(&tenant, &issuance);
    let missing: Vec<&str> = requested
        .iter()
        .filter(|scope| !granted.contains(scope))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let lacking =
            if grant.is_some_and(|g| missing.iter().any(|m| !g.scope.iter().any(|s| s == m))) {
                "The client's user-delegated grant for this API does not include"
            } else {
                "The user does not hold"
            };
        return Err(rejected(
            "scope not granted",
            OAuthError::access_denied(format!("{lacking}: {}", missing.join(" "))),
        ));
    }
    let mut response = issue(state, &tenant, issuance)?;
    // Auth0 writes `scope` only when it differs from the request.
    if params
        .get("scope")
        .is_some_and(|s| crate::oauth::split_scope(s) == granted)
    {
        response.scope = None;
    }
    tracing::debug!(
        client_id,
        user_id = user.user_id,
        audience = api.identifier,
        scope = granted.join(" "),
        "on-behalf-of exchange succeeded"
    );
    Ok(response)
}

/// The client's own API when it may use On-Behalf-Of.
fn check_client(client: &AuthenticatedClient) -> Result<&str, (&'static str, OAuthError)> {
    if client.method == TokenEndpointAuthMethod::None {
        return Err((
            "public client",
            OAuthError::invalid_client(
                "On-Behalf-Of token exchange requires client authentication",
            ),
        ));
    }
    let Some(own_api) = client.client.custom_api_identifier() else {
        return Err((
            "not a Custom API client",
            OAuthError::unauthorized_client(
                "On-Behalf-Of token exchange requires a Custom API client (app_type \
                 resource_server with a resource_server_identifier)",
            ),
        ));
    };
    if !client
        .client
        .allows_exchange_of_type(ON_BEHALF_OF_TOKEN_EXCHANGE)
    {
        return Err((
            "on_behalf_of_token_exchange not allowed",
            OAuthError::unauthorized_client(
                "The client is not allowed to use On-Behalf-Of token exchange \
                 (token_exchange.allow_any_profile_of_type)",
            ),
        ));
    }
    Ok(own_api)
}

/// A refused subject token: 401 `invalid_grant` (Auth0 documents the 401; the code is ours).
fn bad_subject_token(description: &str) -> OAuthError {
    OAuthError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidGrant,
        description,
    )
}

/// What the client reads when the subject token is refused.
fn subject_token_message(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::Expired => "The subject token has expired",
        VerifyError::Claim(claim) if *claim == "aud" => {
            "The subject token's audience is not the client's API (resource_server_identifier)"
        }
        _ => "Invalid subject token",
    }
}

/// The user the subject token is for: it must name one that exists and is not blocked.
fn subject_user<'t>(
    tenant: &'t Tenant,
    claims: &serde_json::Map<String, Value>,
) -> Result<&'t User, (&'static str, OAuthError)> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match tenant.user_by_id(sub) {
        Some(user) if !user.blocked => Ok(user),
        Some(_) => Err((
            "blocked user",
            OAuthError::access_denied("The user is blocked"),
        )),
        None => Err((
            "subject is not a user",
            bad_subject_token("The subject token is not a user's token"),
        )),
    }
}

/// The issued token's `act`: the calling client after the subject token's chain, or after
/// the subject token's own client when it has no chain.
fn delegation_chain(
    client_id: &str,
    claims: &serde_json::Map<String, Value>,
) -> Result<Actor, (&'static str, OAuthError)> {
    let prior = match Actor::from_claims(claims) {
        Some(chain) => chain,
        None => {
            let original = ["azp", "client_id"]
                .into_iter()
                .find_map(|name| claims.get(name).and_then(Value::as_str))
                .ok_or((
                    "subject token names no client",
                    bad_subject_token("Invalid subject token"),
                ))?;
            Actor::new(original)
        }
    };
    if claims.contains_key("act") && prior.depth() >= MAX_ACT_DEPTH {
        return Err((
            "act chain too deep",
            OAuthError::invalid_request(format!(
                "Delegation chain (`act` claim) depth exceeds the maximum allowed limit of \
                 {MAX_ACT_DEPTH}"
            )),
        ));
    }
    Ok(Actor::after(client_id, prior))
}

/// The user-delegated grant the API's user policy asks for (`None` under `allow_all`).
fn delegated_grant<'t>(
    tenant: &'t Tenant,
    client_id: &str,
    api: &ResourceServer,
) -> Result<Option<&'t ClientGrant>, (&'static str, OAuthError)> {
    match api.user_policy() {
        UserPolicy::AllowAll => Ok(None),
        UserPolicy::DenyAll => Err((
            "user policy deny_all",
            OAuthError::access_denied(
                "The API does not allow access on users' behalf (subject_type_authorization)",
            ),
        )),
        UserPolicy::RequireClientGrant => tenant
            .user_delegated_grant(client_id, &api.identifier)
            .map(Some)
            .ok_or((
                "no user-delegated client grant",
                OAuthError::access_denied(
                    "The client has no user-delegated client grant (subject_type user) for \
                     this API",
                ),
            )),
    }
}
