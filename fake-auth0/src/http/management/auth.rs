//! The Management API's access check: a bearer token this tenant issued for
//! `<issuer>api/v2/` (client_credentials, as Auth0's Management API tokens are), carrying the
//! route's scope.

use http::HeaderMap;

use super::ManagementError;
use crate::state::AppState;

/// The caller of a Management API route, from its verified token.
#[derive(Debug, Clone)]
pub(crate) struct ManagementToken {
    /// `sub`: `<client_id>@clients` for a machine token.
    pub subject: String,
    /// The token's scopes (`scope`, space separated).
    pub scopes: Vec<String>,
}

impl ManagementToken {
    /// Whether the token carries `scope`.
    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// The Management API's audience for this tenant.
pub(crate) fn audience(state: &AppState) -> String {
    format!("{}api/v2/", state.issuer())
}

/// Checks the `Authorization: Bearer` token of a Management API request: 401 when it is
/// missing or does not verify (signature, issuer, expiry, audience `<issuer>api/v2/`), 403
/// `insufficient_scope` when it lacks `required_scope` or is not a machine token.
pub(crate) fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    required_scope: &str,
) -> Result<ManagementToken, ManagementError> {
    let Some(token) = crate::http::bearer::bearer_token(headers) else {
        return Err(ManagementError::unauthorized("Missing authentication"));
    };
    let claims = state
        .tokens
        .verify(token, &audience(state))
        .map_err(|error| {
            tracing::info!(reason = error.reason(), "management API rejected a token");
            ManagementError::unauthorized("Invalid token")
        })?;
    let scopes: Vec<String> = claims
        .get("scope")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let Some(subject) = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
    else {
        tracing::info!("management API rejected a token without sub");
        return Err(ManagementError::unauthorized("Invalid token"));
    };
    // Auth0 gives users only `*:current_user` scopes on its Management API; fake-auth0
    // implements none of those, so only machine tokens (client credentials) are accepted.
    // Without this, any demo user could manage the tenant with a password-grant token.
    if !subject.ends_with("@clients") {
        tracing::info!(subject, "management API: a user token was presented");
        return Err(ManagementError::insufficient_scope(required_scope));
    }
    let token = ManagementToken { subject, scopes };
    if !token.has_scope(required_scope) {
        tracing::info!(
            subject = token.subject,
            required_scope,
            "management API: insufficient scope"
        );
        return Err(ManagementError::insufficient_scope(required_scope));
    }
    Ok(token)
}
