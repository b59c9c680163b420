//! `/oauth/token`: parses the request once, authenticates the client, and dispatches on
//! the grant type (RFC 6749 §4, RFC 8693).
//!
//! The grants here are authorization_code (with PKCE), refresh_token (rotating, with
//! family revocation on reuse), client_credentials (per client grants) and password; the
//! token-exchange grant lives in `token_exchange`. The grants return values or
//! [`OAuthError`]s; only [`token`] knows about HTTP.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use crate::client_auth::{AuthenticatedClient, authenticate_client};
use crate::jwt::{AccessTokenSpec, Gty};
use crate::model::{GrantType, ResourceServer, Tenant, TokenEndpointAuthMethod, User};
use crate::oauth::OAuthError;
use crate::oauth::params::{FormParams, split_scope};
use crate::oauth::pkce;
use crate::oauth::random_token;
use crate::state::{AppState, REFRESH_TOKEN_LIFETIME};
use crate::state::{PendingRefresh, RefreshGrant, RefreshUse};
use crate::tokens::TokenResponse;

/// OpenID Connect scopes: they never name an API permission.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match handle(&state, &headers, body).await {
        Ok(response) => response.into_response(),
        Err(error) => {
            tracing::info!(
                error = %error.code,
                description = %error.description,
                "token request rejected"
            );
            error.into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, OAuthError> {
    let params = parse_body(headers, body)?;
    let grant_type = params.require("grant_type")?;
    let Some(grant) = GrantType::parse(grant_type) else {
        return Err(OAuthError::unsupported_grant_type(format!(
            "Unsupported grant type: {grant_type}"
        )));
    };
    let client = authenticate_client(state, headers, &params)?;
    if grant == GrantType::TokenExchange {
        // Custom Token Exchange checks its own client permissions (the client's
        // `token_exchange` settings), as Auth0 does.
        let mut response = crate::token_exchange::grant(state, &client, &params).await?;
        store_refresh_token(state, &mut response).await?;
        return Ok(response);
    }
    if !client.client.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "Grant type '{}' not allowed for the client.",
            grant.as_str()
        )));
    }
    let mut response = match grant {
        GrantType::AuthorizationCode => authorization_code(state, &client, &params),
        GrantType::RefreshToken => refresh_token(state, &client, &params).await,
        GrantType::ClientCredentials => client_credentials(state, &client, &params),
        GrantType::Password => password(state, &client, &params),
        GrantType::TokenExchange => unreachable!("dispatched above"),
    }?;
    store_refresh_token(state, &mut response).await?;
    tracing::debug!(
        grant = grant.as_str(),
        client_id = %client.client.client_id,
        scope = response.scope.as_deref().unwrap_or_default(),
        "token issued"
    );
    Ok(response)
}

/// Stores the refresh token a grant minted, if any: committed to the data dir (when there
/// is one) before the response is sent, so an acknowledged refresh token survives a crash.
/// Grants without a refresh token (client_credentials, most exchanges) write nothing.
async fn store_refresh_token(
    state: &AppState,
    response: &mut TokenResponse,
) -> Result<(), OAuthError> {
    if let Some(pending) = response.pending_refresh.take() {
        state.save_refresh_token(pending).await?;
    }
    Ok(())
}

/// Parses a form (or, as Auth0 accepts, JSON) body into parameters.
pub(crate) fn parse_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<FormParams, OAuthError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::invalid_request("The request body is too large")
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            OAuthError::invalid_request("The request body could not be read")
        }
    })?;
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-www-form-urlencoded" => FormParams::parse_urlencoded(&body),
        "application/json" => FormParams::from_json(&body),
        _ => Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        )),
    }
}

/// Resolves the API a request names: `audience`, or RFC 8707 `resource` as the same thing
/// (Auth0's Resource Parameter Compatibility Profile), else the tenant's default audience.
pub(crate) fn resolve_api<'t>(
    tenant: &'t Tenant,
    params: &FormParams,
) -> Result<Option<&'t ResourceServer>, OAuthError> {
    let identifier = match (params.get("audience"), params.get("resource")) {
        (Some(audience), Some(resource)) if audience != resource => {
            return Err(OAuthError::invalid_target(
                "audience and resource name different APIs",
            ));
        }
        (Some(identifier), _) | (None, Some(identifier)) => identifier,
        (None, None) => match &tenant.settings.default_audience {
            Some(identifier) => identifier.as_str(),
            None => return Ok(None),
        },
    };
    tenant
        .resource_server(identifier)
        .map(Some)
        .ok_or_else(|| OAuthError::access_denied(format!("Service not found: {identifier}")))
}

/// What a user gets on an API: the granted scopes (OIDC scopes first) and the `permissions`.
#[derive(Debug, Default)]
pub(crate) struct UserGrant {
    pub scopes: Vec<String>,
    pub permissions: Vec<String>,
}

/// RBAC: with `enforce_policies`, the granted API scopes are the requested ones the user's
/// roles allow; when the request names no API scope, all of the user's permissions (a
/// documented choice, see PARITY.md). Without it, the requested scopes the API defines.
pub(crate) fn grant_user_scopes(
    tenant: &Tenant,
    user: &User,
    api: Option<&ResourceServer>,
    requested: &[String],
) -> UserGrant {
    let mut scopes: Vec<String> = requested
        .iter()
        .filter(|s| OIDC_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect();
    let Some(api) = api else {
        return UserGrant {
            scopes,
            permissions: Vec::new(),
        };
    };
    let api_requested: Vec<&String> = requested
        .iter()
        .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
        .collect();
    let permissions = if api.enforce_policies {
        tenant.user_permissions(user, api)
    } else {
        Vec::new()
    };
    let allowed: Vec<String> = if api.enforce_policies {
        permissions.clone()
    } else {
        api.scopes.iter().map(|s| s.value.clone()).collect()
    };
    if api_requested.is_empty() && api.enforce_policies {
        scopes.extend(allowed);
    } else {
        scopes.extend(
            allowed
                .into_iter()
                .filter(|scope| api_requested.contains(&scope)),
        );
    }
    UserGrant {
        scopes,
        permissions,
    }
}

/// Everything needed to issue a user's tokens after a code, refresh or password grant.
struct UserTokenRequest<'a> {
    client: &'a AuthenticatedClient,
    user: &'a User,
    api: Option<&'a ResourceServer>,
    requested_scopes: &'a [String],
    nonce: Option<&'a str>,
    auth_time: u64,
    gty: Option<Gty>,
    /// The refresh-token family to continue, when rotating.
    family: Option<String>,
    /// The refresh token this rotation replaces (spent in the same commit).
    replaces: Option<&'a str>,
}

/// Issues a user's access token, and an ID token and refresh token when granted.
fn issue_user_tokens(
    state: &AppState,
    request: &UserTokenRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    let client_id = request.client.client.client_id.as_str();
    let grant = grant_user_scopes(
        &state.tenant(),
        request.user,
        request.api,
        request.requested_scopes,
    );
    let openid = grant.scopes.iter().any(|s| s == "openid");
    let minted = state.tokens.access_token(&AccessTokenSpec {
        subject: &request.user.user_id,
        client_id,
        api: request.api,
        scopes: &grant.scopes,
        permissions: &grant.permissions,
        gty: request.gty,
        userinfo_audience: openid && request.api.is_some(),
        extra_claims: serde_json::Map::new(),
    })?;
    let mut response = TokenResponse::bearer(minted, &grant.scopes);
    if openid {
        response.id_token = Some(state.tokens.id_token(
            request.user,
            client_id,
            request.nonce,
            &grant.scopes,
            request.auth_time,
        )?);
    }
    let offline = grant.scopes.iter().any(|s| s == "offline_access")
        && request.client.client.allows_grant(GrantType::RefreshToken)
        && request.api.is_none_or(|api| api.allow_offline_access);
    if offline {
        let now = state.now();
        let token = random_token(32);
        response.pending_refresh = Some(PendingRefresh {
            token: token.clone(),
            grant: RefreshGrant {
                family: request.family.clone().unwrap_or_else(|| random_token(16)),
                client_id: client_id.to_owned(),
                user_id: request.user.user_id.clone(),
                api: request.api.map(|api| api.identifier.clone()),
                requested_scopes: request.requested_scopes.to_vec(),
                auth_time: request.auth_time,
            },
            expires_at: now + REFRESH_TOKEN_LIFETIME,
            spent: request.replaces.map(str::to_owned),
        });
        response.refresh_token = Some(token);
    }
    Ok(response)
}

/// The user a code or refresh token was issued to, if they still exist and may log in.
fn active_user<'t>(tenant: &'t Tenant, user_id: &str) -> Result<&'t User, OAuthError> {
    match tenant.user_by_id(user_id) {
        Some(user) if !user.blocked => Ok(user),
        _ => Err(OAuthError::invalid_grant("The user is blocked or gone")),
    }
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.5: the code, the redirect URI and the PKCE verifier.
fn authorization_code(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.require("code_verifier")?;
    // The code is spent whatever happens next: a code is single use (RFC 6749 §4.1.2).
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
    let user = active_user(&tenant, &grant.user_id)?;
    let api = grant
        .api
        .as_deref()
        .and_then(|identifier| tenant.resource_server(identifier));
    issue_user_tokens(
        state,
        &UserTokenRequest {
            client,
            user,
            api,
            requested_scopes: &grant.requested_scopes,
            nonce: grant.nonce.as_deref(),
            auth_time: grant.auth_time,
            gty: None,
            family: None,
            replaces: None,
        },
    )
}

/// RFC 6749 §6 with rotation: each refresh token is single use; presenting a spent one
/// revokes every token of its family (RFC 9700 §4.14.2).
async fn refresh_token(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
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
    let requested = match params.get("scope") {
        Some(scope) => {
            let narrowed = split_scope(scope);
            if let Some(extra) = narrowed
                .iter()
                .find(|s| !grant.requested_scopes.contains(s))
            {
                return Err(OAuthError::invalid_scope(format!(
                    "Scope {extra} was not granted originally"
                )));
            }
            narrowed
        }
        None => grant.requested_scopes.clone(),
    };
    let tenant = state.tenant();
    let user = active_user(&tenant, &grant.user_id)?;
    let api = grant
        .api
        .as_deref()
        .and_then(|identifier| tenant.resource_server(identifier));
    let mut requested_for_family = requested;
    if !requested_for_family.iter().any(|s| s == "offline_access") {
        // The family continues with the original grant's offline access.
        requested_for_family.push("offline_access".to_owned());
    }
    issue_user_tokens(
        state,
        &UserTokenRequest {
            client,
            user,
            api,
            requested_scopes: &requested_for_family,
            nonce: None,
            auth_time: grant.auth_time,
            gty: None,
            family: Some(grant.family),
            replaces: Some(token),
        },
    )
}

/// RFC 6749 §4.4: a machine token for an API the client has a client grant for.
fn client_credentials(
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
    let scopes: Vec<String> = if requested.is_empty() {
        client_grant.scope.clone()
    } else {
        client_grant
            .scope
            .iter()
            .filter(|scope| requested.contains(scope))
            .cloned()
            .collect()
    };
    let subject = format!("{client_id}@clients");
    let minted = state.tokens.access_token(&AccessTokenSpec {
        subject: &subject,
        client_id,
        api: Some(api),
        scopes: &scopes,
        permissions: &scopes,
        gty: Some(Gty::ClientCredentials),
        userinfo_audience: false,
        extra_claims: serde_json::Map::new(),
    })?;
    Ok(TokenResponse::bearer(minted, &scopes))
}

/// RFC 6749 §4.3: the resource owner's email and password, for clients that allow it.
fn password(
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
    issue_user_tokens(
        state,
        &UserTokenRequest {
            client,
            user,
            api,
            requested_scopes: &requested,
            nonce: None,
            auth_time: state.now(),
            gty: Some(Gty::Password),
            family: None,
            replaces: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn check(user: &str, requested: &[&str], expected_scopes: &[&str]) {
        let tenant = Tenant::demo();
        let user = tenant.user_by_email(user).unwrap();
        let api = tenant.resource_server("http://localhost:3001/");
        let grant = grant_user_scopes(&tenant, user, api, &scopes(requested));
        assert_eq!(grant.scopes, scopes(expected_scopes), "{requested:?}");
    }

    #[test]
    fn rbac_grants_the_requested_scopes_the_user_holds() {
        check(
            "admin@example.com",
            &["openid", "tool:greet"],
            &["openid", "tool:greet"],
        );
        check(
            "user@example.com",
            &["tool:whoami", "tool:greet"],
            &["tool:whoami"],
        );
        check("guest@example.com", &["tool:whoami"], &[]);
        check("user@example.com", &["tool:unknown"], &[]);
    }

    #[test]
    fn no_api_scope_requested_grants_every_permission() {
        check(
            "admin@example.com",
            &["openid", "offline_access"],
            &["openid", "offline_access", "tool:whoami", "tool:greet"],
        );
    }
}
