//! Reading a bearer token from a request (RFC 6750 §2.1), for the routes that accept one:
//! `/userinfo`, the Management API and the control surface. A token in the query or the body is never read.

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
/// case-insensitive), or `None` when there is none, another scheme, or an empty token.
pub(crate) fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}
