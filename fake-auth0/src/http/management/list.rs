//! List answers as Auth0 pages them: `page` (from 0) and `per_page` (default 50, at most
//! 100), a bare array or, with `include_totals=true`, Auth0's paged object.

use serde::Serialize;

use super::error::ManagementError;
use super::request::query_param;

/// One page of a list, as Auth0 pages with `page` (from 0) and `per_page` (default 50, at
/// most 100).
pub(super) struct Page<T> {
    pub(super) items: Vec<T>,
    pub(super) page: usize,
    pub(super) per_page: usize,
    pub(super) start: usize,
    pub(super) total: usize,
}

pub(super) fn page_of<T>(
    items: Vec<T>,
    query: &[(String, String)],
) -> Result<Page<T>, ManagementError> {
    let number = |param: &str, default: usize| -> Result<usize, ManagementError> {
        query_param(query, param).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ManagementError::invalid_query(format!("{param} must be a number")))
        })
    };
    let per_page = number("per_page", 50)?.clamp(1, 100);
    let page = number("page", 0)?;
    let total = items.len();
    let start = page.saturating_mul(per_page).min(total);
    Ok(Page {
        items: items.into_iter().skip(start).take(per_page).collect(),
        page,
        per_page,
        start,
        total,
    })
}

/// A list answer: the bare array, or with `include_totals=true` Auth0's paged object
/// (`{"<name>": […], "start", "limit", "length", "total"}`). `page` and `per_page` page it.
pub(super) fn list_response<T: Serialize>(
    name: &str,
    items: Vec<T>,
    query: &[(String, String)],
) -> Result<axum::response::Response, ManagementError> {
    use axum::response::IntoResponse;
    let page = page_of(items, query)?;
    if query_param(query, "include_totals") == Some("true") {
        let mut body = serde_json::Map::new();
        body.insert(
            name.to_owned(),
            serde_json::to_value(&page.items).map_err(|_| ManagementError::internal())?,
        );
        body.insert("start".to_owned(), page.start.into());
        body.insert("limit".to_owned(), page.per_page.into());
        body.insert("length".to_owned(), page.items.len().into());
        body.insert("total".to_owned(), page.total.into());
        return Ok(axum::Json(body).into_response());
    }
    Ok(axum::Json(page.items).into_response())
}
