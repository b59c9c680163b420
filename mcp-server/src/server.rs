//! Assembles the HTTP application (rmcp's Streamable HTTP service behind the auth layer,
//! the discovery documents, health and metrics) and serves it.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use bearer_auth::{Verifier, VerifierConfig};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio_util::sync::CancellationToken;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

use crate::auth::{self, Gate, MAX_BODY_BYTES};
use crate::config::Config;
use crate::discovery::{self, Discovery};
use crate::greet::Greeter;
use crate::metrics::Metrics;
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

async fn count_status(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    metrics.http_request(response.status().as_u16());
    response
}

/// The span of one HTTP request: method and path only, since a query string may hold a
/// token that must not reach the logs.
fn request_span(request: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(verifier): State<Verifier>) -> Response {
    if verifier.is_ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "signing keys not loaded yet",
        )
            .into_response()
    }
}

async fn metrics_text(State(metrics): State<Metrics>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
        .into_response()
}

/// Builds the application. `shutdown` cancels rmcp's sessions and open streams.
pub fn app(config: &Config, shutdown: CancellationToken) -> anyhow::Result<Router> {
    let mut http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5));
    if let Some(ca_file) = &config.ca_file {
        http = http.tls_certs_merge(service_kit::read_ca_file(ca_file)?);
    }
    let http = http.build()?;
    let verifier = Verifier::new(
        VerifierConfig::new(config.issuer.clone(), config.audience.clone()),
        http.clone(),
    );
    let metrics = Metrics::new();
    let greeter = Arc::new(Greeter::new(config, metrics.clone())?);
    let tools = McpTools::new(greeter, metrics.clone());

    let rmcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!config.stateless)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(config))
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(shutdown);
    let mcp_service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        rmcp_config,
    );
    let gate = Gate::new(
        verifier.clone(),
        metrics.clone(),
        config.resource_metadata_url().to_string(),
        allowed_origins(config),
    );
    let mcp = Router::new()
        .route_service("/mcp", mcp_service)
        .layer(middleware::from_fn_with_state(gate, auth::guard));

    let well_known = Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .with_state(Discovery::new(config, http));

    let ops = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready).with_state(verifier))
        .route("/metrics", get(metrics_text).with_state(metrics.clone()));

    let mut app = Router::new().merge(mcp).merge(well_known).merge(ops);
    if let Some(cors) = cors(config) {
        app = app.layer(cors);
    }
    Ok(app
        .layer(middleware::from_fn_with_state(metrics, count_status))
        .layer(TraceLayer::new_for_http().make_span_with(request_span)))
}

/// Serves until `shutdown` resolves (then closes open MCP streams and drains).
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.log_effective();
    if !config
        .mcp_endpoint()
        .as_str()
        .starts_with(config.audience.as_str())
    {
        // MCP clients check that the protected resource is a prefix of the URL they use.
        tracing::warn!(
            audience = %config.audience,
            mcp_endpoint = %config.mcp_endpoint(),
            "AUTH0_AUDIENCE is not a prefix of the MCP endpoint URL; MCP clients will refuse the protected resource metadata"
        );
    }
    let cancel = CancellationToken::new();
    let app = app(&config, cancel.clone())?;
    tracing::info!(address = %listener.local_addr()?, mcp = %config.mcp_endpoint(), "mcp-server listening");
    service_kit::serve(listener, app, async move {
        shutdown.await;
        // Open MCP streams would otherwise hold graceful shutdown open forever.
        cancel.cancel();
    })
    .await?;
    Ok(())
}
