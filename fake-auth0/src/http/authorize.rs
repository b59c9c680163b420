//! `/authorize` with the login (`/u/login`) and consent (`/u/consent`) pages: the
//! authorization code flow of RFC 6749 §4.1 with PKCE S256 required (RFC 7636) and the
//! `iss` response parameter (RFC 9207).
//!
//! Until the client and redirect URI are known to be good, errors are shown as a page and
//! never redirected (RFC 6749 §4.1.2.1); after that, they go back to the client. The
//! request is kept server side as a login transaction, so the pages carry only its id.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use url::Url;

use super::pages::{
    ConsentPage, LoginPage, MetadataDocumentNotice, error_response, listed_users, render,
    tenant_name,
};
use crate::grants::{consent_groups, resolve_api};
use crate::model::{Client, GrantType};
use crate::oauth::{FormParams, OAuthError, client_metadata, pkce, random_token, redirect_uri};
use crate::state::{
    AppState, AuthorizationCode, CODE_LIFETIME, LOGIN_TRANSACTION_LIFETIME, LoginTransaction,
};

/// A 302 to the client's redirect URI with the given parameters plus `iss` (RFC 9207).
fn redirect_to_client(
    state: &AppState,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_response(StatusCode::BAD_REQUEST, "Invalid redirect_uri");
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(client_state) = client_state {
            query.append_pair("state", client_state);
        }
        query.append_pair("iss", state.issuer());
    }
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            response
                .headers_mut()
                .insert(http::header::LOCATION, location);
            response
        }
        Err(_) => error_response(StatusCode::BAD_REQUEST, "Invalid redirect_uri"),
    }
}

fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    error: &OAuthError,
    client_state: Option<&str>,
) -> Response {
    tracing::info!(
        error = %error.code,
        description = %error.description,
        "authorization request rejected"
    );
    redirect_to_client(
        state,
        redirect_uri,
        &[
            ("error", error.code.as_str()),
            ("error_description", &error.description),
        ],
        client_state,
    )
}

/// The parameters of a page's query; for a malformed one, the message of the error page
/// to show (never a redirect: nothing in it is trusted yet).
fn page_query(query: Option<String>) -> Result<FormParams, String> {
    FormParams::parse_urlencoded(query.unwrap_or_default().as_bytes())
        .map_err(|error| error.description)
}

/// `GET /authorize`.
pub(crate) async fn authorize(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match page_query(query) {
        Ok(params) => params,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, &message),
    };
    let Some(client_id) = params.get("client_id") else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: client_id",
        );
    };
    let mut client = match resolve_client(&state, client_id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: redirect_uri",
        );
    };
    if !redirect_uri::matches_callback(&client.callbacks, redirect_uri)
        && client_metadata::is_url_shaped(client_id)
    {
        // A cached metadata document that no longer fits is fetched again (documents
        // change); the new one decides.
        state.client_metadata.forget(client_id);
        client = match resolve_client(&state, client_id).await {
            Ok(client) => client,
            Err(page) => return page,
        };
    }
    if !redirect_uri::matches_callback(&client.callbacks, redirect_uri) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is not in the client's Allowed Callback URLs",
        );
    }
    // From here on the redirect URI is trusted, and errors go back to the client.
    let client_state = params.get("state");
    match check_request(&state, &client, &params) {
        Ok(transaction) => {
            let id = random_token(24);
            let now = state.now();
            state.stores.transactions.insert(
                id.clone(),
                transaction,
                now + LOGIN_TRANSACTION_LIFETIME,
                now,
            );
            let tenant = state.tenant();
            render(&LoginPage {
                tenant_name: tenant_name(&tenant),
                client_name: &client.name,
                transaction: &id,
                username: "",
                password: "",
                error: None,
                users: listed_users(&tenant, &id),
            })
        }
        Err(error) => redirect_error(&state, redirect_uri, &error, client_state),
    }
}

/// The client a request names (fetching its metadata document when that is how the
/// tenant knows it), or the error page to show.
async fn resolve_client(state: &AppState, client_id: &str) -> Result<Arc<Client>, Response> {
    match state.resolve_client(client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(error_response(StatusCode::BAD_REQUEST, "Unknown client")),
        Err(description) => Err(error_response(
            StatusCode::BAD_REQUEST,
            &format!("invalid_client: {description}"),
        )),
    }
}

/// What the consent page shows about a client known by its metadata document.
fn metadata_document_notice(client: &Client, redirect_uri: &str) -> Option<MetadataDocumentNotice> {
    if !client_metadata::is_url_shaped(&client.client_id) {
        return None;
    }
    let host = |uri: &str| {
        Url::parse(uri)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default()
    };
    Some(MetadataDocumentNotice {
        client_id_host: host(&client.client_id),
        redirect_host: host(redirect_uri),
        loopback_only: client
            .callbacks
            .iter()
            .all(|callback| Url::parse(callback).is_ok_and(|url| redirect_uri::is_loopback(&url))),
    })
}

/// Validates an authorization request whose client and redirect URI are good.
fn check_request(
    state: &AppState,
    client: &Client,
    params: &FormParams,
) -> Result<LoginTransaction, OAuthError> {
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                crate::oauth::ErrorCode::UnsupportedResponseType,
                format!("Unsupported response_type: {other}"),
            ));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: response_type",
            ));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::unauthorized_client(
            "The client may not use the authorization code grant",
        ));
    }
    let Some(challenge) = params.get("code_challenge") else {
        return Err(OAuthError::invalid_request(
            "PKCE is required: missing code_challenge",
        ));
    };
    if params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    if !pkce::is_valid_s256_challenge(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge is not a base64url SHA-256 digest",
        ));
    }
    if params.get("prompt") == Some("none") {
        return Err(OAuthError::custom(
            "login_required",
            "fake-auth0 keeps no login session; prompt=none cannot succeed",
        ));
    }
    let tenant = state.tenant();
    let api = resolve_api(&tenant, params)?;
    Ok(LoginTransaction {
        client_id: client.client_id.clone(),
        redirect_uri: params.get("redirect_uri").unwrap_or_default().to_owned(),
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: challenge.to_owned(),
        api: api.map(|api| api.identifier.clone()),
        requested_scopes: params.scopes(),
        user_id: None,
        auth_time: 0,
    })
}

/// Reads the form a login or consent page posted and the id of the login transaction it
/// continues; the error is the page to show.
fn transaction_form(
    body: Result<Bytes, BytesRejection>,
) -> Result<(FormParams, String), (StatusCode, String)> {
    let body =
        body.map_err(|rejection| (rejection.status(), "The form could not be read".to_owned()))?;
    let params = FormParams::parse_urlencoded(&body)
        .map_err(|error| (StatusCode::BAD_REQUEST, error.description))?;
    let id = params
        .get("transaction")
        .ok_or_else(|| (StatusCode::BAD_REQUEST, EXPIRED.to_owned()))?
        .to_owned();
    Ok((params, id))
}

/// What a login or consent page without a live login transaction shows.
const EXPIRED: &str =
    "This login session has expired or is unknown; start again from the application";

fn expired() -> Response {
    error_response(StatusCode::BAD_REQUEST, EXPIRED)
}

/// `GET /u/login?transaction=…&user=…`: the login form of a live login transaction again,
/// filled in for a user the page lists (a tenant with `login_page_lists_users`); plain
/// links do this, so picking a user needs no JavaScript.
pub(crate) async fn login_form(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match page_query(query) {
        Ok(params) => params,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, &message),
    };
    let Some(id) = params.get("transaction") else {
        return expired();
    };
    let Some(transaction) = state.stores.transactions.get(id, state.now()) else {
        return expired();
    };
    let Some(client) = state.client(&transaction.client_id) else {
        return expired();
    };
    let tenant = state.tenant();
    let picked = params
        .get("user")
        .filter(|_| tenant.settings.login_page_lists_users)
        .and_then(|email| tenant.user_by_email(email));
    render(&LoginPage {
        tenant_name: tenant_name(&tenant),
        client_name: &client.name,
        transaction: id,
        username: picked.map_or("", |user| user.email.as_str()),
        password: picked.map_or("", |user| user.password.expose()),
        error: None,
        users: listed_users(&tenant, id),
    })
}

/// `POST /u/login`: checks the password, then redirects with a code (first-party clients)
/// or shows the consent page (third-party clients).
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (params, id) = match transaction_form(body) {
        Ok(form) => form,
        Err((status, message)) => return error_response(status, &message),
    };
    let id = id.as_str();
    let now = state.now();
    let Some(mut transaction) = state.stores.transactions.get(id, now) else {
        return expired();
    };
    let Some(client) = state.client(&transaction.client_id) else {
        return expired();
    };
    let username = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    let tenant = state.tenant();
    let user = tenant
        .user_by_email(username)
        .filter(|user| user.password.matches(password));
    let error = match user {
        None => Some("Wrong email or password."),
        Some(user) if user.blocked => Some("This user is blocked."),
        Some(_) => None,
    };
    let Some(user) = user.filter(|_| error.is_none()) else {
        tracing::info!(client_id = %client.client_id, "login failed: wrong email or password, or blocked user");
        return render(&LoginPage {
            tenant_name: tenant_name(&tenant),
            client_name: &client.name,
            transaction: id,
            username,
            password: "",
            error,
            users: listed_users(&tenant, id),
        });
    };
    transaction.user_id = Some(user.user_id.clone());
    transaction.auth_time = now;
    if client.is_first_party {
        state.stores.transactions.take(id, now);
        return issue_code(&state, transaction);
    }
    state
        .stores
        .transactions
        .update(id, transaction.clone(), now);
    let api = transaction
        .api
        .as_deref()
        .and_then(|identifier| tenant.resource_server(identifier));
    let groups = consent_groups(&tenant, &client, user, api, &transaction.requested_scopes);
    render(&ConsentPage {
        tenant_name: tenant_name(&tenant),
        client_name: &client.name,
        user_email: &user.email,
        api_name: api.map(|api| api.name.as_str()),
        groups: &groups,
        transaction: id,
        metadata_document: metadata_document_notice(&client, &transaction.redirect_uri),
    })
}

/// `POST /u/consent`: accept → code; deny → `access_denied`.
pub(crate) async fn consent(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (params, id) = match transaction_form(body) {
        Ok(form) => form,
        Err((status, message)) => return error_response(status, &message),
    };
    let id = id.as_str();
    let now = state.now();
    let Some(transaction) = state.stores.transactions.take(id, now) else {
        return expired();
    };
    if transaction.user_id.is_none() {
        return expired();
    }
    match params.get("action") {
        Some("accept") => issue_code(&state, transaction),
        Some("deny") => redirect_error(
            &state,
            &transaction.redirect_uri,
            &OAuthError::access_denied("User did not authorize the request"),
            transaction.state.as_deref(),
        ),
        _ => error_response(StatusCode::BAD_REQUEST, "action must be accept or deny"),
    }
}

/// Issues a single-use, short-lived code for a logged-in transaction and redirects.
fn issue_code(state: &AppState, transaction: LoginTransaction) -> Response {
    let Some(user_id) = transaction.user_id else {
        return expired();
    };
    let code = random_token(32);
    let now = state.now();
    state.stores.codes.insert(
        code.clone(),
        AuthorizationCode {
            client_id: transaction.client_id.clone(),
            redirect_uri: transaction.redirect_uri.clone(),
            code_challenge: transaction.code_challenge,
            user_id,
            nonce: transaction.nonce,
            api: transaction.api,
            requested_scopes: transaction.requested_scopes,
            auth_time: transaction.auth_time,
        },
        now + CODE_LIFETIME,
        now,
    );
    tracing::debug!(client_id = %transaction.client_id, "authorization code issued");
    redirect_to_client(
        state,
        &transaction.redirect_uri,
        &[("code", &code)],
        transaction.state.as_deref(),
    )
}
