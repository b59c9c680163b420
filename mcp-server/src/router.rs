//! Assembles the HTTP application: rmcp's Streamable HTTP service (twice: with and without
//! SSE priming events, see `era`) behind the gate (`auth`), the discovery documents
//! (`discovery`), the operational routes (`ops`), CORS, metrics and tracing.
//!
//! The `Host` allow-list (rmcp's DNS-rebinding defence) and the `Origin` allow-list (the
//! gate's) are derived here from MCP_SERVER_URL, MCP_ALLOWED_HOSTS and MCP_ALLOWED_ORIGINS.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware,
    response::Response,
    routing::{any, get},
};
use bearer_auth::Verifier;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService,
    session::{SessionStore, local::LocalSessionManager},
};
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{self, Gate, GateSessions, MAX_BODY_BYTES};
use crate::config::Config;
use crate::discovery::{self, Discovery};
use crate::era::SseFraming;
use crate::greet::Greeter;
use crate::metrics::Metrics;
use crate::ops;
use crate::session_store::RedisSessionStore;
use crate::shared_state::SharedState;
use crate::tools::McpTools;

/// Host names that all mean "this machine"; when MCP_SERVER_URL names one, all are accepted.
const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The `Host` values rmcp accepts on /mcp (its DNS-rebinding defence): MCP_SERVER_URL's
/// host plus the configured extras. rmcp's default (loopback only) would refuse every
/// request behind a proxy or in compose.
fn allowed_hosts(config: &Config) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    if let Some(host) = config.server_url.host_str() {
        let host = host
            .trim_matches(|c| c == '[' || c == ']')
            .to_ascii_lowercase();
        if LOOPBACK_HOSTS.contains(&host.as_str()) {
            hosts.extend(LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()));
        } else {
            hosts.push(host);
        }
    }
    hosts.extend(config.allowed_hosts.iter().cloned());
    hosts
}

/// Origins allowed on /mcp: the configured browser origins and MCP_SERVER_URL's own.
fn allowed_origins(config: &Config) -> Vec<String> {
    let mut origins = config.allowed_origins.clone();
    origins.push(config.server_url.origin().ascii_serialization());
    origins
}

fn cors(config: &Config) -> Option<CorsLayer> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("last-event-id"),
                HeaderName::from_static("mcp-session-id"),
                HeaderName::from_static("mcp-protocol-version"),
                HeaderName::from_static("mcp-method"),
                HeaderName::from_static("mcp-name"),
            ])
            .expose_headers([
                HeaderName::from_static("mcp-session-id"),
                header::WWW_AUTHENTICATE,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// rmcp's Streamable HTTP service for this server's tools.
type McpService = StreamableHttpService<McpTools, LocalSessionManager>;

/// The two rmcp services behind the gate, alike but for SSE priming events (`era`): rmcp
/// 3.11 can turn them on or off only per service. Each has its own sessions; a session
/// stays with the service that opened it (the gate remembers which). Shared behind an
/// `Arc`: axum clones a route's state for every request, and a service's clone copies its
/// whole configuration (allowed hosts and all): cloning both cost 13–16k instructions of
/// every call.
struct McpServices {
    primed: McpService,
    plain: McpService,
}

/// `/mcp`: the request goes to the service of the framing the gate chose.
async fn serve_mcp(State(services): State<Arc<McpServices>>, request: Request) -> Response {
    let service = match request.extensions().get::<SseFraming>() {
        Some(SseFraming::Plain) => &services.plain,
        Some(SseFraming::Primed) | None => &services.primed,
    };
    service.handle(request).await.map(Body::new)
}

/// What the router is assembled from; `App::build_on` makes them.
pub(crate) struct Parts {
    /// Verifies inbound tokens on /mcp; /ready reports whether it has keys.
    pub(crate) verifier: Verifier,
    /// Counts requests, refusals, tool calls and exchanges.
    pub(crate) metrics: Metrics,
    /// Runs `greet` (token exchange and upstream call).
    pub(crate) greeter: Arc<Greeter>,
    /// Reaches the issuer for the re-served authorization server metadata.
    pub(crate) issuer_http: reqwest::Client,
    /// Cancels rmcp's sessions and open streams when shutdown begins.
    pub(crate) sessions: CancellationToken,
    /// Redis shared with the other replicas (MCP_REDIS_URL), if any.
    pub(crate) shared: Option<SharedState>,
}

/// The whole application: /mcp behind its gate, the discovery documents, the operational
/// routes, CORS, metrics and tracing.
pub(crate) fn router(config: &Config, parts: Parts) -> Router {
    let Parts {
        verifier,
        metrics,
        greeter,
        issuer_http,
        sessions,
        shared,
    } = parts;
    let tools = McpTools::new(greeter, metrics.clone());
    let limits = config.session_limits;
    let session_store = shared
        .clone()
        .map(|shared| RedisSessionStore::new(shared, limits.idle_timeout));
    let mut rmcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!config.stateless)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(config))
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(sessions);
    // Sessions another replica opened (or this one, before a restart) are restored from it.
    rmcp_config.session_store = session_store
        .clone()
        .map(|store| Arc::new(store) as Arc<dyn SessionStore>);
    let service = |sse_retry: Option<Duration>| {
        let tools = tools.clone();
        let mut session_manager = LocalSessionManager::default();
        session_manager.session_config.sse_retry = sse_retry;
        // One idle expiry for rmcp's session, the gate's binding and the Redis TTL.
        session_manager.session_config.keep_alive = Some(limits.idle_timeout);
        StreamableHttpService::new(
            move || Ok(tools.clone()),
            Arc::new(session_manager),
            rmcp_config.clone().with_sse_retry(sse_retry),
        )
    };
    let services = Arc::new(McpServices {
        primed: service(rmcp_config.sse_retry),
        plain: service(None),
    });
    let gate = Gate::new(
        verifier.clone(),
        metrics.clone(),
        config.resource_metadata_url().to_string(),
        allowed_origins(config),
        GateSessions {
            stateless: config.stateless,
            limits,
            shared: session_store,
        },
    );
    let mcp = Router::new()
        .route("/mcp", any(serve_mcp).with_state(services))
        .layer(middleware::from_fn_with_state(gate, auth::guard));

    // One protected resource metadata document, where RFC 9728 §3.1 puts it for
    // AUTH0_AUDIENCE: a second one would have to name another `resource` (§3.3), one that
    // no token carries.
    let well_known = Router::new()
        .route(
            &format!("/{}", config.resource_metadata_path()),
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .with_state(Discovery::new(config, issuer_http));

    // Everything but /mcp answers in one piece and is bound by the request timeout; /mcp's
    // SSE replies and GET streams last as long as their session, and its tool calls are
    // bound by the exchange and upstream timeouts instead.
    let answered_at_once = Router::new()
        .merge(well_known)
        .merge(ops::routes(verifier, metrics.clone(), shared))
        .layer(config.limits.request_timeout_layer());
    let mut app = Router::new().merge(mcp).merge(answered_at_once);
    if let Some(cors) = cors(config) {
        app = app.layer(cors);
    }
    service_kit::with_access_log(
        app.layer(middleware::from_fn_with_state(metrics, ops::count_status)),
    )
}
