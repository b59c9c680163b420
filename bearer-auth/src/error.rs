//! Why a token was refused, as one closed set the challenge and the metrics both use.

/// Why [`Verifier::verify`](crate::Verifier::verify) refused a token.
///
/// Every variant but [`TokenError::KeysUnavailable`] is the client's fault and becomes
/// `401 invalid_token` (RFC 6750 §3.1); `KeysUnavailable` is ours and becomes 503.
/// The [`Display`](std::fmt::Display) text is the short `error_description` sent to clients;
/// it never includes token contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url parts, or a part is not the JSON it should be.
    #[error("The access token is malformed")]
    Malformed,
    /// Longer than 16 KiB; refused before any parsing.
    #[error("The access token is too large")]
    TooLarge,
    /// `alg` is not in the allowed list (`none` and HMAC never are).
    #[error("The token signing algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// `alg` does not fit the key named by `kid`.
    #[error("The token algorithm does not match its key")]
    AlgorithmMismatch,
    /// The header carries `jku`, `x5u`, `jwk` or `x5c`: keys are never taken from the token.
    #[error("The token header may not carry its own key")]
    ForbiddenHeader(&'static str),
    /// The header has `crit`; this verifier understands no extensions (RFC 7515 §4.1.11).
    #[error("The token has critical header parameters")]
    CriticalHeader,
    /// `typ` is missing or not an accepted access-token type (RFC 9068 §4).
    #[error("The token type is not accepted")]
    TypeNotAccepted,
    /// The header has no `kid`.
    #[error("The token does not name its signing key")]
    MissingKeyId,
    /// No key with this `kid` in the issuer's JWKS, even after a refetch.
    #[error("The token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("The token signature is invalid")]
    BadSignature,
    /// `exp` is past, beyond the leeway.
    #[error("The access token has expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("The access token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    #[error("The access token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not our issuer.
    #[error("The token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not include our audience.
    #[error("The token is meant for another audience")]
    WrongAudience,
    /// One of `iss`, `aud`, `exp`, `iat`, `sub` is missing.
    #[error("The token lacks a required claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (e.g. `scope` not a string).
    #[error("A token claim has an invalid value")]
    InvalidClaim(&'static str),
    /// No signing keys could be loaded yet, or the last good ones are too old.
    #[error("The signing keys are not available")]
    KeysUnavailable,
}

impl TokenError {
    /// A stable, low-cardinality label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::TooLarge => "too_large",
            TokenError::AlgorithmNotAllowed => "alg_not_allowed",
            TokenError::AlgorithmMismatch => "alg_mismatch",
            TokenError::ForbiddenHeader(_) => "forbidden_header",
            TokenError::CriticalHeader => "crit_header",
            TokenError::TypeNotAccepted => "typ_not_accepted",
            TokenError::MissingKeyId => "missing_kid",
            TokenError::UnknownKey => "unknown_kid",
            TokenError::BadSignature => "bad_signature",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::IssuedInFuture => "iat_in_future",
            TokenError::WrongIssuer => "wrong_issuer",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::MissingClaim(_) => "missing_claim",
            TokenError::InvalidClaim(_) => "invalid_claim",
            TokenError::KeysUnavailable => "keys_unavailable",
        }
    }

    /// True when the failure is the server's (no keys), so the answer is 503, not 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, TokenError::KeysUnavailable)
    }
}
