//! The control surface for tests (`--control`): reset the tenant, set the clock, mint tokens,
//! read counters.
//!
//! Tests of clients and resource servers need what a real tenant cannot give: a clean tenant
//! between tests, time that jumps forward so codes and tokens expire without waiting, and
//! tokens with exactly the claims a test wants, signed like granted ones. These routes give
//! that under the reserved prefix `/_control/`, which Auth0 does not use.
//!
//! They are off unless `--control` is given, and even then answer only callers on the
//! loopback interface that present the control token (`Authorization: Bearer <token>`,
//! generated at start-up or given with `--control-token`), and refuse requests that carry
//! an `Origin` header, so a web page in the developer's browser cannot drive them. The
//! token matters because loopback proves little: containers sharing a network namespace,
//! sidecars and local tunnels all look like 127.0.0.1, and `/_control/mint` can mint a
//! Management API token that takes over the tenant. Their errors are RFC 9457 problem
//! details (`application/problem+json`), never OAuth errors: a test can tell a misused
//! control call from an OAuth failure it is checking.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, middleware};
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;

use super::bearer::bearer_token;
use super::body::MAX_BODY_BYTES;
use crate::jwt::AccessTokenSpec;
use crate::model::{ResourceServer, Tenant, TokenDialect};
use crate::oauth::random_token;
use crate::state::{AppState, ClockMode};

/// The prefix every control route lives under.
pub const PREFIX: &str = "/_control";

/// Claims a minted token always sets itself; `claims` may not name them.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "client_id",
    "azp",
    "scope",
    "gty",
    "permissions",
];

/// The client a minted token names when the request names none.
const DEFAULT_MINT_CLIENT: &str = "fake-auth0-control";

/// The secret every control call carries as `Authorization: Bearer <token>`; `Debug`
/// never shows it.
#[derive(Clone)]
pub struct ControlToken(String);

impl ControlToken {
    /// A token chosen by the operator (`--control-token`).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// A fresh, unguessable token (256 random bits).
    pub fn generate() -> Self {
        Self(random_token(32))
    }

    /// The token itself, for the one place it is handed to the operator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented token.
    fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlToken([redacted])")
    }
}

#[derive(Clone)]
struct Control {
    app: Arc<AppState>,
    /// The tenant as loaded at start: what a reset goes back to.
    initial: Arc<Tenant>,
}

/// The control routes, to be merged into the application (already under [`PREFIX`]).
pub(crate) fn router<S>(app: Arc<AppState>, initial: Tenant, token: ControlToken) -> Router<S> {
    let control = Control {
        app,
        initial: Arc::new(initial),
    };
    Router::new()
        .route(&format!("{PREFIX}/reset"), post(reset))
        .route(&format!("{PREFIX}/clock"), get(clock).post(set_clock))
        .route(&format!("{PREFIX}/mint"), post(mint))
        .route(&format!("{PREFIX}/stats"), get(stats))
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            local_callers_with_the_token_only,
        ))
        .with_state(control)
}

/// An error of the control surface: an RFC 9457 problem detail.
#[derive(Debug)]
enum ControlError {
    /// The caller is not on the loopback interface (or its address is unknown).
    NotLoopback,
    /// The request came from a web page (it has an `Origin` header).
    FromBrowser,
    /// The request carries no control token, or a wrong one.
    NoToken,
    /// The body could not be read, is not JSON, or is not the route's JSON.
    BadBody { status: StatusCode, detail: String },
    /// The body was JSON of the right shape but asks for something impossible.
    Invalid(String),
    /// Something on the server side failed; the cause is logged.
    Internal,
}

#[derive(Serialize)]
struct Problem<'a> {
    /// RFC 9457 §4.2.1: `about:blank` means the title is the status's own phrase.
    r#type: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            Self::NotLoopback => (
                StatusCode::FORBIDDEN,
                "the control surface answers loopback callers only".to_owned(),
            ),
            Self::FromBrowser => (
                StatusCode::FORBIDDEN,
                "control requests from web pages (with an Origin header) are refused".to_owned(),
            ),
            Self::NoToken => (
                StatusCode::UNAUTHORIZED,
                "send the control token as `Authorization: Bearer <token>`; fake-auth0 logs \
                 where it wrote it at start-up (or pass your own with --control-token)"
                    .to_owned(),
            ),
            Self::BadBody { status, detail } => (status, detail),
            Self::Invalid(detail) => (StatusCode::UNPROCESSABLE_ENTITY, detail),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the control request failed; see the server log".to_owned(),
            ),
        };
        let problem = Problem {
            r#type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: the scheme the token is expected in.
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"fake-auth0 control\""),
            );
        }
        response
    }
}

/// A JSON request body. Unlike `axum::Json` it reads the whole body before judging the
/// content type, so a refused request is never answered while its body is still arriving
/// (over HTTP/2 that resets the stream, and curl reports an error instead of the problem).
struct ControlJson<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ControlJson<T> {
    type Rejection = ControlError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ControlError> {
        let is_json = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ControlError::BadBody {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        if !is_json {
            return Err(ControlError::BadBody {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail: "send the body as `Content-Type: application/json`".to_owned(),
            });
        }
        serde_json::from_slice(&body)
            .map(ControlJson)
            .map_err(|error| {
                // Well-formed JSON of the wrong shape is 422, as with axum's own `Json`.
                let status = if error.is_data() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                };
                ControlError::BadBody {
                    status,
                    detail: format!("the body is not valid: {error}"),
                }
            })
    }
}

/// Lets through loopback callers without an `Origin` header that present the control
/// token; refuses everyone else.
async fn local_callers_with_the_token_only(
    State(token): State<Arc<ControlToken>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let presented = bearer_token(request.headers());
    // An application served without connection info cannot tell who calls: refuse.
    let refusal = if !peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback()) {
        tracing::warn!(?peer, "control request from a non-loopback caller refused");
        Some(ControlError::NotLoopback)
    } else if request.headers().contains_key(http::header::ORIGIN) {
        Some(ControlError::FromBrowser)
    } else if !presented.is_some_and(|presented| token.matches(presented)) {
        tracing::warn!(?peer, "control request without the control token refused");
        Some(ControlError::NoToken)
    } else {
        None
    };
    match refusal {
        Some(refusal) => {
            // Drain the (size-limited) body first: see `ControlJson`.
            let _ = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await;
            refusal.into_response()
        }
        None => next.run(request).await,
    }
}

/// `POST /_control/reset`: the tenant as loaded at start, no registered clients, codes or
/// refresh tokens, and the real clock. Signing keys are kept, so tokens issued before
/// still verify.
async fn reset(
    State(control): State<Control>,
    // Read (and ignored) so that a body sent along never leaves the stream half-read.
    _body: Bytes,
) -> Result<StatusCode, ControlError> {
    control.app.replace_tenant(Tenant::clone(&control.initial));
    control.app.reset_persisted().await.map_err(|error| {
        tracing::error!(%error, "control reset could not clear the stores");
        ControlError::Internal
    })?;
    control.app.tokens.clock().set_real();
    tracing::info!("control: tenant reset");
    Ok(StatusCode::NO_CONTENT)
}

/// The clock as `GET /_control/clock` reports it.
#[derive(Serialize)]
struct ClockState {
    /// The tenant's "now", Unix seconds.
    now: u64,
    #[serde(flatten)]
    mode: ClockMode,
}

fn clock_state(app: &AppState) -> ClockState {
    let clock = app.tokens.clock();
    ClockState {
        now: clock.now(),
        mode: clock.mode(),
    }
}

/// `GET /_control/clock`.
async fn clock(State(control): State<Control>) -> Json<ClockState> {
    Json(clock_state(&control.app))
}

/// What `GET /_control/stats` counts: dynamic registrations, what the Client ID
/// Metadata Document fetcher did (a test proves with these that a client never
/// registered, or that a refused URL was never fetched), and token exchanges answered
/// with a token (one per subject token across MCP server replicas that share a cache).
#[derive(Debug, Serialize)]
struct Stats {
    dynamic_registrations: usize,
    client_metadata_fetches: u64,
    client_metadata_cache_hits: u64,
    client_metadata_refusals: u64,
    token_exchanges: u64,
}

/// `GET /_control/stats`.
async fn stats(State(control): State<Control>) -> Json<Stats> {
    let counters = &control.app.client_metadata.counters;
    let read =
        |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
    Json(Stats {
        dynamic_registrations: control.app.dynamic_registrations(),
        client_metadata_fetches: read(&counters.fetches),
        client_metadata_cache_hits: read(&counters.cache_hits),
        client_metadata_refusals: read(&counters.refusals),
        token_exchanges: control.app.token_exchanges(),
    })
}

/// The body of `POST /_control/clock`: exactly one of the three.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    /// Stop the clock at this Unix time.
    freeze_at: Option<u64>,
    /// Move the clock by this many seconds (negative: back); a frozen clock stays frozen.
    advance_by: Option<i64>,
    /// `true`: back to the system clock.
    real: Option<bool>,
}

/// `POST /_control/clock`: freeze, advance, or back to real time; answers the new state.
async fn set_clock(
    State(control): State<Control>,
    ControlJson(change): ControlJson<ClockChange>,
) -> Result<Json<ClockState>, ControlError> {
    let clock = control.app.tokens.clock();
    match change {
        ClockChange {
            freeze_at: Some(at),
            advance_by: None,
            real: None,
        } => clock.freeze_at(at),
        ClockChange {
            freeze_at: None,
            advance_by: Some(seconds),
            real: None,
        } => clock.advance(seconds),
        ClockChange {
            freeze_at: None,
            advance_by: None,
            real: Some(true),
        } => clock.set_real(),
        _ => {
            return Err(ControlError::Invalid(
                r#"give exactly one of {"freeze_at": <unix seconds>}, {"advance_by": <seconds>}, {"real": true}"#
                    .to_owned(),
            ));
        }
    }
    let state = clock_state(&control.app);
    tracing::info!(now = state.now, mode = ?state.mode, "control: clock set");
    Ok(Json(state))
}

/// The body of `POST /_control/mint`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    /// `aud`. A tenant API's identifier gives that API's dialect and lifetime; any other
    /// value is allowed too (a test of a resource server refusing a foreign audience).
    audience: String,
    /// `sub`.
    sub: String,
    /// `client_id` / `azp` (by dialect).
    #[serde(default)]
    client_id: Option<String>,
    /// `scope`, space-separated.
    #[serde(default)]
    scope: Option<String>,
    /// `permissions`, written by the `_authz` dialects.
    #[serde(default)]
    permissions: Vec<String>,
    /// Lifetime in seconds; the API's `token_lifetime` when absent.
    #[serde(default)]
    expires_in: Option<u64>,
    /// The dialect; the API's when absent (`access_token_authz` for foreign audiences).
    #[serde(default)]
    token_dialect: Option<TokenDialect>,
    /// Further claims, written as given; may not name the claims above or `iss`, `iat`,
    /// `exp`, `jti`, `gty`.
    #[serde(default)]
    claims: Map<String, Value>,
}

/// A minted token, shaped like the token endpoint's answer.
#[derive(Serialize)]
struct Minted {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `POST /_control/mint`: a token signed with the tenant's current key, exactly as a
/// granted one would be, with the claims the test asks for.
async fn mint(
    State(control): State<Control>,
    ControlJson(request): ControlJson<MintRequest>,
) -> Result<Json<Minted>, ControlError> {
    if let Some(reserved) = request
        .claims
        .keys()
        .find(|name| RESERVED_CLAIMS.contains(&name.as_str()))
    {
        return Err(ControlError::Invalid(format!(
            "`claims` may not set `{reserved}`: it is set from the request's own fields or by the tenant"
        )));
    }
    let tenant = control.app.tenant();
    let mut api = tenant
        .resource_server(&request.audience)
        .cloned()
        .unwrap_or_else(|| ResourceServer {
            name: "minted through the control surface".to_owned(),
            identifier: request.audience.clone(),
            scopes: Vec::new(),
            signing_alg: Default::default(),
            token_dialect: TokenDialect::AccessTokenAuthz,
            enforce_policies: false,
            allow_offline_access: false,
            token_lifetime: 86_400,
            subject_type_authorization: None,
        });
    if let Some(dialect) = request.token_dialect {
        api.token_dialect = dialect;
    }
    if let Some(lifetime) = request.expires_in {
        api.token_lifetime = lifetime;
    }
    let scopes: Vec<String> = request
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let spec = AccessTokenSpec {
        subject: &request.sub,
        client_id: request.client_id.as_deref().unwrap_or(DEFAULT_MINT_CLIENT),
        api: Some(&api),
        scopes: &scopes,
        permissions: &request.permissions,
        gty: None,
        userinfo_audience: false,
        extra_claims: request.claims.clone(),
    };
    let minted = control.app.tokens.access_token(&spec).map_err(|error| {
        tracing::error!(?error, "control mint failed");
        ControlError::Internal
    })?;
    tracing::info!(audience = %request.audience, "control: token minted");
    Ok(Json(Minted {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.expires_in,
    }))
}
