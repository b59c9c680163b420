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
    /// Auth0's `permissions` claim (RBAC with "Add Permissions in the Access Token").
    pub permissions: Vec<String>,
    /// `client_id` (RFC 9068 §2.2) or, in Auth0's default dialect, `azp`.
    pub client_id: Option<String>,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// Every claim as sent, for display.
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    /// True when `permission` is granted by `scope` or by `permissions`.
    pub fn allows(&self, permission: &str) -> bool {
        self.scopes.iter().any(|s| s == permission)
            || self.permissions.iter().any(|p| p == permission)
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
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(TokenError::InvalidClaim("permissions"))?,
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
