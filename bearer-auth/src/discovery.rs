//! The issuer's metadata document, fetched one way for every client of discovery.
//!
//! Three places need it: the verifier (for `jwks_uri`), the MCP server's token exchange (for
//! `token_endpoint`) and the MCP server's re-served copy for 2025-03-26 clients (the document
//! itself). They all call [`IssuerMetadata::fetch`] or [`IssuerMetadata::fetch_document`], so
//! the rules below hold everywhere:
//!
//! - the request has a whole-request timeout and the body a size cap, checked before and while
//!   reading, because the IdP is a network peer like any other ([`FetchLimits`]);
//! - the answer must be `200 OK` with `Content-Type: application/json` and a JSON object
//!   (OpenID Connect Discovery 1.0 §4.2, RFC 8414 §3.2), as oauth4webapi's
//!   `processDiscoveryResponse` checks it;
//! - its `issuer` must equal the expected issuer exactly (OIDC Discovery §4.3, RFC 8414 §3.3),
//!   so a document for another tenant is never trusted;
//! - `jwks_uri` and `token_endpoint` are typed as http(s) URLs; a caller asks for the one it
//!   needs and gets an error naming the field when it is missing or unusable.

use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use crate::Issuer;

/// Which well-known metadata document to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataDocument {
    /// `{issuer}.well-known/openid-configuration` (OIDC Discovery §4.1: appended to the issuer).
    OpenIdConfiguration,
    /// RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the issuer's
    /// host and its path (for Auth0's path-less issuers, simply under the issuer).
    OAuthAuthorizationServer,
}

impl MetadataDocument {
    /// Where `issuer` publishes this document.
    pub(crate) fn url(self, issuer: &Issuer) -> String {
        match self {
            MetadataDocument::OpenIdConfiguration => {
                format!("{issuer}.well-known/openid-configuration")
            }
            MetadataDocument::OAuthAuthorizationServer => {
                // An Issuer is always an absolute http(s) URL; parsing cannot fail.
                let mut url = Url::parse(issuer.as_str()).expect("an issuer is a URL");
                let path = url.path().trim_end_matches('/').to_owned();
                url.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
                url.into()
            }
        }
    }
}

/// How long a metadata (or JWKS) request may take and how much of its answer is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchLimits {
    /// The whole-request timeout, body included (5 s by default).
    pub timeout: Duration,
    /// The largest body read (256 KiB by default; Auth0's discovery document is about 3 KiB).
    pub max_bytes: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            timeout: Duration::from_secs(5),
            max_bytes: 256 * 1024,
        }
    }
}

/// Why the issuer's metadata could not be used. The text is fit for logs; it holds URLs and
/// field names, never a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No connection (refused, DNS, TLS, reset). `cause` is the whole source chain, since
    /// reqwest's own message hides the reason.
    #[error("request to {url} failed: {cause}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// What went wrong, with its causes.
        cause: String,
    },
    /// No complete answer within [`FetchLimits::timeout`].
    #[error("{url} did not answer in time")]
    Timeout {
        /// The URL requested.
        url: String,
    },
    /// A status other than `200 OK`.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status received.
        status: u16,
    },
    /// A body larger than [`FetchLimits::max_bytes`].
    #[error("{url} answered more than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap that was exceeded.
        limit: usize,
    },
    /// A `Content-Type` other than `application/json`.
    #[error("{url} did not answer application/json")]
    NotJson {
        /// The URL requested.
        url: String,
    },
    /// A body that is not a JSON object.
    #[error("{url} did not answer a JSON object")]
    NotAnObject {
        /// The URL requested.
        url: String,
    },
    /// The document's `issuer` is not the expected one.
    #[error("{url} names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The URL requested.
        url: String,
        /// The `issuer` found, if it was a string.
        found: Option<String>,
        /// The issuer we trust.
        expected: String,
    },
    /// The document lacks an endpoint the caller needs, or it is not an http(s) URL.
    #[error("the metadata of {issuer} has no valid {field}")]
    MissingEndpoint {
        /// The issuer whose document it is.
        issuer: String,
        /// The field, e.g. `jwks_uri` or `token_endpoint`.
        field: &'static str,
    },
}

/// An issuer's metadata document whose `issuer` has been checked, with the endpoints typed.
#[derive(Clone, Debug)]
pub struct IssuerMetadata {
    issuer: Issuer,
    jwks_uri: Option<Url>,
    token_endpoint: Option<Url>,
    document: Vec<u8>,
}

impl IssuerMetadata {
    /// Fetches `issuer`'s OpenID Connect discovery document with the default limits.
    pub async fn fetch(
        http: &reqwest::Client,
        issuer: &Issuer,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        Self::fetch_document(
            http,
            issuer,
            MetadataDocument::OpenIdConfiguration,
            FetchLimits::default(),
        )
        .await
    }

    /// Fetches one of `issuer`'s metadata documents within `limits`; see the module docs for
    /// the checks.
    pub async fn fetch_document(
        http: &reqwest::Client,
        issuer: &Issuer,
        document: MetadataDocument,
        limits: FetchLimits,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        let url = document.url(issuer);
        let answer = get_bounded(http, &url, limits).await?;
        if !answer.is_json() {
            return Err(DiscoveryError::NotJson { url });
        }
        Self::parse(issuer, &url, answer.body)
    }

    /// Checks a fetched document (see the module docs) and types its endpoints.
    pub(crate) fn parse(
        issuer: &Issuer,
        url: &str,
        body: Vec<u8>,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        let Ok(fields) = serde_json::from_slice::<Map<String, Value>>(&body) else {
            return Err(DiscoveryError::NotAnObject {
                url: url.to_owned(),
            });
        };
        let found = fields.get("issuer").and_then(Value::as_str);
        if found != Some(issuer.as_str()) {
            return Err(DiscoveryError::IssuerMismatch {
                url: url.to_owned(),
                found: found.map(str::to_owned),
                expected: issuer.as_str().to_owned(),
            });
        }
        let endpoint = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .and_then(|value| Url::parse(value).ok())
                .filter(|url| matches!(url.scheme(), "https" | "http"))
        };
        Ok(IssuerMetadata {
            jwks_uri: endpoint("jwks_uri"),
            token_endpoint: endpoint("token_endpoint"),
            issuer: issuer.clone(),
            document: body,
        })
    }

    /// The issuer, equal to the one asked for.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// `jwks_uri`: where the signing keys are published.
    pub fn jwks_uri(&self) -> Result<&Url, DiscoveryError> {
        self.jwks_uri
            .as_ref()
            .ok_or_else(|| self.missing("jwks_uri"))
    }

    /// `token_endpoint`: where grants (the token exchange among them) are made.
    pub fn token_endpoint(&self) -> Result<&Url, DiscoveryError> {
        self.token_endpoint
            .as_ref()
            .ok_or_else(|| self.missing("token_endpoint"))
    }

    /// The document exactly as received, for serving it on.
    pub fn document(&self) -> &[u8] {
        &self.document
    }

    /// The document exactly as received, without copying it.
    pub fn into_document(self) -> Vec<u8> {
        self.document
    }

    fn missing(&self, field: &'static str) -> DiscoveryError {
        DiscoveryError::MissingEndpoint {
            issuer: self.issuer.as_str().to_owned(),
            field,
        }
    }
}

/// A `200 OK` answer read within the size cap.
pub(crate) struct BoundedAnswer {
    content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl BoundedAnswer {
    /// True for `application/json`, parameters (`charset`) ignored.
    fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    }
}

/// GETs `url` asking for JSON, within `limits`; anything but `200 OK` is an error.
/// The JWKS download uses it too.
pub(crate) async fn get_bounded(
    http: &reqwest::Client,
    url: &str,
    limits: FetchLimits,
) -> Result<BoundedAnswer, DiscoveryError> {
    let transport = |error: reqwest::Error| {
        if error.is_timeout() {
            DiscoveryError::Timeout {
                url: url.to_owned(),
            }
        } else {
            DiscoveryError::Unreachable {
                url: url.to_owned(),
                cause: error_chain(&error),
            }
        }
    };
    let mut response = http
        .get(url)
        .timeout(limits.timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(transport)?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(DiscoveryError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
        });
    }
    let too_large = || DiscoveryError::TooLarge {
        url: url.to_owned(),
        limit: limits.max_bytes,
    };
    if response
        .content_length()
        .is_some_and(|len| len > limits.max_bytes as u64)
    {
        return Err(too_large());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(BoundedAnswer { content_type, body })
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(value: &str) -> Issuer {
        Issuer::from_auth0_domain(value).unwrap()
    }

    #[test]
    fn each_document_has_its_well_known_location() {
        for (issuer_value, openid, oauth) in [
            (
                "http://localhost:4000",
                "http://localhost:4000/.well-known/openid-configuration",
                "http://localhost:4000/.well-known/oauth-authorization-server",
            ),
            (
                "tenant.us.auth0.com",
                "https://tenant.us.auth0.com/.well-known/openid-configuration",
                "https://tenant.us.auth0.com/.well-known/oauth-authorization-server",
            ),
            (
                "https://idp.example/tenant",
                "https://idp.example/tenant/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server/tenant",
            ),
        ] {
            let issuer = issuer(issuer_value);
            assert_eq!(MetadataDocument::OpenIdConfiguration.url(&issuer), openid);
            assert_eq!(
                MetadataDocument::OAuthAuthorizationServer.url(&issuer),
                oauth
            );
        }
    }

    #[test]
    fn a_document_must_name_the_same_issuer_exactly() {
        let ours = issuer("https://tenant.example/");
        let url = "https://tenant.example/.well-known/openid-configuration";
        let parse = |body: &str| IssuerMetadata::parse(&ours, url, body.as_bytes().to_vec());

        let metadata = parse(
            r#"{"issuer":"https://tenant.example/","token_endpoint":"https://tenant.example/oauth/token","jwks_uri":"https://tenant.example/.well-known/jwks.json"}"#,
        )
        .unwrap();
        assert_eq!(
            metadata.token_endpoint().unwrap().as_str(),
            "https://tenant.example/oauth/token"
        );
        assert_eq!(
            metadata.jwks_uri().unwrap().as_str(),
            "https://tenant.example/.well-known/jwks.json"
        );
        assert!(metadata.document().starts_with(br#"{"issuer""#));

        for (body, found) in [
            (
                r#"{"issuer":"https://tenant.example","token_endpoint":"https://tenant.example/oauth/token"}"#,
                Some("https://tenant.example"),
            ),
            (
                r#"{"issuer":"https://evil.example/"}"#,
                Some("https://evil.example/"),
            ),
            (r#"{"issuer":1}"#, None),
            (r#"{}"#, None),
        ] {
            assert_eq!(
                parse(body).unwrap_err(),
                DiscoveryError::IssuerMismatch {
                    url: url.to_owned(),
                    found: found.map(str::to_owned),
                    expected: "https://tenant.example/".to_owned(),
                },
                "{body}"
            );
        }
        for body in ["[]", "not json", r#""https://tenant.example/""#] {
            assert_eq!(
                parse(body).unwrap_err(),
                DiscoveryError::NotAnObject {
                    url: url.to_owned()
                },
                "{body}"
            );
        }
    }

    #[test]
    fn only_application_json_counts_as_json() {
        let answer = |content_type: Option<&str>| BoundedAnswer {
            content_type: content_type.map(str::to_owned),
            body: Vec::new(),
        };
        assert!(answer(Some("application/json")).is_json());
        assert!(answer(Some("Application/JSON; charset=utf-8")).is_json());
        assert!(!answer(Some("text/html")).is_json());
        assert!(!answer(Some("application/jwk-set+json")).is_json());
        assert!(!answer(None).is_json());
    }

    #[test]
    fn an_endpoint_that_is_missing_or_not_http_is_named() {
        let ours = issuer("https://tenant.example/");
        let metadata = IssuerMetadata::parse(
            &ours,
            "https://tenant.example/.well-known/openid-configuration",
            br#"{"issuer":"https://tenant.example/","jwks_uri":"file:///etc/passwd","token_endpoint":"not a url"}"#.to_vec(),
        )
        .unwrap();
        let missing = |field| DiscoveryError::MissingEndpoint {
            issuer: "https://tenant.example/".to_owned(),
            field,
        };
        assert_eq!(metadata.jwks_uri().unwrap_err(), missing("jwks_uri"));
        assert_eq!(
            metadata.token_endpoint().unwrap_err(),
            missing("token_endpoint")
        );
        assert_eq!(
            missing("token_endpoint").to_string(),
            "the metadata of https://tenant.example/ has no valid token_endpoint"
        );
    }
}
