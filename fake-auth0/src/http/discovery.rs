//! Discovery documents (OpenID Connect Discovery 1.0, RFC 8414) and the JWK set.
//!
//! Both metadata paths serve the same document: MCP clients read RFC 8414's, OIDC
//! libraries read OpenID's. Every URL is built from the issuer, as Auth0's are.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::keys::JwkSet;
use crate::model::GrantType;
use crate::state::AppState;

/// The authorization server metadata (RFC 8414 §2).
#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    registration_endpoint: String,
    userinfo_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: Vec<String>,
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    grant_types_supported: Vec<&'static str>,
    subject_types_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    revocation_endpoint_auth_methods_supported: [&'static str; 3],
    code_challenge_methods_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    claims_supported: [&'static str; 11],
    authorization_response_iss_parameter_supported: bool,
    request_parameter_supported: bool,
    /// draft-ietf-oauth-client-id-metadata-document: an https URL may be the `client_id`.
    client_id_metadata_document_supported: bool,
}

fn metadata(state: &AppState) -> Metadata {
    let issuer = state.issuer();
    let mut scopes_supported: Vec<String> = ["openid", "profile", "email", "offline_access"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for api in &state.tenant().resource_servers {
        for scope in &api.scopes {
            if !scopes_supported.contains(&scope.value) {
                scopes_supported.push(scope.value.clone());
            }
        }
    }
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    Metadata {
        issuer: issuer.to_owned(),
        authorization_endpoint: format!("{issuer}authorize"),
        token_endpoint: format!("{issuer}oauth/token"),
        jwks_uri: format!("{issuer}.well-known/jwks.json"),
        registration_endpoint: format!("{issuer}oidc/register"),
        userinfo_endpoint: format!("{issuer}userinfo"),
        revocation_endpoint: format!("{issuer}oauth/revoke"),
        end_session_endpoint: format!("{issuer}v2/logout"),
        scopes_supported,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
        subject_types_supported: ["public"],
        token_endpoint_auth_methods_supported: auth_methods,
        revocation_endpoint_auth_methods_supported: auth_methods,
        code_challenge_methods_supported: ["S256"],
        id_token_signing_alg_values_supported: ["RS256"],
        claims_supported: [
            "aud",
            "auth_time",
            "email",
            "email_verified",
            "exp",
            "iat",
            "iss",
            "name",
            "nickname",
            "nonce",
            "sub",
        ],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        client_id_metadata_document_supported: state
            .tenant()
            .settings
            .client_id_metadata_document_supported,
    }
}

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(State(state): State<Arc<AppState>>) -> Json<Metadata> {
    Json(metadata(&state))
}

/// `GET /.well-known/oauth-authorization-server`.
pub(crate) async fn authorization_server_metadata(
    State(state): State<Arc<AppState>>,
) -> Json<Metadata> {
    Json(metadata(&state))
}

/// `GET /.well-known/jwks.json`: the public signing keys.
pub(crate) async fn jwks(State(state): State<Arc<AppState>>) -> Json<JwkSet> {
    Json(state.tokens.keys().jwks(state.now()))
}
