//! The claims of a verified access token, typed for the checks resource servers make.

use serde_json::{Map, Value};

use crate::TokenError;

/// An access token whose signature, issuer, audience and lifetime have been checked.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedToken {
    /// `sub`: the user (or `{client_id}@clients` for client credentials).
    pub subject: String,
    /// The space-separated `scope` claim (RFC 9068 §2.2.3), split.
    pub scopes: Vec<String>,
    /// Auth0's `permissions` claim (RBAC with "Add Permissions in the Access Token", or the
    /// RFC 9068 profile dialect): every permission the *user* has on the API, whatever this
    /// client asked for. `None` when the token has no such claim (Auth0's default dialect).
    pub permissions: Option<Vec<String>>,
    /// `client_id` (RFC 9068 §2.2) or, in Auth0's default dialect, `azp`.
    pub client_id: Option<String>,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// Every claim as sent, for display.
    pub claims: Map<String, Value>,
}

/// What a token says about one permission: the one rule both resource servers apply.
///
/// `scope` is what *this client* was granted and the user consented to (RFC 9068 §2.2.3;
/// with RBAC enforced, Auth0 narrows it to the requested scopes the user has). Auth0's
/// `permissions` lists everything the *user* has, whatever the client asked for. So only
/// `scope` grants; `permissions` only tells whether asking again (step-up) can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The permission is in `scope`: the request may proceed.
    Granted,
    /// Not in `scope`, but in `permissions`: the user has it and a new authorization that
    /// asks for it (RFC 6750 §3.1 `insufficient_scope` step-up) will grant it.
    NeedsConsent,
    /// Not in `scope`, and the token has no `permissions` claim (Auth0's default dialect):
    /// nobody here knows whether the user has it, so step-up is the honest answer.
    NotInScope,
    /// Not in `scope`, and `permissions` is present without it: the user does not have it,
    /// and asking again cannot help.
    NotPermitted,
}

impl Access {
    /// True when the request may proceed.
    pub fn is_granted(self) -> bool {
        self == Access::Granted
    }

    /// True when a new authorization asking for the permission can help (answer 403
    /// `insufficient_scope`).
    pub fn step_up_may_help(self) -> bool {
        matches!(self, Access::NeedsConsent | Access::NotInScope)
    }
}

impl VerifiedToken {
    /// What this token says about `permission` (see [`Access`]).
    pub fn access(&self, permission: &str) -> Access {
        if self.scopes.iter().any(|s| s == permission) {
            return Access::Granted;
        }
        match &self.permissions {
            None => Access::NotInScope,
            Some(permissions) if permissions.iter().any(|p| p == permission) => {
                Access::NeedsConsent
            }
            Some(_) => Access::NotPermitted,
        }
    }

    /// True when the user can use `permission` now or after consenting to it: it is in
    /// `scope` or in `permissions`. What a listing of capabilities should show.
    pub fn may_use_after_consent(&self, permission: &str) -> bool {
        matches!(
            self.access(permission),
            Access::Granted | Access::NeedsConsent
        )
    }

    /// Types the claims of a token whose registered claims have already been validated.
    pub(crate) fn from_claims(claims: Map<String, Value>) -> Result<VerifiedToken, TokenError> {
        let subject = match claims.get("sub") {
            Some(Value::String(sub)) => sub.clone(),
            Some(_) => return Err(TokenError::InvalidClaim("sub")),
            None => return Err(TokenError::MissingClaim("sub")),
        };
        let scopes = match claims.get("scope") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(scope)) => scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(_) => return Err(TokenError::InvalidClaim("scope")),
        };
        let permissions = match claims.get("permissions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(TokenError::InvalidClaim("permissions"))?,
            ),
            Some(_) => return Err(TokenError::InvalidClaim("permissions")),
        };
        let client_id = match claims.get("client_id").or_else(|| claims.get("azp")) {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(TokenError::InvalidClaim("client_id")),
        };
        let expires_at = numeric_date(&claims, "exp")?;
        Ok(VerifiedToken {
            subject,
            scopes,
            permissions,
            client_id,
            expires_at,
            claims,
        })
    }
}

/// Reads a NumericDate claim (RFC 7519 §2): seconds, possibly fractional.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<u64, TokenError> {
    match claims.get(name) {
        None => Err(TokenError::MissingClaim(name)),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(secs), _) => Ok(secs),
            (None, Some(secs)) if secs.is_finite() && secs >= 0.0 && secs < u64::MAX as f64 => {
                Ok(secs as u64)
            }
            _ => Err(TokenError::InvalidClaim(name)),
        },
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scope: &[&str], permissions: Option<&[&str]>) -> VerifiedToken {
        VerifiedToken {
            subject: "auth0|user".to_owned(),
            scopes: scope.iter().map(|s| (*s).to_owned()).collect(),
            permissions: permissions.map(|p| p.iter().map(|s| (*s).to_owned()).collect()),
            client_id: None,
            expires_at: 0,
            claims: Map::new(),
        }
    }

    #[test]
    fn only_scope_grants_and_permissions_say_whether_step_up_helps() {
        let cases = [
            // (scope, permissions, access, listed)
            (&["p"][..], Some(&["p"][..]), Access::Granted, true),
            (&["p"][..], Some(&[][..]), Access::Granted, true),
            (&["p"][..], None, Access::Granted, true),
            (&[][..], Some(&["p"][..]), Access::NeedsConsent, true),
            (&[][..], Some(&["q"][..]), Access::NotPermitted, false),
            (&[][..], Some(&[][..]), Access::NotPermitted, false),
            (&["q"][..], None, Access::NotInScope, false),
        ];
        for (scope, permissions, access, listed) in cases {
            let token = token(scope, permissions);
            assert_eq!(token.access("p"), access, "{scope:?} {permissions:?}");
            assert_eq!(
                token.may_use_after_consent("p"),
                listed,
                "{scope:?} {permissions:?}"
            );
            assert_eq!(access.is_granted(), access == Access::Granted);
        }
        assert!(Access::NeedsConsent.step_up_may_help());
        assert!(Access::NotInScope.step_up_may_help());
        assert!(!Access::NotPermitted.step_up_may_help());
        assert!(!Access::Granted.step_up_may_help());
    }
}
