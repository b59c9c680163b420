//! The token endpoint's success response (RFC 6749 §5.1, RFC 8693 §2.2.1).

use serde::Serialize;

use crate::jwt::MintedToken;
use crate::state::PendingRefresh;

/// A successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1).
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    /// RFC 8693 §2.2.1: required in token-exchange responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The refresh token above, not yet stored: the dispatch commits it (to the data
    /// dir, when there is one) before the response is sent.
    #[serde(skip)]
    pub pending_refresh: Option<PendingRefresh>,
}

impl TokenResponse {
    /// A bearer-token response with the given access token and granted scopes.
    pub(crate) fn bearer(minted: MintedToken, scopes: &[String]) -> Self {
        Self {
            access_token: minted.token,
            issued_token_type: None,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            id_token: None,
            refresh_token: None,
            pending_refresh: None,
        }
    }
}
