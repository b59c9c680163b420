//! Users of the connection (`/api/v2/users`): the `sub` of their tokens, their profile
//! claims and which scopes release them, their roles, and a password that is compared in
//! constant time and never shown.

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

/// The claims about a user that the granted scopes release (OpenID Connect Core §5.4):
/// `name` and `nickname` with `profile`, `email` and `email_verified` with `email`. ID
/// tokens and `/userinfo` both carry exactly these.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ProfileClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

impl User {
    /// The claims `granted` scopes release about this user.
    pub(crate) fn profile_claims<'a, S: AsRef<str>>(&'a self, granted: &[S]) -> ProfileClaims<'a> {
        let has = |scope: &str| granted.iter().any(|s| s.as_ref() == scope);
        let (profile, email) = (has("profile"), has("email"));
        ProfileClaims {
            name: self.name.as_deref().filter(|_| profile),
            nickname: self.nickname.as_deref().filter(|_| profile),
            email: email.then_some(self.email.as_str()),
            email_verified: email.then_some(self.email_verified),
        }
    }
}

/// A demo user's password; `Debug` never shows it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserPassword(String);

impl UserPassword {
    /// The password itself, for the login page of a tenant that lists its users (whose
    /// passwords are public by the tenant's own setting).
    pub fn expose(&self) -> &str {
        &self.0
    }

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

#[cfg(test)]
mod tests {
    use crate::model::Tenant;

    #[test]
    fn each_scope_releases_its_own_claims() {
        let tenant = Tenant::demo();
        let admin = tenant.user_by_email("admin@example.com").unwrap();
        let claims = |scopes: &[&str]| serde_json::to_value(admin.profile_claims(scopes)).unwrap();
        assert_eq!(claims(&["openid"]), serde_json::json!({}));
        let profile = claims(&["profile"]);
        assert!(
            profile.get("name").is_some() && profile.get("email").is_none(),
            "{profile}"
        );
        assert_eq!(
            claims(&["email"]),
            serde_json::json!({"email": "admin@example.com", "email_verified": true})
        );
    }
}
