//! The one issuance path: every grant ends here with who the token is for, the API and
//! the requested scopes, and gets back the token response.
//!
//! In one place: the [`ScopePolicy`], the access token, an ID token when `openid` is
//! granted, and a refresh token when `offline_access` is granted (a new rotation family,
//! or the next token of the family a refresh continues). The refresh token is returned
//! pending: the token endpoint commits it (to the data dir, when there is one) before the
//! response is sent.

use serde_json::Map;

use super::response::TokenResponse;
use super::scope_policy::{OFFLINE_ACCESS, ScopePolicy, WithoutApiScopes};
use crate::jwt::{AccessTokenSpec, Gty};
use crate::model::{Client, ClientGrant, GrantType, ResourceServer, Tenant, User};
use crate::oauth::{Actor, OAuthError, random_token};
use crate::state::{AppState, PendingRefresh, REFRESH_TOKEN_LIFETIME, RefreshGrant};

/// Who a token is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// A user: `sub` is the `user_id`.
    User(&'a User),
    /// The client itself (client_credentials), with its client grant for the API: `sub` is
    /// `<client_id>@clients`.
    Machine(&'a ClientGrant),
}

/// A refresh-token family a refresh continues.
#[derive(Debug)]
pub(crate) struct Rotation<'a> {
    /// The family the new refresh token joins.
    pub family: String,
    /// The refresh token it replaces (already spent in memory; marked spent on disk in the
    /// same commit as the new one).
    pub replaces: &'a str,
}

/// What a grant asks to be issued.
#[derive(Debug)]
pub(crate) struct Issue<'a> {
    /// The client the tokens are issued to.
    pub client: &'a Client,
    pub subject: Subject<'a>,
    /// The API (audience); `None` gives an access token for `/userinfo` only.
    pub api: Option<&'a ResourceServer>,
    pub requested: &'a [String],
    /// What a user's request naming no API scope gets.
    pub without_api_scopes: WithoutApiScopes,
    /// `gty`, written by Auth0's own dialects.
    pub gty: Option<Gty>,
    /// RFC 8693 §4.1: the acting party (and its prior actors), written as `act`. A token
    /// with an actor never comes with a refresh token, as with Auth0.
    pub actor: Option<Actor>,
    /// The user-delegated client grant a token on a user's behalf is issued within
    /// (Auth0's On-Behalf-Of exchange): API scopes are limited to its scopes.
    pub delegated_grant: Option<&'a ClientGrant>,
    /// The ID token's `nonce` (OIDC Core §3.1.2.1), from the authorization request.
    pub nonce: Option<&'a str>,
    /// When the user authenticated (`auth_time`), carried by a refresh-token family.
    pub auth_time: u64,
    /// RFC 8693 §2.2.1 `issued_token_type`, for a token exchange.
    pub issued_token_type: Option<&'static str>,
    /// The family a refresh continues; a new family when `None`.
    pub rotation: Option<Rotation<'a>>,
}

impl<'a> Issue<'a> {
    /// Tokens for `user`, with no nonce, actor, `gty` or family yet, and every permission
    /// when no API scope is requested: callers set what differs.
    pub(crate) fn to_user(
        client: &'a Client,
        user: &'a User,
        api: Option<&'a ResourceServer>,
        requested: &'a [String],
        auth_time: u64,
    ) -> Issue<'a> {
        Issue {
            client,
            subject: Subject::User(user),
            api,
            requested,
            without_api_scopes: WithoutApiScopes::AllPermissions,
            gty: None,
            actor: None,
            delegated_grant: None,
            nonce: None,
            auth_time,
            issued_token_type: None,
            rotation: None,
        }
    }
}

/// The user and API a code or refresh token was granted for: the user must still exist and
/// may not be blocked; an API deleted since gives a token for `/userinfo` only.
pub(crate) fn granted_to<'t>(
    tenant: &'t Tenant,
    user_id: &str,
    api: Option<&str>,
) -> Result<(&'t User, Option<&'t ResourceServer>), OAuthError> {
    let user = match tenant.user_by_id(user_id) {
        Some(user) if !user.blocked => user,
        _ => return Err(OAuthError::invalid_grant("The user is blocked or gone")),
    };
    let api = api.and_then(|identifier| tenant.resource_server(identifier));
    Ok((user, api))
}

/// The scope policy `issue` is granted by.
fn policy_for(tenant: &Tenant, issue: &Issue<'_>) -> ScopePolicy {
    match issue.subject {
        Subject::User(user) => {
            // offline_access, as Auth0 grants it: only to clients allowed the
            // refresh_token grant, only for APIs that allow offline access, never with an
            // actor.
            let offline_access = issue.actor.is_none()
                && issue.client.allows_grant(GrantType::RefreshToken)
                && issue.api.is_none_or(|api| api.allow_offline_access);
            let policy = ScopePolicy::for_user(
                tenant,
                user,
                issue.api,
                issue.without_api_scopes,
                offline_access,
            );
            match issue.delegated_grant {
                Some(grant) => policy.within(&grant.scope),
                None => policy,
            }
        }
        Subject::Machine(client_grant) => ScopePolicy::for_machine(client_grant),
    }
}

/// The scopes [`issue`] would grant for `issue`, without issuing anything: what the
/// consent page shows is what the token will carry.
pub(crate) fn granted_scopes(tenant: &Tenant, issue: &Issue<'_>) -> Vec<String> {
    policy_for(tenant, issue).grant(issue.requested)
}

/// Issues the access token, and the ID token and refresh token the granted scopes call
/// for.
pub(crate) fn issue(
    state: &AppState,
    tenant: &Tenant,
    issue: Issue<'_>,
) -> Result<TokenResponse, OAuthError> {
    let client_id = issue.client.client_id.as_str();
    let policy = policy_for(tenant, &issue);
    let granted = policy.grant(issue.requested);
    let has = |scope: &str| granted.iter().any(|s| s == scope);
    let openid = has("openid");
    let subject = match issue.subject {
        Subject::User(user) => user.user_id.clone(),
        Subject::Machine(_) => format!("{client_id}@clients"),
    };
    let mut extra_claims = Map::new();
    if let Some(actor) = &issue.actor {
        // RFC 8693 §4.1: the acting party.
        extra_claims.insert("act".to_owned(), actor.to_claim());
    }
    let minted = state.tokens.access_token(&AccessTokenSpec {
        subject: &subject,
        client_id,
        api: issue.api,
        scopes: &granted,
        permissions: &policy.permissions(&granted),
        gty: issue.gty,
        userinfo_audience: openid && issue.api.is_some(),
        extra_claims,
    })?;
    let mut response = TokenResponse::bearer(minted, &granted);
    response.issued_token_type = issue.issued_token_type.map(str::to_owned);
    let Subject::User(user) = issue.subject else {
        return Ok(response);
    };
    if openid {
        response.id_token =
            Some(
                state
                    .tokens
                    .id_token(user, client_id, issue.nonce, &granted, issue.auth_time)?,
            );
    }
    if has(OFFLINE_ACCESS) {
        let (family, spent) = match issue.rotation {
            Some(Rotation { family, replaces }) => (family, Some(replaces.to_owned())),
            None => (random_token(16), None),
        };
        let token = random_token(32);
        response.pending_refresh = Some(PendingRefresh {
            token: token.clone(),
            grant: RefreshGrant {
                family,
                client_id: client_id.to_owned(),
                user_id: user.user_id.clone(),
                api: issue.api.map(|api| api.identifier.clone()),
                scopes: granted,
                auth_time: issue.auth_time,
            },
            expires_at: state.now() + REFRESH_TOKEN_LIFETIME,
            spent,
        });
        response.refresh_token = Some(token);
    }
    Ok(response)
}
