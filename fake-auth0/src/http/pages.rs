//! The HTML pages fake-auth0 shows a person: the login form, the consent page of
//! third-party clients, and the error page (errors before the client and redirect URI are
//! trusted are shown, never redirected: RFC 6749 §4.1.2.1). Templates are askama's,
//! compiled in from `templates/`.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

use crate::grants::ConsentGroup;
use crate::model::Tenant;

/// The login form of a login transaction.
#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage<'a> {
    pub tenant_name: &'a str,
    pub client_name: &'a str,
    pub transaction: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// The consent page a third-party client's user sees after logging in.
#[derive(Template)]
#[template(path = "consent.html")]
pub(super) struct ConsentPage<'a> {
    pub tenant_name: &'a str,
    pub client_name: &'a str,
    pub user_email: &'a str,
    pub api_name: Option<&'a str>,
    /// Exactly what the token will carry, computed by the grants' scope policy.
    pub groups: &'a [ConsentGroup],
    pub transaction: &'a str,
    /// For a client known by its Client ID Metadata Document: what the draft says the
    /// user must see.
    pub metadata_document: Option<MetadataDocumentNotice>,
}

/// The hosts a user consenting to a metadata-document client is shown, and whether every
/// redirect URI it lists is loopback (the draft asks for a warning then).
pub(super) struct MetadataDocumentNotice {
    pub client_id_host: String,
    pub redirect_host: String,
    pub loopback_only: bool,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

/// An HTML error page (never a redirect).
pub(super) fn error_page(message: &str) -> String {
    ErrorPage { message }
        .render()
        .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".to_owned())
}

/// An error page with `status`, logged.
pub(super) fn error_response(status: StatusCode, message: &str) -> Response {
    tracing::info!(message, "authorization request shown an error page");
    (status, Html(error_page(message))).into_response()
}

/// A page as a response; a template that fails to render is a 500 error page.
pub(super) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown",
            )
        }
    }
}

/// The name pages show for the tenant (its `friendly_name`).
pub(super) fn tenant_name(tenant: &Tenant) -> &str {
    tenant
        .settings
        .friendly_name
        .as_deref()
        .unwrap_or("fake-auth0")
}
