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
    /// Filled in only for a user picked from `users` (public demo passwords).
    pub password: &'a str,
    pub error: Option<&'a str>,
    /// The tenant's users, for a tenant with `login_page_lists_users`; empty otherwise.
    pub users: Vec<ListedUser<'a>>,
}

/// A user the login page lists: a plain link that shows the form filled in for them, so
/// picking one works without JavaScript.
pub(super) struct ListedUser<'a> {
    pub email: &'a str,
    /// The role names, comma-separated; empty for a user without roles.
    pub roles: String,
    /// `/u/login?transaction=…&user=…`.
    pub href: String,
}

/// The users a login page of `transaction` lists (none unless the tenant asks for it).
pub(super) fn listed_users<'a>(tenant: &'a Tenant, transaction: &str) -> Vec<ListedUser<'a>> {
    if !tenant.settings.login_page_lists_users {
        return Vec::new();
    }
    tenant
        .users
        .iter()
        .filter(|user| !user.blocked)
        .map(|user| ListedUser {
            email: &user.email,
            roles: user.roles.join(", "),
            href: format!(
                "/u/login?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("transaction", transaction)
                    .append_pair("user", &user.email)
                    .finish()
            ),
        })
        .collect()
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
