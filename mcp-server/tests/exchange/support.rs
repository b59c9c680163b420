//! Stand-ins for the IdP and the upstream API, each on 127.0.0.1:0.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bearer_auth::Issuer;
use mcp_server::exchange::{ExchangeConfig, ExchangeGrant, TokenExchanger};
use mcp_server::metrics::Metrics;
use mcp_server::upstream::{UpstreamClient, UpstreamConfig};
use serde_json::json;
use tokio::sync::watch;
use url::Url;

/// What the stand-in IdP's token endpoint does.
#[derive(Clone, Debug)]
pub enum IdpAnswer {
    /// Issue a token valid for this many seconds.
    Issue { expires_in: u64 },
    /// Refuse with an RFC 6749 §5.2 error.
    Refuse {
        status: StatusCode,
        error: &'static str,
        description: &'static str,
    },
    /// Never answer (to exercise the timeout).
    Hang,
}

#[derive(Clone)]
struct IdpState {
    issuer: Url,
    answer: Arc<Mutex<IdpAnswer>>,
    discoveries: Arc<AtomicUsize>,
    /// Exchange requests received; a watch so tests can wait for a count.
    exchanges: watch::Sender<usize>,
    /// While true, the token endpoint holds every answer (after counting the request).
    holding: watch::Sender<bool>,
    forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

/// An IdP with a discovery document and a token endpoint that counts exchanges.
pub struct Idp {
    pub issuer: Url,
    state: IdpState,
}

impl Idp {
    pub async fn start(answer: IdpAnswer) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let state = IdpState {
            issuer: issuer.clone(),
            answer: Arc::new(Mutex::new(answer)),
            discoveries: Arc::default(),
            exchanges: watch::Sender::new(0),
            holding: watch::Sender::new(false),
            forms: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/oauth/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Idp { issuer, state }
    }

    /// Changes what the token endpoint answers from now on.
    pub fn answer(&self, answer: IdpAnswer) {
        *self.state.answer.lock().unwrap() = answer;
    }

    /// Exchange requests received so far.
    pub fn exchanges(&self) -> usize {
        *self.state.exchanges.borrow()
    }

    /// Waits (at most 10 s) until at least `count` exchange requests arrived.
    pub async fn wait_for_exchanges(&self, count: usize) {
        let mut received = self.state.exchanges.subscribe();
        let reached =
            tokio::time::timeout(Duration::from_secs(10), received.wait_for(|n| *n >= count)).await;
        assert!(
            reached.is_ok(),
            "waited 10 s for {count} exchange requests, saw {}",
            self.exchanges()
        );
    }

    /// From now on the token endpoint counts each request, then holds its answer until
    /// [`Idp::release`].
    pub fn hold_answers(&self) {
        self.state.holding.send_replace(true);
    }

    /// Lets every held answer (and every later one) go.
    pub fn release(&self) {
        self.state.holding.send_replace(false);
    }

    /// Discovery requests received so far.
    pub fn discoveries(&self) -> usize {
        self.state.discoveries.load(Ordering::SeqCst)
    }

    /// Every exchange request's form, in order.
    pub fn forms(&self) -> Vec<HashMap<String, String>> {
        self.state.forms.lock().unwrap().clone()
    }
}

async fn discovery(State(state): State<IdpState>) -> Json<serde_json::Value> {
    state.discoveries.fetch_add(1, Ordering::SeqCst);
    Json(json!({
        "issuer": state.issuer.as_str(),
        "token_endpoint": state.issuer.join("oauth/token").unwrap().as_str(),
        "jwks_uri": state.issuer.join(".well-known/jwks.json").unwrap().as_str(),
    }))
}

async fn token(
    State(state): State<IdpState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let subject = form.get("subject_token").cloned().unwrap_or_default();
    state.forms.lock().unwrap().push(form);
    let mut n = 0;
    state.exchanges.send_modify(|count| {
        *count += 1;
        n = *count;
    });
    let mut holding = state.holding.subscribe();
    let _ = holding.wait_for(|held| !held).await;
    let answer = state.answer.lock().unwrap().clone();
    match answer {
        IdpAnswer::Issue { expires_in } => Json(json!({
            "access_token": exchanged_token(&subject, n),
            "expires_in": expires_in,
            "token_type": "Bearer",
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "scope": "read:private",
        }))
        .into_response(),
        IdpAnswer::Refuse {
            status,
            error,
            description,
        } => (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response(),
        IdpAnswer::Hang => std::future::pending().await,
    }
}

/// The token the stand-in IdP issues for the `n`th exchange of `subject`.
pub fn exchanged_token(subject: &str, n: usize) -> String {
    format!("exchanged-{n}-for-{subject}")
}

#[derive(Clone)]
struct UpstreamState {
    status: Arc<Mutex<StatusCode>>,
    bearers: Arc<Mutex<Vec<String>>>,
}

/// An upstream API serving `GET {prefix}/api/private-scope`, recording the bearer tokens
/// it is given.
pub struct Upstream {
    /// The base URL (ends with `/`).
    pub base: Url,
    state: UpstreamState,
}

impl Upstream {
    /// Serves under `prefix` (e.g. `""` or `"/v1"`).
    pub async fn start(prefix: &str) -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!(
            "http://{}{prefix}/",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let state = UpstreamState {
            status: Arc::new(Mutex::new(StatusCode::OK)),
            bearers: Arc::default(),
        };
        let app = Router::new()
            .route(&format!("{prefix}/api/private-scope"), get(private_scope))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { base, state }
    }

    /// Makes the API answer this status from now on.
    pub fn status(&self, status: StatusCode) {
        *self.state.status.lock().unwrap() = status;
    }

    /// Every bearer token received so far.
    pub fn bearers(&self) -> Vec<String> {
        self.state.bearers.lock().unwrap().clone()
    }
}

async fn private_scope(State(state): State<UpstreamState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    state.bearers.lock().unwrap().push(bearer.clone());
    let status = *state.status.lock().unwrap();
    if status != StatusCode::OK {
        return (status, Json(json!({ "error": "nope" }))).into_response();
    }
    Json(json!({ "msg": "Your access token has a read:private scope", "token": bearer }))
        .into_response()
}

/// Unix seconds `secs` from now.
pub fn in_secs(secs: u64) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + secs
}

/// The exchange configuration the tests use, pointing at `issuer`.
pub fn exchange_config(issuer: &Url) -> ExchangeConfig {
    ExchangeConfig::new(
        Issuer::from_auth0_domain(issuer.as_str()).unwrap(),
        "mcp-server-client",
        "mcp-server-secret".to_owned().into(),
        ExchangeGrant::custom_token_exchange(
            "urn:fastmcp:mcp",
            "http://localhost:8787/",
            Some("read:private".to_owned()),
        ),
    )
}

/// An exchanger for `issuer` with its own metrics registry.
pub fn exchanger(issuer: &Url) -> (TokenExchanger, Metrics) {
    let metrics = Metrics::new();
    let exchanger = TokenExchanger::new(exchange_config(issuer), metrics.clone()).unwrap();
    (exchanger, metrics)
}

/// An upstream client for `base`.
pub fn upstream_client(base: &Url, metrics: Metrics) -> UpstreamClient {
    UpstreamClient::new(&UpstreamConfig::new(base.clone()), metrics).unwrap()
}

/// A URL on which nothing listens.
pub async fn closed_url() -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    url
}

/// A short timeout for tests that wait on something that never answers.
pub const SHORT: Duration = Duration::from_millis(300);
