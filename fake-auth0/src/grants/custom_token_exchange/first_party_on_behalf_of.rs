//! The built-in Custom Token Exchange Action, first-party on-behalf-of template: Auth0's
//! marketplace template "On-behalf-of token exchange for first-party apps"
//! (`first-party-on-behalf-of-CUSTOM_TOKEN_EXCHANGE`). Not to be confused with Auth0's
//! separate On-Behalf-Of token exchange grant, which runs no Action.
//!
//! A first-party service (here the MCP server) received a user's access token for itself
//! and needs a token for a downstream API for the same user. The checks run in the
//! template's order, with its codes and messages, so a client sees what it would see
//! against Auth0.

use crate::jwt::{Expected, VerifyError, verify_tenant_token};
use crate::model::FirstPartyOnBehalfOfSecrets;
use crate::oauth::ErrorCode;

use super::action::{CustomTokenExchangeAction, Decision, Event, TenantView};

/// The template's clock tolerance (`clockTolerance: 5` in its `jwtVerify` options).
pub(crate) const CLOCK_TOLERANCE_SECONDS: u64 = 5;

/// The template with its configuration (the template's secrets), borrowed from
/// the tenant so that running it allocates nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FirstPartyOnBehalfOf<'a> {
    config: &'a FirstPartyOnBehalfOfSecrets,
}

impl<'a> FirstPartyOnBehalfOf<'a> {
    /// The Action for these secrets.
    pub(crate) fn new(config: &'a FirstPartyOnBehalfOfSecrets) -> Self {
        Self { config }
    }
}

impl CustomTokenExchangeAction for FirstPartyOnBehalfOf<'_> {
    fn execute(&self, event: &Event<'_>, tenant: &TenantView<'_>) -> Decision {
        let config = self.config;

        // 1. The template fails fast without a subject token.
        if event.subject_token.expose().is_empty() {
            return Decision::deny(ErrorCode::InvalidRequest, "subject_token is required");
        }

        // 2. Only the configured first-party services may exchange.
        if !config
            .allowed_client_ids
            .iter()
            .any(|id| id == event.client_id)
        {
            tracing::warn!(
                client_id = event.client_id,
                client_name = event.client_name,
                "on-behalf-of: unauthorized client attempted exchange"
            );
            return Decision::deny(
                ErrorCode::UnauthorizedClient,
                "This client is not authorized to perform token exchange",
            );
        }

        // 3. The target audience must be given and allowed.
        let Some(audience) = event.resource_server else {
            return Decision::deny(ErrorCode::InvalidRequest, "No target audience specified");
        };
        if !config
            .allowed_target_audiences
            .iter()
            .any(|a| a == audience)
        {
            tracing::warn!(audience, "on-behalf-of: unauthorized audience requested");
            return Decision::deny(
                ErrorCode::InvalidTarget,
                "The requested audience is not permitted",
            );
        }

        // 4. The subject token must be a valid access token of this tenant for the
        //    configured audience. It is deliberately not bound to the calling client: in
        //    on-behalf-of the token was issued to a different client.
        let expected = Expected {
            issuer: tenant.issuer,
            audience: Some(&config.subject_token_audience),
            now: tenant.now,
            leeway: CLOCK_TOLERANCE_SECONDS,
        };
        let claims = match verify_tenant_token(event.subject_token.expose(), tenant.keys, &expected)
        {
            Ok(claims) => claims,
            Err(err) => {
                tracing::warn!(
                    reason = err.reason(),
                    "on-behalf-of: subject token rejected"
                );
                return Decision::reject_invalid_subject_token(jose_message(&err));
            }
        };
        let Some(sub) = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
        else {
            return Decision::reject_invalid_subject_token("Token missing valid subject claim");
        };

        // 5. A sender-constrained token (DPoP or mTLS) cannot be re-bound to this client.
        if claims.contains_key("cnf") {
            return Decision::reject_invalid_subject_token(
                "Sender-constrained token not eligible for exchange",
            );
        }

        // 6. Every requested scope must be allowed; scopes are not derived from the subject
        //    token's ("scope decoupling").
        let unauthorized: Vec<&str> = event
            .requested_scopes
            .iter()
            .filter(|s| !config.allowed_scopes.contains(s))
            .map(String::as_str)
            .collect();
        if !unauthorized.is_empty() {
            tracing::warn!(?unauthorized, "on-behalf-of: unauthorized scopes requested");
            return Decision::deny(
                ErrorCode::InvalidScope,
                format!("Unauthorized scopes requested: {}", unauthorized.join(", ")),
            );
        }

        Decision::SetUser(sub.to_owned())
    }
}

/// The template's message for a failed verification (its `JOSE_ERROR_MESSAGES`), which is
/// what the client reads in `error_description`.
fn jose_message(error: &VerifyError) -> String {
    match error {
        VerifyError::Expired => "The subject token has expired".to_owned(),
        VerifyError::BadSignature => "Token signature verification failed".to_owned(),
        VerifyError::Claim(claim) => format!("Token claim '{claim}' validation failed"),
        VerifyError::NoMatchingKey => "No matching signing key found for token".to_owned(),
        VerifyError::Malformed => "The subject token is invalid".to_owned(),
    }
}

#[cfg(test)]
mod tests;
