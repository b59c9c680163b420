//! The axum glue: a tower layer that demands a valid bearer token, and an extractor that
//! hands the verified token to handlers.
//!
//! Apply the layer with `Router::route_layer` so unknown routes still answer 404 rather
//! than 401.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, Uri, header};
use tower::{Layer, Service};

use crate::{Challenge, VerifiedToken, Verifier};

/// Verifies `Authorization: Bearer` on every request it wraps.
///
/// On success the [`VerifiedToken`] is inserted into the request extensions (read it with
/// [`Authenticated`]); otherwise the request is answered with a [`Challenge`] carrying the
/// extra parameters given to [`BearerAuthLayer::with_challenge_param`].
#[derive(Clone, Debug)]
pub struct BearerAuthLayer {
    verifier: Verifier,
    /// Auth-params added to every challenge, e.g. RFC 9728 `resource_metadata`.
    params: Arc<Vec<(String, String)>>,
}

impl BearerAuthLayer {
    /// A layer that checks tokens with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        BearerAuthLayer {
            verifier,
            params: Arc::new(Vec::new()),
        }
    }

    /// Adds an auth-param to every challenge this layer sends (and to [`Self::challenge`]).
    pub fn with_challenge_param(mut self, name: &str, value: &str) -> Self {
        Arc::make_mut(&mut self.params).push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds this layer's parameters to `challenge`, for handlers that refuse on their own
    /// (e.g. `Challenge::insufficient_scope`) and want the same header shape.
    pub fn challenge(&self, challenge: Challenge) -> Challenge {
        self.params
            .iter()
            .fold(challenge, |c, (name, value)| c.with_param(name, value))
    }

    /// Finds and verifies the bearer token of a request (RFC 6750 §2.1).
    ///
    /// Refusals: no `Authorization` header, or one with another scheme → 401 bare
    /// challenge (RFC 6750 §3.1 says an unsupported method gets no error code); a token in
    /// the query string, several `Authorization` headers or a malformed Bearer credential
    /// → 401 `invalid_request`; a token that fails verification → 401 `invalid_token`
    /// (or 503 while no keys are loaded).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<VerifiedToken, Challenge> {
        let token = bearer_token(headers, uri).map_err(|c| self.challenge(c))?;
        self.verifier.verify(token).await.map_err(|error| {
            tracing::debug!(reason = error.reason(), "bearer token refused");
            self.challenge(Challenge::invalid_token(&error))
        })
    }
}

/// Extracts the b64token of `Authorization: Bearer <token>` (RFC 6750 §2.1), refusing
/// every other shape with the challenge to answer: no header or another scheme → a bare
/// challenge; a token in the query string, several headers, or malformed credentials →
/// `invalid_request`.
///
/// [`BearerAuthLayer`] uses it; servers that need the raw token (to exchange it) call it
/// directly so that every resource server reads requests by the same rule.
pub fn bearer_token<'h>(headers: &'h HeaderMap, uri: &Uri) -> Result<&'h str, Challenge> {
    // RFC 6750 §2.3 is the least safe method (tokens end up in logs); we refuse it even
    // when a header is present too, so a client learns early.
    if let Some(query) = uri.query()
        && url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
    {
        return Err(Challenge::invalid_request(
            "Access tokens in the query string are not accepted",
        ));
    }
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Challenge::missing_token());
    };
    if values.next().is_some() {
        return Err(Challenge::invalid_request(
            "Send exactly one Authorization header",
        ));
    }
    let Ok(value) = value.to_str() else {
        return Err(Challenge::invalid_request(
            "The Authorization header is malformed",
        ));
    };
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Challenge::missing_token());
    }
    let token = credentials.trim_start_matches(' ');
    if !is_b64token(token) {
        return Err(Challenge::invalid_request(
            "The Bearer credentials are malformed",
        ));
    }
    Ok(token)
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| B64TOKEN_BYTE[usize::from(b)])
}

/// Which bytes may come before a b64token's padding, as a table: the check runs over every
/// byte of every bearer token on every request (about a kilobyte for an Auth0 access token),
/// so it is one load per byte rather than a search of the punctuation list.
const B64TOKEN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        byte += 1;
    }
    table
};

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuthService {
            inner,
            auth: self.clone(),
        }
    }
}

/// The service [`BearerAuthLayer`] wraps around a route.
#[derive(Clone, Debug)]
pub struct BearerAuthService<S> {
    inner: S,
    auth: BearerAuthLayer,
}

impl<S> Service<Request> for BearerAuthService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone that was polled ready is the one that must handle the call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.authenticate(request.headers(), request.uri()).await {
                Ok(token) => {
                    request.extensions_mut().insert(token);
                    inner.call(request).await
                }
                Err(challenge) => Ok(challenge.into_response()),
            }
        })
    }
}

/// The verified token of a request that passed [`BearerAuthLayer`].
///
/// Used on a route without the layer it refuses with a bare 401 (and logs an error), so a
/// wiring mistake fails closed.
#[derive(Clone, Debug)]
pub struct Authenticated(pub VerifiedToken);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Challenge;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<VerifiedToken>() {
            Some(token) => Ok(Authenticated(token.clone())),
            None => {
                tracing::error!(
                    path = parts.uri.path(),
                    "Authenticated used on a route without BearerAuthLayer"
                );
                Err(Challenge::missing_token())
            }
        }
    }
}

/// `Option<Authenticated>`: `None` when no verified token is attached, for routes that
/// serve everyone but say more to authenticated callers.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<VerifiedToken>()
            .cloned()
            .map(Authenticated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn check(authorization: &[&str], uri: &str, expected: Result<&str, (&str, Option<&str>)>) {
        let mut headers = HeaderMap::new();
        for value in authorization {
            headers.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        let uri: Uri = uri.parse().unwrap();
        let got = bearer_token(&headers, &uri)
            .map_err(|c| (c.status().as_str().to_owned(), c.error_code()));
        let expected = expected.map_err(|(status, code)| (status.to_owned(), code));
        assert_eq!(got, expected, "{authorization:?} {uri}");
    }

    #[test]
    fn the_authorization_header_is_parsed_per_rfc_6750() {
        check(&["Bearer abc.def.ghi"], "/", Ok("abc.def.ghi"));
        check(&["bearer abc.def-_~+/ghi=="], "/", Ok("abc.def-_~+/ghi=="));
        check(&["Bearer  abc"], "/", Ok("abc"));
        check(&[], "/", Err(("401", None)));
        check(&["Basic dXNlcjpwYXNz"], "/", Err(("401", None)));
        check(&["Bearer"], "/", Err(("401", Some("invalid_request"))));
        check(&["Bearer a b"], "/", Err(("401", Some("invalid_request"))));
        check(&["Bearer a\"b"], "/", Err(("401", Some("invalid_request"))));
        check(
            &["Bearer a", "Bearer b"],
            "/",
            Err(("401", Some("invalid_request"))),
        );
        check(
            &["Bearer abc"],
            "/x?access_token=abc",
            Err(("401", Some("invalid_request"))),
        );
        check(
            &[],
            "/x?a=1&access_token=abc",
            Err(("401", Some("invalid_request"))),
        );
        check(&["Bearer abc"], "/x?token_hint=1", Ok("abc"));
    }

    #[test]
    fn every_byte_is_a_b64token_byte_exactly_when_rfc_6750_says_so() {
        let allowed: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain(*b"-._~+/")
            .collect();
        for byte in 0..=u8::MAX {
            assert_eq!(
                B64TOKEN_BYTE[usize::from(byte)],
                allowed.contains(&byte),
                "byte {byte:#04x}"
            );
        }
        assert!(is_b64token("a=="));
        assert!(!is_b64token("=="));
        assert!(!is_b64token("a=b"));
    }
}
