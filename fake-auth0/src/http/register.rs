//! `/oidc/register`: OAuth 2.0 Dynamic Client Registration (RFC 7591) at Auth0's path.
//!
//! MCP clients register themselves here. Registered clients are third party (they get a
//! consent step), may be public (`none`) or confidential, and may use only the
//! authorization_code and refresh_token grants. Redirect URIs must be https, or http on
//! a loopback host (RFC 8252 §7.3).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::model::{
    AppType, Client, ClientSecret, ExternalMetadataType, GrantType, TokenEndpointAuthMethod,
};
use crate::oauth::{OAuthError, random_token};
use crate::state::AppState;

/// The registration request members fake-auth0 reads (RFC 7591 §2); others are ignored.
#[derive(Debug, Deserialize)]
struct RegistrationRequest {
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// The registration response (RFC 7591 §3.2.1).
#[derive(Debug, Serialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    client_id_issued_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<u64>,
    client_name: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<&'static str>,
    response_types: [&'static str; 1],
    token_endpoint_auth_method: &'static str,
}

/// `POST /oidc/register`.
pub(crate) async fn register(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let registered = match handle(&state, body) {
        // The client is committed (with a data dir) before it is acknowledged.
        Ok((client, response)) => state.register_client(client).await.map(|()| response),
        Err(error) => Err(error),
    };
    match registered {
        Ok(response) => {
            let mut response = (StatusCode::CREATED, Json(response)).into_response();
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => {
            tracing::info!(error = %error.code, description = %error.description, "registration rejected");
            error.into_response()
        }
    }
}

/// Validates a registration; returns the client to store and the response to send.
fn handle(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Client, RegistrationResponse), OAuthError> {
    let body = body.map_err(|rejection| {
        OAuthError::invalid_client_metadata("The request body could not be read")
            .with_status(rejection.status())
    })?;
    let request: RegistrationRequest = serde_json::from_slice(&body).map_err(|error| {
        OAuthError::invalid_client_metadata(format!(
            "The body is not valid client metadata: {error}"
        ))
    })?;
    let redirect_uris = request.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri(
            "redirect_uris is required",
        ));
    }
    for uri in &redirect_uris {
        crate::oauth::redirect_uri::check_registrable(uri)
            .map_err(OAuthError::invalid_redirect_uri)?;
    }
    let method = match request.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic") => TokenEndpointAuthMethod::ClientSecretBasic,
        Some("client_secret_post") => TokenEndpointAuthMethod::ClientSecretPost,
        Some("none") => TokenEndpointAuthMethod::None,
        Some(other) => {
            return Err(OAuthError::invalid_client_metadata(format!(
                "Unsupported token_endpoint_auth_method: {other}"
            )));
        }
    };
    let mut grant_types = Vec::new();
    for grant in request
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".to_owned()])
    {
        match GrantType::parse(&grant) {
            Some(grant @ (GrantType::AuthorizationCode | GrantType::RefreshToken)) => {
                if !grant_types.contains(&grant) {
                    grant_types.push(grant);
                }
            }
            _ => {
                return Err(OAuthError::invalid_client_metadata(format!(
                    "Unsupported grant type for a registered client: {grant}"
                )));
            }
        }
    }
    if let Some(response_types) = &request.response_types
        && response_types.iter().any(|r| r != "code")
    {
        return Err(OAuthError::invalid_client_metadata(
            "Only the response type \"code\" is supported",
        ));
    }
    let client_id = random_token(24);
    let secret = (method != TokenEndpointAuthMethod::None).then(|| random_token(32));
    let client_name = request
        .client_name
        .unwrap_or_else(|| "Dynamically registered client".to_owned());
    let client = Client {
        client_id: client_id.clone(),
        client_secret: secret.clone().map(ClientSecret::new),
        name: client_name.clone(),
        app_type: AppType::Native,
        resource_server_identifier: None,
        is_first_party: false,
        grant_types: grant_types.clone(),
        callbacks: redirect_uris.clone(),
        allowed_logout_urls: Vec::new(),
        token_endpoint_auth_method: method,
        token_exchange: None,
        external_client_id: None,
        external_metadata_type: Some(ExternalMetadataType::Dcr),
        third_party_security_mode: None,
    };
    tracing::info!(%client_id, client_name, method = method.as_str(), "client registered");
    let response = RegistrationResponse {
        client_id,
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret,
        client_id_issued_at: state.now(),
        client_name,
        redirect_uris,
        grant_types: grant_types.iter().map(|g| g.as_str()).collect(),
        response_types: ["code"],
        token_endpoint_auth_method: method.as_str(),
    };
    Ok((client, response))
}
