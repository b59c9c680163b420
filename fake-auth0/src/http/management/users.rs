//! `/api/v2/users` and `/api/v2/users-by-email`: finding users (never their passwords).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Serialize;

use super::{ManagementError, authorize, list_response, parse_query, query_param};
use crate::model::{Tenant, User};
use crate::state::AppState;

/// A user as the Management API shows it.
#[derive(Serialize)]
struct UserView<'a> {
    user_id: &'a str,
    email: &'a str,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<&'a str>,
    blocked: bool,
    identities: [Identity<'a>; 1],
}

/// The user's identity in the tenant's database connection.
#[derive(Serialize)]
struct Identity<'a> {
    connection: &'a str,
    provider: &'static str,
    user_id: &'a str,
    #[serde(rename = "isSocial")]
    is_social: bool,
}

fn view<'a>(tenant: &'a Tenant, user: &'a User) -> UserView<'a> {
    UserView {
        user_id: &user.user_id,
        email: &user.email,
        email_verified: user.email_verified,
        name: user.name.as_deref(),
        nickname: user.nickname.as_deref(),
        blocked: user.blocked,
        identities: [Identity {
            connection: &tenant.connection.name,
            provider: "auth0",
            user_id: user.user_id.strip_prefix("auth0|").unwrap_or(&user.user_id),
            is_social: false,
        }],
    }
}

/// A Lucene query fake-auth0 understands: `email:"…"`, `email:…`, `user_id:"…"`.
enum UserQuery {
    All,
    Email(String),
    UserId(String),
}

impl UserQuery {
    fn parse(q: &str) -> Option<UserQuery> {
        let q = q.trim();
        if q.is_empty() {
            return Some(UserQuery::All);
        }
        let (field, value) = q.split_once(':')?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.is_empty() || value.contains([' ', '*', '"']) {
            return None;
        }
        match field.trim() {
            "email" => Some(UserQuery::Email(value.to_owned())),
            "user_id" => Some(UserQuery::UserId(value.to_owned())),
            _ => None,
        }
    }

    fn matches(&self, user: &User) -> bool {
        match self {
            UserQuery::All => true,
            UserQuery::Email(email) => user.email.eq_ignore_ascii_case(email),
            UserQuery::UserId(id) => user.user_id == *id,
        }
    }
}

/// `GET /api/v2/users?q=email:"…"`: searches users; other Lucene queries answer 501.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:users")?;
    let query = parse_query(query.as_deref())?;
    let q = query_param(&query, "q").unwrap_or_default();
    let Some(search) = UserQuery::parse(q) else {
        return Err(ManagementError::not_implemented(format!(
            "GET /api/v2/users with q=`{q}` (only email:\"…\" and user_id:\"…\" are)"
        )));
    };
    let tenant = state.tenant();
    let views = tenant
        .users
        .iter()
        .filter(|user| search.matches(user))
        .map(|user| view(&tenant, user))
        .collect();
    list_response("users", views, &query)
}

/// `GET /api/v2/users-by-email?email=…`: the users with this email (case-insensitive).
pub(super) async fn by_email(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:users")?;
    let query = parse_query(query.as_deref())?;
    let Some(email) = query_param(&query, "email") else {
        return Err(ManagementError::invalid_query(
            "Query validation error: email is required",
        ));
    };
    let tenant = state.tenant();
    let views: Vec<UserView<'_>> = tenant
        .users
        .iter()
        .filter(|user| user.email.eq_ignore_ascii_case(email))
        .map(|user| view(&tenant, user))
        .collect();
    Ok(Json(views).into_response())
}

/// `GET /api/v2/users/{id}`.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Response, ManagementError> {
    authorize(&state, &headers, "read:users")?;
    let tenant = state.tenant();
    let user = tenant
        .user_by_id(&user_id)
        .ok_or_else(|| ManagementError::not_found_of("user", "The user does not exist."))?;
    Ok(Json(view(&tenant, user)).into_response())
}
