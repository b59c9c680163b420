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
//!   gets the 404 of an unknown session, so ids cannot be probed. With MCP_REDIS_URL a
//!   session this replica does not hold is looked up in Redis, where its owner is stored
//!   with it (`shared_state`), and rmcp restores it here only for that owner.
//! - **Session caps** (`sessions`): an `initialize` over the caller's per-user cap gets
//!   HTTP 429, over the replica's cap 503, both with `Retry-After` and a JSON-RPC error
//!   with the request's `id`. An SSE stream ends after MCP_SSE_MAX_LIFETIME_SECS. Where there are no
//!   sessions (2026-07-28 requests, a stateless server) the header is dropped unread
//!   (`era`). Each request is tagged with its SSE framing (`era::SseFraming`: the
//!   session's, or its version's), which picks the rmcp service behind the gate.
//!   A session's close (`DELETE`) is answered `204 No Content` where rmcp says `202`:
//!   the Python SDK counts only 200 and 204 as success, and the spec names no status.
//! - **Step-up**: `tools/call` of a tool whose permission the token's `scope` lacks, while
//!   the user has (or may have) it, gets HTTP 403 `insufficient_scope` naming that tool's
//!   permission (from `permissions`). A user whose `permissions` claim lacks it gets no
//!   403 (asking again cannot help): rmcp's `tools/call` answers a JSON-RPC error.
//!
//! Every 401 and 403 on `/mcp` keeps its `WWW-Authenticate` challenge and carries a
//! JSON-RPC error body with the request's `id` (null when it cannot be read), because MCP
//! clients show the JSON-RPC error and nothing else. For an unauthenticated request only
//! the first [`PEEK_UNAUTHENTICATED_BYTES`] are kept to find the `id`.
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
use futures::StreamExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;

use crate::caller::{Caller, SubjectToken};
use crate::config::SessionLimits;
use crate::era::{self, SseFraming};
use crate::metrics::Metrics;
use crate::permissions::{ALL_PERMISSIONS, Refusal, ToolName};
use crate::session_store::{OwnerDigest, RedisSessionStore, SESSION_CALLER};
use crate::sessions::{SessionCap, SessionRegistry};

/// The session header of the Streamable HTTP transport (2025-03-26 … 2025-11-25).
const MCP_SESSION_ID: &str = "mcp-session-id";

/// The largest `/mcp` POST body accepted (rmcp is configured with the same bound).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How much of a refused, unauthenticated body is kept to read its JSON-RPC `id`: enough
/// for any real `initialize` or `tools/call`, little enough that nobody can make the server
/// hold memory before they have a valid token.
const PEEK_UNAUTHENTICATED_BYTES: usize = 64 * 1024;

/// JSON-RPC error codes of the gate's refusals: implementation-defined server errors
/// (JSON-RPC 2.0 §5.1 reserves -32000 to -32099 for them).
const RPC_UNAUTHORIZED: i32 = -32001;
/// An `initialize` refused at a session cap.
const RPC_TOO_MANY_SESSIONS: i32 = -32003;

/// `Retry-After` of a refusal at a session cap: slots come back as sessions close or idle
/// out, so asking again soon may succeed.
const SESSION_CAP_RETRY_AFTER_SECS: u64 = 30;

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
    /// `MCP_STATELESS`: no request has a session.
    stateless: bool,
    /// Session id → who opened it, and how its streams are framed; the caps.
    sessions: SessionRegistry,
    /// The sessions of every replica (MCP_REDIS_URL), when shared.
    shared_sessions: Option<RedisSessionStore>,
    /// MCP_SSE_MAX_LIFETIME_SECS.
    max_stream_lifetime: Duration,
}

/// How the gate treats sessions.
pub(crate) struct GateSessions {
    /// MCP_STATELESS: no request has a session.
    pub(crate) stateless: bool,
    /// The caps, the idle expiry and the SSE stream lifetime.
    pub(crate) limits: SessionLimits,
    /// The sessions of every replica, when shared through Redis.
    pub(crate) shared: Option<RedisSessionStore>,
}

impl Gate {
    /// `allowed_origins` are normalised `scheme://host[:port]` strings.
    pub(crate) fn new(
        verifier: Verifier,
        metrics: Metrics,
        resource_metadata: String,
        allowed_origins: impl IntoIterator<Item = String>,
        sessions: GateSessions,
    ) -> Self {
        Self {
            inner: Arc::new(GateInner {
                verifier,
                resource_metadata,
                challenge_scope: ALL_PERMISSIONS.join(" "),
                allowed_origins: allowed_origins.into_iter().collect(),
                stateless: sessions.stateless,
                sessions: SessionRegistry::new(sessions.limits, metrics.clone()),
                shared_sessions: sessions.shared,
                max_stream_lifetime: sessions.limits.max_stream_lifetime,
                metrics,
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
    /// malformed): the challenge `bearer_auth::bearer_token` chose; the request's `id`.
    NoBearer(Challenge, RpcId),
    /// A token that does not verify; the request's `id`.
    InvalidToken(TokenError, RpcId),
    /// The signing keys are not loaded (cold start, IdP down).
    Unavailable,
    /// `tools/call` of a tool whose scope the token lacks, where a step-up helps.
    InsufficientScope(Refusal, RpcId),
    /// A session id that is unknown or belongs to another user.
    SessionNotFound,
    /// An `initialize` over a session cap; the request's `id`.
    TooManySessions(SessionCap, RpcId),
    /// The body is over [`MAX_BODY_BYTES`].
    BodyTooLarge,
    /// The body could not be read.
    BodyUnreadable,
}

/// A request's JSON-RPC `id`, as sent (`None`: absent, null, a batch, or unreadable).
pub(crate) type RpcId = Option<serde_json::Value>;

/// A JSON-RPC 2.0 error response (§5) for `id`.
fn rpc_error(
    id: &RpcId,
    code: i32,
    message: &str,
    data: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut error = serde_json::json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

/// The JSON-RPC body of a 401: what was wrong, and what the person can do.
fn unauthorized_body(challenge: &Challenge, id: &RpcId) -> serde_json::Value {
    let message = match challenge.description() {
        None => "Unauthorized: this MCP server needs an access token; sign in (the \
                 WWW-Authenticate header names the protected resource metadata)"
            .to_owned(),
        Some(description) => format!("Unauthorized: {description}; sign in again"),
    };
    let data = challenge
        .error_code()
        .map(|error| serde_json::json!({ "error": error }));
    rpc_error(id, RPC_UNAUTHORIZED, &message, data)
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
            GateError::NoBearer(challenge, id) => {
                let body = unauthorized_body(&challenge, &id);
                challenge
                    .with_param("resource_metadata", metadata)
                    .with_param("scope", &gate.challenge_scope)
                    .into_response_with_body(body)
            }
            GateError::InvalidToken(err, id) => {
                let challenge = Challenge::invalid_token(&err);
                let body = unauthorized_body(&challenge, &id);
                challenge
                    .with_param("resource_metadata", metadata)
                    .with_param("scope", &gate.challenge_scope)
                    .into_response_with_body(body)
            }
            GateError::Unavailable => Challenge::unavailable().into_response(),
            GateError::InsufficientScope(refusal, id) => {
                let body = rpc_error(
                    &id,
                    Refusal::RPC_CODE,
                    &refusal.message(),
                    Some(refusal.data()),
                );
                Challenge::insufficient_scope(refusal.scope())
                    .with_param("resource_metadata", metadata)
                    .into_response_with_body(body)
            }
            GateError::SessionNotFound => {
                (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
            }
            GateError::TooManySessions(cap, id) => {
                // 429 for the caller's own cap (RFC 6585: this user sends too much), 503
                // for the replica's (RFC 9110 §15.6.4: overloaded); both say when to retry.
                let (status, message) = match cap {
                    SessionCap::PerUser(limit) => (
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "Too many sessions: this user already has {limit} open sessions \
                             on this server; close one (DELETE /mcp) or retry later"
                        ),
                    ),
                    SessionCap::Global(limit) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "Too many sessions: this server holds its maximum of {limit} \
                             sessions; retry later"
                        ),
                    ),
                };
                let data = serde_json::json!({ "limit": cap.label() });
                let body = rpc_error(&id, RPC_TOO_MANY_SESSIONS, &message, Some(data));
                (
                    status,
                    [(
                        header::RETRY_AFTER,
                        SESSION_CAP_RETRY_AFTER_SECS.to_string(),
                    )],
                    axum::Json(body),
                )
                    .into_response()
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
    #[serde(default)]
    id: RpcId,
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

/// The first `tools/call` (alone or in a batch) of a known tool whose scope `token` lacks
/// while a step-up may help, with the refusal and the request's `id`. Calls the user has
/// no permission for pass, as do bodies that are not JSON-RPC: rmcp answers them.
pub(crate) fn step_up_needed(body: &[u8], token: &VerifiedToken) -> Option<(Refusal, RpcId)> {
    let check = |peek: Peek<'_>| {
        if peek.method.as_deref() != Some("tools/call") {
            return None;
        }
        let tool = ToolName::from_name(peek.params.as_ref()?.name.as_deref()?)?;
        match Refusal::of(tool, tool.access_for(token))? {
            refusal @ Refusal::StepUp(_) => Some((refusal, peek.id)),
            Refusal::NotPermitted(_) => None,
        }
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'[' {
        let batch: Vec<Peek<'_>> = serde_json::from_slice(body).ok()?;
        // A batch has no one id to answer with.
        batch
            .into_iter()
            .find_map(check)
            .map(|(refusal, _)| (refusal, None))
    } else {
        check(serde_json::from_slice(body).ok()?)
    }
}

/// Whether a body read failed on a size cap: this gate's own, or the server-wide
/// `--max-body-bytes` of service-kit, which reaches here wrapped in `axum::Error`.
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The `Mcp-Method` and `Mcp-Name` headers of 2026-07-28 requests (SEP-2243).
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";

/// True when the headers of a 2026-07-28 request already show that [`step_up_needed`] would
/// find nothing: its `Mcp-Method` is not `tools/call`, or its `Mcp-Name` names a tool the
/// token may call (or one a step-up cannot help with). rmcp refuses such a request when
/// its headers contradict its body, so nobody gets past the check by lying in them; the
/// body then needs no parse here. Anything else (no headers, an older era, a tool whose
/// scope is missing) goes through the body peek.
fn headers_rule_out_step_up(headers: &HeaderMap, token: &VerifiedToken) -> bool {
    let one = |name: &str| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().ok(),
            _ => None,
        }
    };
    match one(MCP_METHOD) {
        None => false,
        Some(method) if method != "tools/call" => true,
        Some(_) => one(MCP_NAME)
            .and_then(ToolName::from_name)
            .is_some_and(|tool| !tool.needs_step_up(token)),
    }
}

/// The `id` of a single JSON-RPC request, if it has one.
pub(crate) fn request_id(body: &[u8]) -> RpcId {
    serde_json::from_slice::<Peek<'_>>(body).ok()?.id
}

/// True for a single `initialize` request, the one that opens a session.
fn is_initialize(body: &[u8]) -> bool {
    serde_json::from_slice::<Peek<'_>>(body)
        .is_ok_and(|peek| peek.method.as_deref() == Some("initialize"))
}

/// Ends an SSE body after `lifetime`: a stream held open forever holds a connection and a
/// session's memory forever. Clients reconnect (GET) or retry.
fn bounded_stream(response: Response, lifetime: Duration) -> Response {
    let is_event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_event_stream {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = body
        .into_data_stream()
        .take_until(tokio::time::sleep(lifetime));
    Response::from_parts(parts, Body::from_stream(body))
}

/// Reads and drops a request body, up to [`MAX_BODY_BYTES`]; past that (or on a read
/// error) it stops, and hyper closes the connection, which is then the right thing to do.
/// Returns the body when all of it fits in [`PEEK_UNAUTHENTICATED_BYTES`].
async fn drain(body: Body) -> Option<Vec<u8>> {
    let mut frames = Limited::new(body, MAX_BODY_BYTES);
    let mut kept = Some(Vec::new());
    while let Some(Ok(frame)) = frames.frame().await {
        if let (Some(buffer), Ok(data)) = (kept.as_mut(), frame.into_data()) {
            if buffer.len() + data.len() <= PEEK_UNAUTHENTICATED_BYTES {
                buffer.extend_from_slice(&data);
            } else {
                kept = None;
            }
        }
    }
    kept
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
            GateError::NoBearer(challenge, None)
        })?;
        match self.inner.verifier.verify(raw).await {
            Ok(token) => Ok(Caller {
                token: Arc::new(token),
                subject_token: SubjectToken::new(raw),
            }),
            Err(err) => {
                self.inner.metrics.token_rejection(err.reason());
                tracing::debug!(reason = err.reason(), "bearer token refused");
                if err.is_unavailable() {
                    Err(GateError::Unavailable)
                } else {
                    Err(GateError::InvalidToken(err, None))
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
                // make the server hold more than a small peek before they have a valid token.
                let id = drain(body).await.and_then(|kept| request_id(&kept));
                return Err(match refusal {
                    GateError::NoBearer(challenge, _) => GateError::NoBearer(challenge, id),
                    GateError::InvalidToken(err, _) => GateError::InvalidToken(err, id),
                    other => other,
                });
            }
        };
        // Only an authenticated caller's body is kept (bounded), for the step-up peek.
        let body = if method == Method::POST {
            match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => Some(collected.to_bytes()),
                Err(err) if is_length_limit(err.as_ref()) => {
                    return Err(GateError::BodyTooLarge);
                }
                Err(_) => return Err(GateError::BodyUnreadable),
            }
        } else {
            None
        };
        let subject: Arc<str> = Arc::from(caller.token.subject.as_str());

        let version = era::request_version(&parts.headers, body.as_deref());
        if self.inner.stateless || era::is_sessionless(version.as_deref()) {
            // No sessions in this era, or on this server: the header means nothing here.
            parts.headers.remove(MCP_SESSION_ID);
        }
        let session_id = parts
            .headers
            .get(MCP_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut reservation = None;
        let framing = match &session_id {
            // A session is its opener's: another user presenting the id gets the same
            // answer as for an unknown id, so ids of other users' sessions cannot be probed.
            Some(id) => match self.inner.sessions.get(id).await {
                Some(entry) if entry.owner == subject => {
                    if let Some(shared) = &self.inner.shared_sessions {
                        shared.touch(id);
                    }
                    entry.framing
                }
                Some(_) => {
                    tracing::warn!("refused a session id presented by another user");
                    return Err(GateError::SessionNotFound);
                }
                None => {
                    self.adopt_shared_session(id, &subject, body.as_deref())
                        .await?
                }
            },
            None => {
                // Any `initialize` may open a session, even one asking for 2026-07-28: the
                // server may answer with an older version (rmcp's client does exactly that).
                let opens_session =
                    !self.inner.stateless && body.as_deref().is_some_and(is_initialize);
                if opens_session {
                    let slot = self.inner.sessions.reserve(&subject).await.map_err(|cap| {
                        tracing::warn!(limit = cap.label(), "refused a session over its cap");
                        GateError::TooManySessions(cap, body.as_deref().and_then(request_id))
                    })?;
                    reservation = Some(slot);
                }
                SseFraming::for_version(version.as_deref())
            }
        };

        let sessionless = era::is_sessionless(version.as_deref());
        // The body is parsed for the step-up check only when a step-up could follow: not
        // for a token that every tool accepts (or that no step-up can help), nor when the
        // headers of a 2026-07-28 request already rule it out.
        if let Some(bytes) = &body
            && !ToolName::none_needs_step_up(&caller.token)
            && !(sessionless && headers_rule_out_step_up(&parts.headers, &caller.token))
            && let Some((refusal, id)) = step_up_needed(bytes, &caller.token)
        {
            self.inner
                .metrics
                .tool_call(refusal.tool().as_str(), "insufficient_scope");
            return Err(GateError::InsufficientScope(refusal, id));
        }
        let body = body.map_or_else(Body::empty, Body::from);
        // The raw token travels on only inside `Caller` (whose Debug hides it): rmcp, its
        // logs and the tools see the request without the credential.
        parts.headers.remove(header::AUTHORIZATION);
        parts.extensions.insert(caller);
        parts.extensions.insert(framing);
        let forwarded = next.run(Request::from_parts(parts, body));
        let response = match &self.inner.shared_sessions {
            // rmcp's session store is told who is asking (it stores and restores sessions
            // for their owner only).
            Some(_) => {
                SESSION_CALLER
                    .scope(OwnerDigest::of(&subject), forwarded)
                    .await
            }
            None => forwarded.await,
        };
        let mut response = bounded_stream(response, self.inner.max_stream_lifetime);

        match (&session_id, method) {
            (None, _) => {
                if let (Some(new_id), Some(slot)) = (
                    response
                        .headers()
                        .get(MCP_SESSION_ID)
                        .and_then(|v| v.to_str().ok()),
                    reservation,
                ) {
                    self.inner
                        .sessions
                        .bind(new_id.to_owned(), framing, slot)
                        .await;
                }
            }
            (Some(id), Method::DELETE) if response.status().is_success() => {
                self.inner.sessions.remove(id).await;
                if response.status() == StatusCode::ACCEPTED {
                    *response.status_mut() = StatusCode::NO_CONTENT;
                    *response.body_mut() = Body::empty();
                    response.headers_mut().remove(header::CONTENT_TYPE);
                    response.headers_mut().remove(header::CONTENT_LENGTH);
                }
            }
            _ => {}
        }
        Ok(response)
    }
}

impl Gate {
    /// A session this replica does not hold: another replica's (or this one's before a
    /// restart), if Redis has it for this caller. It is bound here, counted against the
    /// caps, and rmcp restores it from the same record.
    async fn adopt_shared_session(
        &self,
        id: &str,
        subject: &Arc<str>,
        body: Option<&[u8]>,
    ) -> Result<SseFraming, GateError> {
        let Some(shared) = &self.inner.shared_sessions else {
            return Err(GateError::SessionNotFound);
        };
        let Some(found) = shared.find(id).await else {
            return Err(GateError::SessionNotFound);
        };
        if found.owner != OwnerDigest::of(subject) {
            tracing::warn!("refused a shared session id presented by another user");
            return Err(GateError::SessionNotFound);
        }
        let slot = self.inner.sessions.reserve(subject).await.map_err(|cap| {
            tracing::warn!(limit = cap.label(), "refused a shared session over its cap");
            GateError::TooManySessions(cap, body.and_then(request_id))
        })?;
        let framing = SseFraming::for_version(Some(&found.protocol_version));
        self.inner.sessions.bind(id.to_owned(), framing, slot).await;
        Ok(framing)
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

    fn token(scope: &[&str], permissions: &[&str]) -> VerifiedToken {
        let owned = |items: &[&str]| items.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        VerifiedToken {
            subject: "auth0|user".to_owned(),
            scopes: owned(scope),
            permissions: Some(owned(permissions)),
            client_id: None,
            expires_at: 0,
            claims: serde_json::Map::new(),
        }
    }

    fn call(name: &str) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{name}","arguments":{{"x":[1,2]}}}}}}"#
        )
    }

    #[test]
    fn peeks_at_tools_call_only_and_steps_up_only_where_consent_helps() {
        // Admin's user, whose client was granted only tool:whoami.
        let narrowed = token(&["tool:whoami"], &["tool:whoami", "tool:greet"]);
        let step_up = Some((Refusal::StepUp(ToolName::Greet), Some(serde_json::json!(7))));
        assert_eq!(step_up_needed(call("greet").as_bytes(), &narrowed), step_up);
        assert_eq!(step_up_needed(call("whoami").as_bytes(), &narrowed), None);
        assert_eq!(
            step_up_needed(call("no_such_tool").as_bytes(), &narrowed),
            None
        );
        assert_eq!(
            step_up_needed(
                br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                &narrowed
            ),
            None
        );
        // An escaped name is still the same tool.
        assert_eq!(
            step_up_needed(call(r"gr\u0065et").as_bytes(), &narrowed),
            step_up
        );
        // A batch has no one id.
        let batch = format!("[{}]", call("greet"));
        assert_eq!(
            step_up_needed(batch.as_bytes(), &narrowed),
            Some((Refusal::StepUp(ToolName::Greet), None))
        );
        assert_eq!(step_up_needed(b"not json", &narrowed), None);

        // A user without the permission: no step-up, rmcp answers the JSON-RPC error.
        let user = token(&["tool:whoami"], &["tool:whoami"]);
        assert_eq!(step_up_needed(call("greet").as_bytes(), &user), None);
    }

    #[test]
    fn modern_headers_spare_the_body_peek_only_where_no_step_up_can_follow() {
        let narrowed = token(&["tool:whoami"], &["tool:whoami", "tool:greet"]);
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.append(*name, http::HeaderValue::from_static(value));
            }
            map
        };
        let rules_out = |pairs| headers_rule_out_step_up(&headers(pairs), &narrowed);
        assert!(rules_out(&[(MCP_METHOD, "tools/list")]));
        assert!(rules_out(&[
            (MCP_METHOD, "tools/call"),
            (MCP_NAME, "whoami")
        ]));
        // The tool whose scope the token lacks: the body is read (for its id).
        assert!(!rules_out(&[
            (MCP_METHOD, "tools/call"),
            (MCP_NAME, "greet")
        ]));
        // No headers, no name, an unknown or a repeated name: the body decides.
        assert!(!rules_out(&[]));
        assert!(!rules_out(&[(MCP_METHOD, "tools/call")]));
        assert!(!rules_out(&[
            (MCP_METHOD, "tools/call"),
            (MCP_NAME, "=?base64?Z3JlZXQ=?=")
        ]));
        assert!(!rules_out(&[
            (MCP_METHOD, "tools/call"),
            (MCP_NAME, "whoami"),
            (MCP_NAME, "greet")
        ]));
        assert!(!rules_out(&[
            (MCP_METHOD, "tools/list"),
            (MCP_METHOD, "tools/call")
        ]));
    }

    #[test]
    fn the_body_peek_is_skipped_only_for_tokens_no_tool_steps_up() {
        let all = ["tool:whoami", "tool:greet"];
        let tokens = [
            (token(&all, &all), true),
            // No step-up can help a user without the permissions.
            (token(&[], &[]), true),
            (token(&["tool:whoami"], &["tool:whoami"]), true),
            // A permission the token's scope lacks: a step-up can follow.
            (token(&["tool:whoami"], &all), false),
            (token(&[], &["tool:greet"]), false),
            // No `permissions` claim (Auth0's default dialect): a missing scope may be the
            // user's, so a step-up can follow.
            (
                VerifiedToken {
                    permissions: None,
                    ..token(&all, &[])
                },
                true,
            ),
            (
                VerifiedToken {
                    permissions: None,
                    ..token(&["tool:whoami"], &[])
                },
                false,
            ),
        ];
        for (token, skipped) in tokens {
            assert_eq!(
                ToolName::none_needs_step_up(&token),
                skipped,
                "{:?}",
                token.scopes
            );
            if skipped {
                for name in ["get_current_time", "whoami", "greet", r"gr\u0065et"] {
                    let body = call(name);
                    assert_eq!(step_up_needed(body.as_bytes(), &token), None, "{name}");
                    let batch = format!("[{body}]");
                    assert_eq!(step_up_needed(batch.as_bytes(), &token), None, "{name}");
                }
            }
        }
    }

    #[test]
    fn a_refused_request_is_answered_with_its_id() {
        assert_eq!(
            request_id(call("greet").as_bytes()),
            Some(serde_json::json!(7))
        );
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","id":"a","method":"initialize"}"#),
            Some(serde_json::json!("a"))
        );
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(request_id(b"[]"), None);
    }
}
