//! `/v2/logout`: Auth0's logout endpoint. fake-auth0 keeps no login session, so logging
//! out only redirects to `returnTo` when the client allows that URL.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use super::pages::error_page;
use crate::oauth::FormParams;
use crate::state::AppState;

/// `GET /v2/logout?client_id=…&returnTo=…`.
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match FormParams::parse_urlencoded(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Html(error_page(&error.description)),
            )
                .into_response();
        }
    };
    let Some(return_to) = params.get("returnTo") else {
        return Html("<!doctype html><title>Logged out</title><p>You are logged out.</p>")
            .into_response();
    };
    let allowed = params
        .get("client_id")
        .and_then(|id| state.client(id))
        .is_some_and(|client| {
            client
                .allowed_logout_urls
                .iter()
                .any(|url| url == return_to)
        });
    let location = HeaderValue::from_str(return_to).ok();
    if let (true, Some(location)) = (allowed, location) {
        // 302, as Auth0 answers.
        (StatusCode::FOUND, [(http::header::LOCATION, location)]).into_response()
    } else {
        tracing::info!("logout: returnTo is not an allowed logout URL of the client");
        (
            StatusCode::BAD_REQUEST,
            Html(error_page(
                "returnTo is not in the client's Allowed Logout URLs",
            )),
        )
            .into_response()
    }
}
