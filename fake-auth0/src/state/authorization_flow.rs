//! The authorization code flow between its requests: the login transaction from
//! `/authorize` to the login (and consent) page, and the code from the redirect to the
//! token request. Both stay in memory only, even with `--data-dir`: they live minutes.

/// Lifetime of an authorization code (Auth0 and RFC 6749 §4.1.2 suggest short; 60 s).
pub(crate) const CODE_LIFETIME: u64 = 60;
/// Time a user has to log in and consent.
pub(crate) const LOGIN_TRANSACTION_LIFETIME: u64 = 600;

/// An authorization request between `/authorize` and the code: what the client asked for,
/// and after login, who the user is.
#[derive(Debug, Clone)]
pub(crate) struct LoginTransaction {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The API identifier, if the request named one (audience or resource).
    pub api: Option<String>,
    pub requested_scopes: Vec<String>,
    /// Set once the user has logged in (before consent).
    pub user_id: Option<String>,
    pub auth_time: u64,
}

/// An issued authorization code (RFC 6749 §4.1.2): bound to client, redirect URI and PKCE
/// challenge, carrying what was granted.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub user_id: String,
    pub nonce: Option<String>,
    pub api: Option<String>,
    pub requested_scopes: Vec<String>,
    pub auth_time: u64,
}
