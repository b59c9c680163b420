//! Users of the connection (`/api/v2/users`): the `sub` of their tokens, their profile
//! claims, their roles, and a password that is compared in constant time and never shown.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// A user of the connection (`/api/v2/users`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `auth0|…`, the `sub` of the user's tokens.
    pub user_id: String,
    pub email: String,
    #[serde(default = "verified_by_default")]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    pub password: UserPassword,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub blocked: bool,
}

/// A demo user's password; `Debug` never shows it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserPassword(String);

impl UserPassword {
    /// Constant-time comparison.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserPassword([redacted])")
    }
}

/// A tenant file's users have verified their email unless it says otherwise.
fn verified_by_default() -> bool {
    true
}
