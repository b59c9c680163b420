//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3), as Auth0
//! does it.
//!
//! A client with a secret proves it with `client_secret_basic` (HTTP Basic, RFC 6749
//! §2.3.1) or `client_secret_post` (the secret in the body), whichever of the two its
//! registered `token_endpoint_auth_method` names: Auth0's own SDKs authenticate the same
//! quickstart client with Basic (Python) and with the body (JavaScript), and Auth0 accepts
//! both. A public client (`none`) names itself with `client_id` and sends no secret. Both
//! methods at once, a missing or wrong secret, or a secret from a public client are
//! `invalid_client`. Secrets are compared in constant time. The log says why a client was
//! refused; the response does not.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

use crate::model::{Client, TokenEndpointAuthMethod};
use crate::oauth::{FormParams, OAuthError};
use crate::state::AppState;

/// A client that proved who it is (or, for public clients, named itself).
#[derive(Debug, Clone)]
pub(crate) struct AuthenticatedClient {
    pub client: Arc<Client>,
    /// How it authenticated.
    pub method: TokenEndpointAuthMethod,
}

struct BasicCredentials {
    client_id: String,
    client_secret: String,
}

/// Authenticates the client of a token-endpoint request from its headers and parameters.
pub(crate) fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &FormParams,
) -> Result<AuthenticatedClient, OAuthError> {
    let basic = basic_credentials(headers)?;
    let (client_id, secret, method) = match (&basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            tracing::info!("client authentication failed: Basic and a body secret at once");
            return Err(
                OAuthError::invalid_client("Use only one client authentication method")
                    .with_www_authenticate("Basic realm=\"fake-auth0\""),
            );
        }
        (Some(basic), None) => {
            if let Some(body_id) = params.get("client_id")
                && body_id != basic.client_id
            {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ));
            }
            (
                basic.client_id.as_str(),
                Some(basic.client_secret.as_str()),
                TokenEndpointAuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(secret)) => (
            params.require("client_id")?,
            Some(secret),
            TokenEndpointAuthMethod::ClientSecretPost,
        ),
        (None, None) => (
            params.require("client_id")?,
            None,
            TokenEndpointAuthMethod::None,
        ),
    };
    let challenge = |error: OAuthError| {
        if basic.is_some() {
            error.with_www_authenticate("Basic realm=\"fake-auth0\"")
        } else {
            error
        }
    };
    let Some(client) = state.client(client_id) else {
        tracing::info!(client_id, "client authentication failed: unknown client");
        return Err(challenge(OAuthError::invalid_client("Unknown client")));
    };
    let registered = client.token_endpoint_auth_method;
    if !registered.accepts(method) {
        tracing::info!(
            client_id,
            registered = registered.as_str(),
            used = method.as_str(),
            "client authentication failed: method not accepted for this client"
        );
        let description = if client.is_confidential() {
            "Client authentication is required (client_secret_basic or client_secret_post)"
        } else {
            "This client is public and must not send a client secret"
        };
        return Err(challenge(OAuthError::invalid_client(description)));
    }
    if let Some(secret) = secret {
        let matches = client
            .client_secret
            .as_ref()
            .is_some_and(|expected| expected.matches(secret));
        if !matches {
            tracing::info!(client_id, "client authentication failed: wrong secret");
            return Err(challenge(OAuthError::invalid_client(
                "Client authentication failed",
            )));
        }
    }
    Ok(AuthenticatedClient { client, method })
}

/// Parses `Authorization: Basic` credentials; the id and secret are form-urlencoded inside
/// (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("Malformed Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request(
            "Only Basic authentication is accepted at this endpoint",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={}", s.replace('&', "%26")))
                .map_err(|_| malformed())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some(BasicCredentials {
        client_id: unescape(id)?,
        client_secret: unescape(secret)?,
    }))
}
