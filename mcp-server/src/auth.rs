//! The HTTP layer in front of rmcp on `/mcp`: Origin check, bearer token, session owner,
//! and the step-up check for `tools/call`, in that order; [`GateError`] is its one wire
//! format.
//!
//! - **Origin**: a present `Origin` must be MCP_SERVER_URL's own or one of
//!   MCP_ALLOWED_ORIGINS (normalised), else 403 before anything else (DNS rebinding and
//!   cross-site defence). `Host` is rmcp's check, configured in `router`.
//! - **Bearer token** (RFC 6750 §2.1, read by `bearer_auth::bearer_token`): a 401 carries
//!   RFC 9728's `resource_metadata` and the `scope` of every tool permission; 503 while
//!   the issuer's keys are not loaded.
//! - **Session owner**: an `Mcp-Session-Id` belongs to the `sub` that opened it; anyone else
//!   gets the 404 of an unknown session, so ids cannot be probed.
//! - **Step-up**: `tools/call` of a tool the token does not allow gets HTTP 403
//!   `insufficient_scope` naming that tool's permission (from `permissions`).
//!
//! MCP clients step up (ask the user for more scopes) only on an HTTP 403 with
//! `error="insufficient_scope"`, never on a JSON-RPC error, so the permission check for
//! `tools/call` has to happen here, before rmcp turns everything into JSON-RPC: the layer
//! reads the (bounded) body, peeks at `method` and `params.name`, and puts the body back.

use std::{borrow::Cow, collections::HashSet, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use bearer_auth::{Challenge, TokenError, VerifiedToken, Verifier};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;

use crate::caller::{Caller, SubjectToken};
use crate::metrics::Metrics;
use crate::permissions::{ALL_PERMISSIONS, ToolName};

/// The session header of the Streamable HTTP transport (2025-03-26 … 2025-11-25).
const MCP_SESSION_ID: &str = "mcp-session-id";

/// The largest `/mcp` POST body accepted (rmcp is configured with the same bound).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Everything the layer needs, shared by all requests.
#[derive(Clone)]
pub(crate) struct Gate {
    inner: Arc<GateInner>,
}

struct GateInner {
    verifier: Verifier,
    metrics: Metrics,
    resource_metadata: String,
    challenge_scope: String,
    allowed_origins: HashSet<String>,
    /// Session id → the `sub` that opened it.
    sessions: moka::future::Cache<String, Arc<str>>,
}

impl Gate {
    /// `allowed_origins` are normalised `scheme://host[:port]` strings.
    pub(crate) fn new(
        verifier: Verifier,
        metrics: Metrics,
        resource_metadata: String,
        allowed_origins: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            inner: Arc::new(GateInner {
                verifier,
                metrics,
                resource_metadata,
                challenge_scope: ALL_PERMISSIONS.join(" "),
                allowed_origins: allowed_origins.into_iter().collect(),
                sessions: moka::future::Cache::builder()
                    .max_capacity(100_000)
                    // Longer than rmcp's 5-minute idle timeout for sessions; a binding
                    // that outlives its session is harmless, one that dies first makes the
                    // client re-initialise (fail closed).
                    .time_to_idle(Duration::from_secs(3600))
                    .build(),
            }),
        }
    }
}

/// Why the layer answered instead of rmcp. One wire format per case, fixed here.
#[derive(Debug)]
pub(crate) enum GateError {
    /// A browser `Origin` that is not allowed (DNS rebinding / cross-site defence).
    OriginNotAllowed,
    /// No usable bearer credentials (none, another scheme, a token in the query string,
    /// malformed): the challenge `bearer_auth::bearer_token` chose.
    NoBearer(Challenge),
    /// A token that does not verify.
    InvalidToken(TokenError),
    /// The signing keys are not loaded (cold start, IdP down).
    Unavailable,
    /// `tools/call` of a tool the token does not allow.
    InsufficientScope(&'static str),
    /// A session id that is unknown or belongs to another user.
    SessionNotFound,
    /// The body is over [`MAX_BODY_BYTES`].
    BodyTooLarge,
    /// The body could not be read.
    BodyUnreadable,
}

fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    (status, axum::Json(body)).into_response()
}

impl GateError {
    fn into_response_with(self, gate: &GateInner) -> Response {
        let metadata = gate.resource_metadata.as_str();
        match self {
            GateError::OriginNotAllowed => json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This Origin is not allowed",
            ),
            GateError::NoBearer(challenge) => challenge
                .with_param("resource_metadata", metadata)
                .with_param("scope", &gate.challenge_scope)
                .into_response(),
            GateError::InvalidToken(err) => Challenge::invalid_token(&err)
                .with_param("resource_metadata", metadata)
                .with_param("scope", &gate.challenge_scope)
                .into_response(),
            GateError::Unavailable => Challenge::unavailable().into_response(),
            GateError::InsufficientScope(scope) => Challenge::insufficient_scope(scope)
                .with_param("resource_metadata", metadata)
                .into_response(),
            GateError::SessionNotFound => {
                (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
            }
            GateError::BodyTooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "The request body is too large",
            ),
            GateError::BodyUnreadable => json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body could not be read",
            ),
        }
    }
}

/// The JSON-RPC fields the layer looks at; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

/// The first known tool in a `tools/call` (or a batch holding some) that `token` may not
/// call. Bodies that are not JSON-RPC pass through: rmcp answers them.
fn forbidden_tool(body: &[u8], token: &VerifiedToken) -> Option<ToolName> {
    let check = |peek: &Peek<'_>| {
        if peek.method.as_deref() != Some("tools/call") {
            return None;
        }
        let name = peek.params.as_ref()?.name.as_deref()?;
        ToolName::from_name(name).filter(|tool| !tool.allowed_for(token))
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'[' {
        let batch: Vec<Peek<'_>> = serde_json::from_slice(body).ok()?;
        batch.iter().find_map(check)
    } else {
        let single: Peek<'_> = serde_json::from_slice(body).ok()?;
        check(&single)
    }
}

/// Reads and drops a request body, up to [`MAX_BODY_BYTES`]; past that (or on a read
/// error) it stops, and hyper closes the connection, which is then the right thing to do.
async fn drain(body: Body) {
    let mut frames = Limited::new(body, MAX_BODY_BYTES);
    while let Some(Ok(_frame)) = frames.frame().await {}
}

impl Gate {
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        origin
            .to_str()
            .ok()
            .and_then(crate::config::normalize_origin)
            .is_some_and(|o| self.inner.allowed_origins.contains(&o))
    }

    /// The checks that need no token: a browser Origin must be allowed.
    fn admit(&self, parts: &http::request::Parts) -> Result<(), GateError> {
        if self.origin_allowed(&parts.headers) {
            Ok(())
        } else {
            tracing::warn!(origin = ?parts.headers.get(header::ORIGIN), "refused a request from a disallowed Origin");
            Err(GateError::OriginNotAllowed)
        }
    }

    async fn authenticate(&self, headers: &HeaderMap, uri: &Uri) -> Result<Caller, GateError> {
        let raw = bearer_auth::bearer_token(headers, uri).map_err(|challenge| {
            let reason = match challenge.error_code() {
                None => "missing",
                Some(_) => "malformed_request",
            };
            self.inner.metrics.token_rejection(reason);
            GateError::NoBearer(challenge)
        })?;
        match self.inner.verifier.verify(raw).await {
            Ok(token) => Ok(Caller {
                token: Arc::new(token),
                subject_token: SubjectToken::new(raw),
            }),
            Err(err) => {
                self.inner.metrics.token_rejection(err.reason());
                tracing::info!(reason = err.reason(), "bearer token refused");
                if err.is_unavailable() {
                    Err(GateError::Unavailable)
                } else {
                    Err(GateError::InvalidToken(err))
                }
            }
        }
    }

    async fn handle(&self, request: Request, next: Next) -> Result<Response, GateError> {
        let method = request.method().clone();
        let (mut parts, body) = request.into_parts();
        let admitted = async {
            self.admit(&parts)?;
            self.authenticate(&parts.headers, &parts.uri).await
        };
        let caller = match admitted.await {
            Ok(caller) => caller,
            Err(refusal) => {
                // Answering while the client is still sending leaves unread bytes on the
                // connection, so hyper closes it without saying so, and a client that reuses
                // it for its next request (the discovery after every first 401) sees "server
                // disconnected". Drain the body first, without keeping it: nobody gets to
                // make the server hold memory before they have a valid token.
                drain(body).await;
                return Err(refusal);
            }
        };
        // Only an authenticated caller's body is kept (bounded), for the step-up peek.
        let body = if method == Method::POST {
            match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => Some(collected.to_bytes()),
                Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
                    return Err(GateError::BodyTooLarge);
                }
                Err(_) => return Err(GateError::BodyUnreadable),
            }
        } else {
            None
        };
        let subject: Arc<str> = Arc::from(caller.token.subject.as_str());

        let session_id = parts
            .headers
            .get(MCP_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(id) = &session_id {
            // A session is its opener's: another user presenting the id gets the same
            // answer as for an unknown id, so ids of other users' sessions cannot be probed.
            match self.inner.sessions.get(id).await {
                Some(owner) if owner == subject => {}
                Some(_) => {
                    tracing::warn!("refused a session id presented by another user");
                    return Err(GateError::SessionNotFound);
                }
                None => return Err(GateError::SessionNotFound),
            }
        }

        if let Some(bytes) = &body
            && let Some(tool) = forbidden_tool(bytes, &caller.token)
        {
            self.inner
                .metrics
                .tool_call(tool.as_str(), "insufficient_scope");
            let scope = tool.permission().unwrap_or_default();
            return Err(GateError::InsufficientScope(scope));
        }
        let body = body.map_or_else(Body::empty, Body::from);
        // The raw token travels on only inside `Caller` (whose Debug hides it): rmcp, its
        // logs and the tools see the request without the credential.
        parts.headers.remove(header::AUTHORIZATION);
        parts.extensions.insert(caller);
        let response = next.run(Request::from_parts(parts, body)).await;

        match (&session_id, method) {
            (None, _) => {
                if let Some(new_id) = response
                    .headers()
                    .get(MCP_SESSION_ID)
                    .and_then(|v| v.to_str().ok())
                {
                    self.inner.sessions.insert(new_id.to_owned(), subject).await;
                }
            }
            (Some(id), Method::DELETE) if response.status().is_success() => {
                self.inner.sessions.invalidate(id).await;
            }
            _ => {}
        }
        Ok(response)
    }
}

/// The axum middleware for `/mcp`.
pub(crate) async fn guard(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    match gate.handle(request, next).await {
        Ok(response) => response,
        Err(err) => err.into_response_with(&gate.inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(permissions: &[&str]) -> VerifiedToken {
        VerifiedToken {
            subject: "auth0|user".to_owned(),
            scopes: Vec::new(),
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            client_id: None,
            expires_at: 0,
            claims: serde_json::Map::new(),
        }
    }

    #[test]
    fn peeks_at_tools_call_only() {
        let user = token(&["tool:whoami"]);
        let call = |name: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}","arguments":{{"x":[1,2]}}}}}}"#
            )
        };
        assert_eq!(
            forbidden_tool(call("greet").as_bytes(), &user),
            Some(ToolName::Greet)
        );
        assert_eq!(forbidden_tool(call("whoami").as_bytes(), &user), None);
        assert_eq!(forbidden_tool(call("no_such_tool").as_bytes(), &user), None);
        assert_eq!(
            forbidden_tool(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &user),
            None
        );
        // An escaped name is still the same tool.
        assert_eq!(
            forbidden_tool(call(r"gr\u0065et").as_bytes(), &user),
            Some(ToolName::Greet)
        );
        let batch = format!("[{}]", call("greet"));
        assert_eq!(
            forbidden_tool(batch.as_bytes(), &user),
            Some(ToolName::Greet)
        );
        assert_eq!(forbidden_tool(b"not json", &user), None);
    }
}
