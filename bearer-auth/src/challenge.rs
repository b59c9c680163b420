//! RFC 6750 §3 challenges: the one way both resource servers refuse a request.
//!
//! Every value in `WWW-Authenticate` is written as an RFC 9110 §5.6.4 quoted-string with
//! `"` and `\` escaped and control characters removed, so no value, however odd, can end
//! the header early or smuggle a second parameter. The same error is repeated in a small
//! JSON body for clients that do not read headers.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::TokenError;

/// An RFC 6750 §3.1 error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ErrorCode {
    /// The request is malformed (e.g. a token in the query string or a broken header).
    InvalidRequest,
    /// The token is expired, revoked, malformed or invalid for other reasons.
    InvalidToken,
    /// The token lacks the scope the request needs.
    InsufficientScope,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
        }
    }
}

/// A refusal: status, `WWW-Authenticate: Bearer …` and a JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    status: StatusCode,
    error: Option<ErrorCode>,
    description: Option<String>,
    /// Further auth-params in order, e.g. `scope` or `resource_metadata` (RFC 9728 §5.1).
    params: Vec<(String, String)>,
}

impl Challenge {
    /// 401 for a request without a bearer token: `WWW-Authenticate: Bearer` with only the
    /// parameters the caller adds (RFC 6750 §3.1: no error code when no credentials came).
    pub fn missing_token() -> Self {
        Challenge {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: None,
            params: Vec::new(),
        }
    }

    /// 401 `error="invalid_token"` with a short description of `err`.
    ///
    /// [`TokenError::KeysUnavailable`] is not the client's fault and yields
    /// [`Challenge::unavailable`] instead.
    pub fn invalid_token(err: &TokenError) -> Self {
        if err.is_unavailable() {
            return Challenge::unavailable();
        }
        Challenge {
            status: StatusCode::UNAUTHORIZED,
            error: Some(ErrorCode::InvalidToken),
            description: Some(err.to_string()),
            params: Vec::new(),
        }
    }

    /// 401 `error="invalid_request"`: a malformed `Authorization` header, or a token sent
    /// where tokens are refused (the query string). RFC 6750 §3.1 allows 400 here; 401 keeps
    /// the challenge in front of clients that start authorization only on a 401.
    pub fn invalid_request(description: &str) -> Self {
        Challenge {
            status: StatusCode::UNAUTHORIZED,
            error: Some(ErrorCode::InvalidRequest),
            description: Some(description.to_owned()),
            params: Vec::new(),
        }
    }

    /// 403 `error="insufficient_scope"` with `scope="…"` naming what the request needs.
    pub fn insufficient_scope(scope: &str) -> Self {
        Challenge {
            status: StatusCode::FORBIDDEN,
            error: Some(ErrorCode::InsufficientScope),
            description: Some("The access token lacks the required scope".to_owned()),
            params: vec![("scope".to_owned(), scope.to_owned())],
        }
    }

    /// 503 when no signing keys could be loaded yet (cold start while the IdP is down):
    /// the token may be fine, so the client should retry rather than re-authorize.
    pub fn unavailable() -> Self {
        Challenge {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: None,
            description: Some("The signing keys are not available yet; retry shortly".to_owned()),
            params: Vec::new(),
        }
    }

    /// Adds (or replaces) an auth-param, e.g. `resource_metadata` or `scope`.
    ///
    /// A name that is not an RFC 9110 token is ignored; the value is escaped when written.
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            tracing::warn!(
                name,
                "ignoring a challenge parameter whose name is not a token"
            );
            return self;
        }
        match self
            .params
            .iter_mut()
            .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
        {
            Some(param) => param.1 = value.to_owned(),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// The HTTP status this challenge answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The RFC 6750 error code, if any (`invalid_token`, `insufficient_scope`, …).
    pub fn error_code(&self) -> Option<&'static str> {
        self.error.map(ErrorCode::as_str)
    }

    /// The short description the challenge carries, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The response with `body` instead of the OAuth error object: status and headers
    /// (`WWW-Authenticate`, `Retry-After`, `Cache-Control`) unchanged. For protocols whose
    /// clients read errors in a format of their own, such as MCP's JSON-RPC.
    pub fn into_response_with_body(self, body: serde_json::Value) -> Response {
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(value) = self.www_authenticate() {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The `WWW-Authenticate` value; `None` for 503, which is not an authentication failure.
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return None;
        }
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(self.params.len() + 2);
        if let Some(error) = self.error {
            params.push(("error", error.as_str()));
            if let Some(description) = &self.description {
                params.push(("error_description", description));
            }
        }
        params.extend(self.params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut value = String::from("Bearer");
        for (i, (name, raw)) in params.into_iter().enumerate() {
            value.push_str(if i == 0 { " " } else { ", " });
            value.push_str(name);
            value.push_str("=\"");
            push_escaped(&mut value, raw);
            value.push('"');
        }
        // Escaping leaves only visible ASCII and spaces, which is always a valid value.
        Some(HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer")))
    }

    fn body(&self) -> serde_json::Value {
        let error = match (self.error, self.status) {
            (Some(error), _) => error.as_str(),
            (None, StatusCode::SERVICE_UNAVAILABLE) => "temporarily_unavailable",
            (None, _) => "unauthorized",
        };
        let description = self
            .description
            .as_deref()
            .unwrap_or("A bearer access token is required");
        let mut body = json!({ "error": error, "error_description": description });
        if let Some((_, scope)) = self.params.iter().find(|(name, _)| name == "scope") {
            body["scope"] = json!(scope);
        }
        body
    }
}

impl IntoResponse for Challenge {
    fn into_response(self) -> Response {
        let body = self.body();
        self.into_response_with_body(body)
    }
}

/// The auth-params of a `Bearer` challenge (RFC 9110 §11.6.1), in order, values unquoted
/// and unescaped: the inverse of [`Challenge::www_authenticate`], for clients and tests that
/// read a challenge. `None` when `value` is not one `Bearer` challenge of auth-params (a
/// token68, a second challenge, an unterminated quoted-string, a name that is not a token).
pub fn bearer_challenge_params(value: &str) -> Option<Vec<(String, String)>> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = Vec::new();
    let mut rest = rest.trim_start_matches([' ', '\t']);
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| !c.is_ascii() || !is_tchar(c as u8))?;
        let (name, after) = rest.split_at(name_end);
        let after = after.trim_start_matches([' ', '\t']).strip_prefix('=')?;
        let after = after.trim_start_matches([' ', '\t']);
        if name.is_empty() {
            return None;
        }
        let (param_value, after) = match after.strip_prefix('"') {
            Some(quoted) => read_quoted(quoted)?,
            None => {
                let end = after
                    .find(|c: char| !c.is_ascii() || !is_tchar(c as u8))
                    .unwrap_or(after.len());
                if end == 0 {
                    return None;
                }
                (after[..end].to_owned(), &after[end..])
            }
        };
        params.push((name.to_owned(), param_value));
        let after = after.trim_start_matches([' ', '\t']);
        rest = match after.strip_prefix(',') {
            Some(next) => next.trim_start_matches([' ', '\t', ',']),
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(params)
}

/// The rest of a quoted-string after its opening `"`: the unescaped text and what follows
/// the closing `"`, or `None` when it never closes.
fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &text[at + 1..])),
            c => value.push(c),
        }
    }
    None
}

/// Writes `raw` as the inside of a quoted-string: `"` and `\` escaped, control characters
/// dropped, and anything beyond ASCII replaced (header values are ASCII in practice).
fn push_escaped(out: &mut String, raw: &str) {
    for c in raw.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() || c.is_control() => {}
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(challenge: &Challenge) -> String {
        challenge
            .www_authenticate()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_missing_token_gets_a_bare_challenge_with_the_callers_params() {
        assert_eq!(header(&Challenge::missing_token()), "Bearer");
        let challenge = Challenge::missing_token()
            .with_param(
                "resource_metadata",
                "http://localhost:3001/.well-known/oauth-protected-resource",
            )
            .with_param("scope", "tool:whoami tool:greet");
        assert_eq!(
            header(&challenge),
            "Bearer resource_metadata=\"http://localhost:3001/.well-known/oauth-protected-resource\", scope=\"tool:whoami tool:greet\""
        );
        assert_eq!(challenge.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn an_invalid_token_names_the_error_and_a_short_description() {
        let challenge = Challenge::invalid_token(&TokenError::Expired);
        assert_eq!(
            header(&challenge),
            "Bearer error=\"invalid_token\", error_description=\"The access token has expired\""
        );
    }

    #[test]
    fn insufficient_scope_is_403_with_the_scope() {
        let challenge = Challenge::insufficient_scope("read:private");
        assert_eq!(challenge.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            header(&challenge),
            "Bearer error=\"insufficient_scope\", error_description=\"The access token lacks the required scope\", scope=\"read:private\""
        );
    }

    #[test]
    fn quotes_backslashes_and_control_characters_cannot_break_the_header() {
        let challenge = Challenge::invalid_request("a \"quoted\" \\ value\r\nX-Injected: 1\u{7f}é");
        assert_eq!(
            header(&challenge),
            "Bearer error=\"invalid_request\", error_description=\"a \\\"quoted\\\" \\\\ valueX-Injected: 1?\""
        );
    }

    #[test]
    fn bad_parameter_names_are_ignored_and_repeated_names_replace() {
        let challenge = Challenge::missing_token()
            .with_param("bad name", "x")
            .with_param("scope", "a")
            .with_param("scope", "b");
        assert_eq!(header(&challenge), "Bearer scope=\"b\"");
    }

    #[test]
    fn a_challenge_reads_back_into_its_params() {
        let params = |value: &str| bearer_challenge_params(value);
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        assert_eq!(params("Bearer"), Some(vec![]));
        assert_eq!(
            params(r#"Bearer error="invalid_token", error_description="a \"b\" \\ c",scope=x"#),
            Some(vec![
                pair("error", "invalid_token"),
                pair("error_description", r#"a "b" \ c"#),
                pair("scope", "x"),
            ])
        );
        assert_eq!(
            params(r#"bearer realm="x""#),
            Some(vec![pair("realm", "x")])
        );
        for refused in [
            "Basic realm=\"x\"",
            "Bearer abc==",
            "Bearer a=\"open",
            "Bearer a=\"x\" b=\"y\"",
            "Bearer =x",
            "Bearer a=",
        ] {
            assert_eq!(params(refused), None, "{refused}");
        }
    }

    #[test]
    fn unavailable_keys_are_a_503_not_a_401() {
        let challenge = Challenge::invalid_token(&TokenError::KeysUnavailable);
        assert_eq!(challenge.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(challenge.www_authenticate().is_none());
    }
}

/// Properties: reading a written challenge back gives its parameters as written.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// What a value looks like once written: controls dropped, non-ASCII as `?`.
    fn as_written(raw: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, raw);
        out.push('"');
        let (value, rest) = read_quoted(&out).expect("closed");
        assert!(rest.is_empty());
        value
    }

    /// An RFC 9110 token, for parameter names.
    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
    }

    proptest! {
        #[test]
        fn a_written_challenge_reads_back_as_written(
            description in any::<String>(),
            params in proptest::collection::btree_map(token(), any::<String>(), 0..5),
        ) {
            let mut challenge = Challenge::invalid_request(&description);
            let mut expected = vec![
                ("error".to_owned(), "invalid_request".to_owned()),
                ("error_description".to_owned(), as_written(&description)),
            ];
            let mut seen: Vec<String> = vec!["error".to_owned(), "error_description".to_owned()];
            for (name, value) in &params {
                if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                    continue;
                }
                seen.push(name.clone());
                challenge = challenge.with_param(name, value);
                expected.push((name.clone(), as_written(value)));
            }
            let header = challenge.www_authenticate().expect("a 401 has a challenge");
            let header = header.to_str().expect("visible ASCII");
            prop_assert_ne!(header, "Bearer", "escaping fell back to the bare challenge");
            prop_assert_eq!(bearer_challenge_params(header), Some(expected));
        }

        #[test]
        fn escaping_keeps_every_visible_ascii_character(value in "[ -~]{0,40}") {
            prop_assert_eq!(as_written(&value), value);
        }

        #[test]
        fn reading_any_header_value_never_panics(value in any::<String>()) {
            let _ = bearer_challenge_params(&value);
        }
    }
}
