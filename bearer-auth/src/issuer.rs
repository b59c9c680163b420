//! The issuer identifier a resource server trusts, derived from `AUTH0_DOMAIN`.
//!
//! Auth0 writes its `iss` claim as `https://{domain}/` with a trailing slash, and OpenID
//! Connect Discovery 1.0 §4.3 requires the `issuer` in the discovery document to equal the
//! `iss` claim exactly. Normalising once here lets the same configuration value serve a real
//! tenant (`tenant.us.auth0.com`) and the local fake (`http://localhost:4000`).

use std::fmt;
use std::str::FromStr;

use url::Url;

/// Why a configuration value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The domain or issuer was empty.
    #[error("the issuer (AUTH0_DOMAIN) is empty")]
    EmptyIssuer,
    /// The domain or issuer is not a URL even after adding `https://`.
    #[error("the issuer (AUTH0_DOMAIN) is not a valid URL: {0}")]
    InvalidIssuer(String),
    /// Only `http` and `https` issuers can serve discovery documents.
    #[error("the issuer (AUTH0_DOMAIN) must use http or https, not {0}")]
    UnsupportedScheme(String),
    /// OpenID Connect Discovery §3: an issuer has no query or fragment.
    #[error("the issuer (AUTH0_DOMAIN) must not have a query or fragment")]
    QueryOrFragment,
}

/// An OAuth 2.0 issuer identifier (RFC 8414 §2), always ending with `/` as Auth0's does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Issuer(String);

impl Issuer {
    /// Builds the issuer from an `AUTH0_DOMAIN` value.
    ///
    /// A bare host such as `tenant.us.auth0.com` means `https://tenant.us.auth0.com/`; a value
    /// with a scheme (`http://localhost:4000`) is used as given. Either way the result ends
    /// with exactly one `/`.
    pub fn from_auth0_domain(domain: &str) -> Result<Issuer, ConfigError> {
        let domain = domain.trim();
        if domain.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        let with_scheme = if domain.contains("://") {
            domain.to_owned()
        } else {
            format!("https://{domain}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| ConfigError::InvalidIssuer(e.to_string()))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(ConfigError::UnsupportedScheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::InvalidIssuer("no host".to_owned()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::QueryOrFragment);
        }
        let mut issuer = String::from(url);
        if !issuer.ends_with('/') {
            issuer.push('/');
        }
        Ok(Issuer(issuer))
    }

    /// The issuer exactly as tokens must carry it in `iss`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Issuer {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Issuer::from_auth0_domain(s)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Issuer {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(
            Issuer::from_auth0_domain(input).unwrap().as_str(),
            expected,
            "{input}"
        );
    }

    #[test]
    fn a_bare_host_means_https_with_a_trailing_slash() {
        check("tenant.us.auth0.com", "https://tenant.us.auth0.com/");
        check("tenant.us.auth0.com/", "https://tenant.us.auth0.com/");
    }

    #[test]
    fn a_value_with_a_scheme_is_used_as_given() {
        check("http://localhost:4000", "http://localhost:4000/");
        check("http://localhost:4000/", "http://localhost:4000/");
        check(
            "https://auth.example.com/tenant",
            "https://auth.example.com/tenant/",
        );
        check(" http://127.0.0.1:9999 ", "http://127.0.0.1:9999/");
    }

    #[test]
    fn nonsense_is_refused() {
        assert_eq!(Issuer::from_auth0_domain(""), Err(ConfigError::EmptyIssuer));
        assert!(matches!(
            Issuer::from_auth0_domain("ftp://example.com"),
            Err(ConfigError::UnsupportedScheme(_))
        ));
        assert_eq!(
            Issuer::from_auth0_domain("https://example.com/?a=b"),
            Err(ConfigError::QueryOrFragment)
        );
    }
}
