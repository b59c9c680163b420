//! Who is calling: what the HTTP layer (`auth`) learns from the bearer token and hands to
//! the tools (`tools`) through the request's extensions.
//!
//! Its own module so that the layer that writes it and the tools that read it depend on it,
//! not on each other.

use std::sync::Arc;

use bearer_auth::VerifiedToken;

/// The inbound access token, kept only so the token exchange can send it to the IdP as
/// `subject_token`. `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct SubjectToken(Arc<str>);

impl SubjectToken {
    /// Keeps `raw`, the token exactly as the client sent it.
    pub(crate) fn new(raw: &str) -> Self {
        SubjectToken(Arc::from(raw))
    }

    /// The raw token, for the token exchange request and nothing else.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SubjectToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectToken([redacted])")
    }
}

/// The authenticated caller of an `/mcp` request, put into the request extensions; tool
/// handlers find it in the `http::request::Parts` rmcp passes along.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The verified token's claims.
    pub(crate) token: Arc<VerifiedToken>,
    /// The raw token (the exchange's subject_token).
    pub(crate) subject_token: SubjectToken,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_subject_token() {
        let token = SubjectToken::new("eyJhbGciOiJSUzI1NiJ9.secret.sig");
        assert_eq!(format!("{token:?}"), "SubjectToken([redacted])");
        assert_eq!(token.expose(), "eyJhbGciOiJSUzI1NiJ9.secret.sig");
    }
}
