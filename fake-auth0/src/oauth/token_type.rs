//! Token type identifiers (RFC 8693 §3): what a token exchange names the tokens it receives
//! (`subject_token_type`, `actor_token_type`) and issues (`issued_token_type`).
//!
//! Only the registered URIs a tenant's own JWTs can be are modelled; a Custom Token
//! Exchange profile's `subject_token_type` is a customer URI and stays a string (see
//! `model::token_exchange_profile`).

/// A registered token type of a JWT this tenant issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenType {
    /// `urn:ietf:params:oauth:token-type:access_token`: an OAuth access token.
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:id_token`: an OpenID Connect ID token.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:jwt`: any JWT.
    Jwt,
}

/// The URI of an OAuth access token, the only type fake-auth0 issues by token exchange.
pub(crate) const ACCESS_TOKEN_TYPE: &str = TokenType::AccessToken.uri();

impl TokenType {
    /// The token type URI.
    pub(crate) const fn uri(self) -> &'static str {
        match self {
            Self::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            Self::IdToken => "urn:ietf:params:oauth:token-type:id_token",
            Self::Jwt => "urn:ietf:params:oauth:token-type:jwt",
        }
    }

    /// The type a URI names; `None` for other URIs (refresh tokens, SAML assertions, and
    /// customer-defined types).
    pub(crate) fn parse(uri: &str) -> Option<Self> {
        [Self::AccessToken, Self::IdToken, Self::Jwt]
            .into_iter()
            .find(|token_type| token_type.uri() == uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registered_jwt_types_parse_and_others_do_not() {
        assert_eq!(
            TokenType::parse("urn:ietf:params:oauth:token-type:id_token"),
            Some(TokenType::IdToken)
        );
        assert_eq!(
            TokenType::parse(ACCESS_TOKEN_TYPE),
            Some(TokenType::AccessToken)
        );
        assert_eq!(
            TokenType::parse("urn:ietf:params:oauth:token-type:jwt"),
            Some(TokenType::Jwt)
        );
        assert_eq!(
            TokenType::parse("urn:ietf:params:oauth:token-type:refresh_token"),
            None
        );
    }
}
