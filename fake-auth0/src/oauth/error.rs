//! The one error type of the OAuth surface (`/oauth/token`, `/oauth/revoke`,
//! `/oidc/register`, `/userinfo`, and the errors `/authorize` redirects with): a status,
//! an `error` code from a closed set and an `error_description`.
//!
//! The description is written for the client developer; internal causes are logged where
//! they happen, never sent. How the error is written on the wire is `http::oauth_error`.

use http::StatusCode;

/// The `error` codes fake-auth0 sends (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2,
/// RFC 8693 §2.2.2, RFC 6750 §3.1), closed so a typo cannot reach the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    /// RFC 8707 §2: the requested resource (audience) is not acceptable.
    InvalidTarget,
    AccessDenied,
    ServerError,
    /// RFC 7591 §3.2.2.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2.
    InvalidRedirectUri,
    /// RFC 6750 §3.1, used by `/userinfo`.
    InvalidToken,
    /// RFC 7009 §2.2.1.
    UnsupportedTokenType,
    /// A code chosen by a tenant Action (`api.access.deny(code, reason)`), sent verbatim.
    Custom(String),
}

impl ErrorCode {
    /// The value of the `error` member on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Custom(code) => code,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error response: status, `error` code and `error_description`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub description: String,
    /// RFC 6749 §5.2: a 401 after HTTP Basic authentication carries a `WWW-Authenticate`
    /// challenge; RFC 6750 §3 for `/userinfo`.
    pub www_authenticate: Option<String>,
}

impl OAuthError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            www_authenticate: None,
        }
    }

    /// 400 `invalid_request`: a missing, repeated or malformed parameter.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }

    /// 401 `invalid_client`: unknown client or failed client authentication.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidClient,
            description,
        )
    }

    /// 400 `invalid_grant`: bad, expired, reused or mismatched code / refresh token / credentials.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidGrant,
            description,
        )
    }

    /// 403 `unauthorized_client`: the client may not use this grant (Auth0 answers 403).
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::UnauthorizedClient,
            description,
        )
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedGrantType,
            description,
        )
    }

    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidScope,
            description,
        )
    }

    /// 400 `invalid_target` (RFC 8707).
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidTarget,
            description,
        )
    }

    /// 403 `access_denied` (Auth0's status for e.g. "Service not found").
    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::AccessDenied, description)
    }

    /// 500 `server_error`; the description must not carry internal details.
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServerError,
            description,
        )
    }

    /// 400 `invalid_client_metadata` (RFC 7591).
    pub fn invalid_client_metadata(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidClientMetadata,
            description,
        )
    }

    /// 400 `invalid_redirect_uri` (RFC 7591).
    pub fn invalid_redirect_uri(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRedirectUri,
            description,
        )
    }

    /// 401 `invalid_token` with an RFC 6750 challenge.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        let description = description.into();
        let challenge = format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            description.replace(['"', '\\'], "'")
        );
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            description,
        )
        .with_www_authenticate(challenge)
    }

    /// A code chosen by an Action, e.g. `api.access.deny("invalid_request", "…")`; 400
    /// unless the caller changes the status with [`OAuthError::with_status`].
    pub fn custom(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Custom(code.into()),
            description,
        )
    }

    /// The same error with another status (Auth0 differs from RFC 6749 in places).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The same error with a `WWW-Authenticate` challenge.
    pub fn with_www_authenticate(mut self, challenge: impl Into<String>) -> Self {
        self.www_authenticate = Some(challenge.into());
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}
