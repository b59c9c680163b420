//! The Custom Token Exchange Action's interface: what the tenant runs to turn a subject
//! token into a user, as Auth0's `onExecuteCustomTokenExchange(event, api)` does, with the
//! event it sees and the decision it returns.
//!
//! Auth0's Action calls methods on `api`; here it returns one [`Decision`], which makes
//! "exactly one of setUser / deny / reject" hold by construction.

use std::fmt;

use crate::jwt::TenantKeys;
use crate::oauth::ErrorCode;

/// A token presented at the token endpoint. Its `Debug` output is redacted so that a token
/// cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SecretToken(String);

impl SecretToken {
    /// Wraps a token received from a client.
    pub(crate) fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for verification only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken([redacted, {} bytes])", self.0.len())
    }
}

/// What the Action sees of the request (Auth0's `event`, the parts the fake has). The whole
/// event is built, as Auth0 hands it to every Action, though the one built-in template
/// reads only part of it.
#[derive(Debug, Clone, Copy)]
#[expect(
    dead_code,
    reason = "Auth0's event has these; the built-in template does not read them"
)]
pub(crate) struct Event<'a> {
    /// `event.client.client_id`: the authenticated client.
    pub client_id: &'a str,
    /// `event.client.name`.
    pub client_name: &'a str,
    /// `event.resource_server.identifier`: the requested audience, after the tenant
    /// resolved `audience`/`resource` and its default audience.
    pub resource_server: Option<&'a str>,
    /// `event.transaction.requested_scopes`.
    pub requested_scopes: &'a [String],
    /// `event.transaction.subject_token`.
    pub subject_token: &'a SecretToken,
    /// `event.transaction.subject_token_type`.
    pub subject_token_type: &'a str,
    /// `event.transaction.actor_token`, when the client sent one.
    pub actor_token: Option<&'a SecretToken>,
    /// `event.transaction.actor_token_type`, when the client sent one.
    pub actor_token_type: Option<&'a str>,
    /// `event.organization`: the `organization` parameter as sent.
    pub organization: Option<&'a str>,
    /// `event.request.body`: every request parameter except `client_secret`, so an Action
    /// can read extension parameters.
    pub request_body: &'a [(&'a str, &'a str)],
}

/// What the Action may use of the tenant: the fake's stand-in for `event.request.hostname`
/// (the issuer) and for fetching the tenant's JWKS.
#[derive(Clone, Copy)]
pub(crate) struct TenantView<'a> {
    /// The tenant's issuer, e.g. `http://localhost:4000/` (with the trailing slash).
    pub issuer: &'a str,
    /// The tenant's public signing keys.
    pub keys: &'a dyn TenantKeys,
    /// Now, in Unix seconds, from the tenant's clock.
    pub now: u64,
}

impl fmt::Debug for TenantView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantView")
            .field("issuer", &self.issuer)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// The one outcome of an Action run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// `api.authentication.setUserById(user_id)`: issue the token for this user.
    SetUser(String),
    /// `api.access.deny(code, reason)`: the request fails with this `error` and
    /// `error_description`.
    Deny {
        /// The `error` sent to the client.
        code: ErrorCode,
        /// The `error_description` sent to the client.
        reason: String,
    },
    /// `api.access.rejectInvalidSubjectToken(reason)`: the request fails with
    /// `invalid_request` and this description.
    RejectInvalidSubjectToken(String),
}

impl Decision {
    /// `api.access.deny(code, reason)`.
    pub(crate) fn deny(code: ErrorCode, reason: impl Into<String>) -> Self {
        Decision::Deny {
            code,
            reason: reason.into(),
        }
    }

    /// `api.access.rejectInvalidSubjectToken(reason)`.
    pub(crate) fn reject_invalid_subject_token(reason: impl Into<String>) -> Self {
        Decision::RejectInvalidSubjectToken(reason.into())
    }
}

/// A Custom Token Exchange Action (Auth0's `onExecuteCustomTokenExchange`). It runs once per request, after the platform checked the
/// client and matched the profile, and decides who the issued token is for.
pub(crate) trait CustomTokenExchangeAction: Send + Sync {
    /// Decides the outcome of one exchange.
    fn execute(&self, event: &Event<'_>, tenant: &TenantView<'_>) -> Decision;
}
