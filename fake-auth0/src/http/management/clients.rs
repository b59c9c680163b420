//! `/api/v2/clients`: the tenant's applications. A created client gets a generated
//! `client_id` and, unless public, a `client_secret`, and can get tokens at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ManagementBody;
use super::{
    ManagementError, authorize, commit, list_response, parse_body, parse_query, random_id,
};
use crate::model::{
    AppType, Client, ClientSecret, ClientTokenExchange, GrantType, TokenEndpointAuthMethod,
};
use crate::state::AppState;

/// The scope that reveals client secrets in reads, as in Auth0.
const READ_CLIENT_KEYS: &str = "read:client_keys";

/// Auth0's `jwt_configuration`; fake-auth0 signs RS256 only.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JwtConfiguration {
    alg: String,
}

/// A client as the Management API shows it.
#[derive(Serialize)]
struct ClientView {
    #[serde(flatten)]
    client: Client,
    /// fake-auth0 is OIDC conformant throughout.
    oidc_conformant: bool,
    jwt_configuration: JwtConfiguration,
}

/// The view of a client; the secret only when `with_secret`.
fn view(client: &Client, with_secret: bool) -> ClientView {
    let mut client = client.clone();
    if !with_secret {
        client.client_secret = None;
    }
    ClientView {
        client,
        oidc_conformant: true,
        jwt_configuration: JwtConfiguration {
            alg: "RS256".to_owned(),
        },
    }
}

fn not_found() -> ManagementError {
    ManagementError::not_found_of("client", "The client does not exist")
}

/// Checks `jwt_configuration`: only RS256 is implemented.
fn check_jwt_configuration(config: Option<&JwtConfiguration>) -> Result<(), ManagementError> {
    match config {
        Some(config) if config.alg != "RS256" => Err(ManagementError::not_implemented(format!(
            "jwt_configuration.alg `{}`",
            config.alg
        ))),
        _ => Ok(()),
    }
}

/// `GET /api/v2/clients` (the tenant's clients; dynamically registered ones are not
/// listed), optionally only the one with `external_client_id`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    let token = authorize(&state, &headers, "read:clients")?;
    let query = parse_query(query.as_deref())?;
    let with_secret = token.has_scope(READ_CLIENT_KEYS);
    let tenant = state.tenant();
    // Looking a metadata-document client up by its URL.
    let external_client_id = super::query_param(&query, "external_client_id");
    let views = tenant
        .clients
        .iter()
        .filter(|client| {
            external_client_id.is_none_or(|url| client.external_client_id.as_deref() == Some(url))
        })
        .map(|client| view(client, with_secret))
        .collect();
    list_response("clients", views, &query)
}

/// `GET /api/v2/clients/{id}`: a tenant client or a dynamically registered one.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ManagementError> {
    let token = authorize(&state, &headers, "read:clients")?;
    let client = state.client(&id).ok_or_else(not_found)?;
    Ok(Json(view(&client, token.has_scope(READ_CLIENT_KEYS))).into_response())
}

/// The body of `POST /api/v2/clients`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClient {
    name: String,
    app_type: Option<AppType>,
    is_first_party: Option<bool>,
    grant_types: Option<Vec<GrantType>>,
    callbacks: Option<Vec<String>>,
    allowed_logout_urls: Option<Vec<String>>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    token_exchange: Option<ClientTokenExchange>,
    /// Accepted: fake-auth0 is OIDC conformant whatever this says.
    #[serde(rename = "oidc_conformant")]
    _oidc_conformant: Option<bool>,
    jwt_configuration: Option<JwtConfiguration>,
    /// The API a Custom API client (`app_type: resource_server`) stands for.
    resource_server_identifier: Option<String>,
    /// Accepted and ignored.
    #[serde(rename = "description")]
    _description: Option<String>,
}

/// `POST /api/v2/clients` → 201 with the new client, including its secret (shown in full
/// only here and to tokens with `read:client_keys`).
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "create:clients")?;
    let request: CreateClient = parse_body(&body)?;
    check_jwt_configuration(request.jwt_configuration.as_ref())?;
    let app_type = request.app_type.unwrap_or(AppType::RegularWeb);
    let public_by_default = matches!(app_type, AppType::Spa | AppType::Native);
    let method = request
        .token_endpoint_auth_method
        .unwrap_or(if public_by_default {
            TokenEndpointAuthMethod::None
        } else {
            TokenEndpointAuthMethod::ClientSecretPost
        });
    let default_grants = if method == TokenEndpointAuthMethod::None {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    } else {
        vec![
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]
    };
    let client = Client {
        client_id: random_id("", 32),
        client_secret: (method != TokenEndpointAuthMethod::None)
            .then(|| ClientSecret::new(crate::oauth::random_token(48))),
        name: request.name,
        app_type,
        resource_server_identifier: request.resource_server_identifier,
        is_first_party: request.is_first_party.unwrap_or(true),
        grant_types: request.grant_types.unwrap_or(default_grants),
        callbacks: request.callbacks.unwrap_or_default(),
        allowed_logout_urls: request.allowed_logout_urls.unwrap_or_default(),
        token_endpoint_auth_method: method,
        token_exchange: request.token_exchange,
        external_client_id: None,
        external_metadata_type: None,
        third_party_security_mode: None,
    };
    let created = commit(&state, |tenant| {
        tenant.clients.push(client.clone());
        Ok(client)
    })
    .await?;
    tracing::info!(
        client_id = created.client_id,
        "management API: client created"
    );
    Ok((StatusCode::CREATED, Json(view(&created, true))).into_response())
}

/// The body of `PATCH /api/v2/clients/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchClient {
    name: Option<String>,
    app_type: Option<AppType>,
    is_first_party: Option<bool>,
    grant_types: Option<Vec<GrantType>>,
    callbacks: Option<Vec<String>>,
    allowed_logout_urls: Option<Vec<String>>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// `null` removes the client's token-exchange permissions.
    #[serde(default, deserialize_with = "present")]
    token_exchange: Option<Option<ClientTokenExchange>>,
    client_secret: Option<String>,
    resource_server_identifier: Option<String>,
    #[serde(rename = "oidc_conformant")]
    _oidc_conformant: Option<bool>,
    jwt_configuration: Option<JwtConfiguration>,
    #[serde(rename = "description")]
    _description: Option<String>,
}

/// Tells a field set to `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PATCH /api/v2/clients/{id}`: the given fields replace the client's.
pub(super) async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ManagementBody(body): ManagementBody,
) -> Result<Response, ManagementError> {
    let token = authorize(&state, &headers, "update:clients")?;
    let request: PatchClient = parse_body(&body)?;
    check_jwt_configuration(request.jwt_configuration.as_ref())?;
    let updated = commit(&state, |tenant| {
        let Some(client) = tenant.clients.iter_mut().find(|c| c.client_id == id) else {
            if state.client(&id).is_some() {
                return Err(ManagementError::not_implemented(
                    "PATCH of a dynamically registered client",
                ));
            }
            return Err(not_found());
        };
        if let Some(name) = request.name {
            client.name = name;
        }
        if let Some(app_type) = request.app_type {
            client.app_type = app_type;
        }
        if let Some(first_party) = request.is_first_party {
            client.is_first_party = first_party;
        }
        if let Some(grants) = request.grant_types {
            client.grant_types = grants;
        }
        if let Some(callbacks) = request.callbacks {
            client.callbacks = callbacks;
        }
        if let Some(urls) = request.allowed_logout_urls {
            client.allowed_logout_urls = urls;
        }
        if let Some(token_exchange) = request.token_exchange {
            client.token_exchange = token_exchange;
        }
        if let Some(identifier) = request.resource_server_identifier {
            client.resource_server_identifier = Some(identifier);
        }
        if let Some(secret) = request.client_secret {
            client.client_secret = Some(ClientSecret::new(secret));
        }
        if let Some(method) = request.token_endpoint_auth_method {
            client.token_endpoint_auth_method = method;
            if method == TokenEndpointAuthMethod::None {
                client.client_secret = None;
            } else if client.client_secret.is_none() {
                client.client_secret = Some(ClientSecret::new(crate::oauth::random_token(48)));
            }
        }
        Ok(client.clone())
    })
    .await?;
    tracing::info!(
        client_id = updated.client_id,
        "management API: client updated"
    );
    Ok(Json(view(&updated, token.has_scope(READ_CLIENT_KEYS))).into_response())
}
