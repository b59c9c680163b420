//! `greet` against the real fake-auth0 (password grant for the subject token, Custom Token
//! Exchange with the demo tenant's profile, or Auth0's On-Behalf-Of exchange with its
//! user-delegated grant) and the real upstream API, all in process.
//! Exchanges are counted by the exchanger's own metrics, one per POST to the IdP.

use bearer_auth::{Issuer, VerifiedToken, Verifier, VerifierConfig};
use mcp_server::exchange::{ExchangeError, ExchangeMode};
use mcp_server::greet::{GreetError, Greeter};
use mcp_server::metrics::Metrics;
use mcp_server::upstream::UpstreamError;
use serde_json::json;
use stack::{DemoUser, TestStack};
use tokio::task::JoinSet;
use url::Url;

const ADMIN: DemoUser = DemoUser::Admin;
const USER: DemoUser = DemoUser::User;

/// The `stack` crate's wiring of fake-auth0 and the upstream API (its MCP server runs too,
/// unused: the greeters here are built beside it, each with its own metrics).
struct RealStack {
    issuer: String,
    api: String,
    mcp_audience: String,
    verifier: Verifier,
    stack: TestStack,
}

impl RealStack {
    async fn start() -> RealStack {
        let stack = TestStack::start().await.expect("the stack starts");
        let issuer = stack.idp_url.to_string();
        let mcp_audience = stack.mcp_url.to_string();
        let verifier = Verifier::new(
            VerifierConfig::new(Issuer::from_auth0_domain(&issuer).unwrap(), &mcp_audience),
            reqwest::Client::new(),
        );
        verifier.ready().await;
        RealStack {
            issuer,
            api: stack.upstream_url.to_string(),
            mcp_audience,
            verifier,
            stack,
        }
    }

    /// A greeter configured as the MCP server would be (Custom Token Exchange, the demo's
    /// default), with its own metrics.
    fn greeter(&self) -> (Greeter, Metrics) {
        self.greeter_in(mcp_server::Config::default().exchange_mode)
    }

    /// A greeter using the exchange `mode`.
    fn greeter_in(&self, mode: ExchangeMode) -> (Greeter, Metrics) {
        let config = mcp_server::Config {
            issuer: Issuer::from_auth0_domain(&self.issuer).unwrap(),
            audience: self.mcp_audience.clone(),
            api_audience: self.api.clone(),
            api_base_url: Url::parse(&self.api).unwrap(),
            exchange_mode: mode,
            ..mcp_server::Config::default()
        };
        let metrics = Metrics::new();
        (
            Greeter::new(&config, &[], metrics.clone(), None).unwrap(),
            metrics,
        )
    }

    /// A token for the MCP API by the password grant, and what verifying it gives.
    async fn login(&self, user: DemoUser) -> (String, VerifiedToken) {
        let token = self.stack.token_for(user).await.unwrap();
        let verified = self.verifier.verify(&token).await.unwrap();
        (token, verified)
    }
}

fn exchanges(metrics: &Metrics, outcome: &str) -> String {
    let text = metrics.render();
    let prefix = format!("mcp_token_exchanges_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or("0")
        .to_owned()
}

#[tokio::test]
async fn admins_greet_returns_the_upstream_answer_for_admin() {
    // Arrange
    let stack = RealStack::start().await;
    let (greeter, _) = stack.greeter();
    let (token, admin) = stack.login(ADMIN).await;

    // Act
    let out = greeter.greet(&admin, &token, None).await.unwrap();

    // Assert: the upstream API accepted the exchanged token (its audience is the upstream
    // API's; the inbound token, for the MCP API, would have been refused) for admin.
    assert!(
        out.message.ends_with(&format!("({})!", admin.subject)),
        "{}",
        out.message
    );
    assert_eq!(out.upstream["sub"], json!(admin.subject));
    assert!(
        out.upstream["scopes"].to_string().contains("read:private"),
        "{}",
        out.upstream
    );
}

#[tokio::test]
async fn the_upstream_api_refuses_the_inbound_token_itself() {
    // The reason the exchange exists: the MCP token is not for the upstream API.
    let stack = RealStack::start().await;
    let (token, _) = stack.login(ADMIN).await;

    let status = stack
        .stack
        .http()
        .get(format!("{}api/private-scope", stack.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();

    assert_eq!(status, 401);
}

#[tokio::test]
async fn fifty_greets_by_admin_make_one_exchange() {
    let stack = RealStack::start().await;
    let (greeter, metrics) = stack.greeter();
    let (token, admin) = stack.login(ADMIN).await;

    for _ in 0..50 {
        greeter.greet(&admin, &token, None).await.unwrap();
    }

    assert_eq!(exchanges(&metrics, "ok"), "1");
    let text = metrics.render();
    assert!(
        text.contains(r#"mcp_exchange_cache_requests_total{result="hit"} 49"#),
        "{text}"
    );
}

#[tokio::test]
async fn two_users_make_two_exchanges() {
    let stack = RealStack::start().await;
    let (greeter, metrics) = stack.greeter();
    let (admin_token, admin) = stack.login(ADMIN).await;
    let (user_token, user) = stack.login(USER).await;

    for _ in 0..5 {
        greeter
            .exchanger()
            .exchange(&admin_token, admin.expires_at)
            .await
            .unwrap();
        greeter
            .exchanger()
            .exchange(&user_token, user.expires_at)
            .await
            .unwrap();
    }

    assert_eq!(exchanges(&metrics, "ok"), "2");
}

#[tokio::test]
async fn twenty_concurrent_first_greets_share_one_exchange() {
    let stack = RealStack::start().await;
    let (greeter, metrics) = stack.greeter();
    let (token, admin) = stack.login(ADMIN).await;

    let mut calls = JoinSet::new();
    for _ in 0..20 {
        let (greeter, token, admin) = (greeter.clone(), token.clone(), admin.clone());
        calls.spawn(async move { greeter.greet(&admin, &token, None).await });
    }
    let results = calls.join_all().await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(exchanges(&metrics, "ok"), "1");
}

#[tokio::test]
async fn a_user_without_read_private_gets_a_tool_error_naming_the_status() {
    // user@example.com may exchange, but the issued token lacks read:private (the API
    // enforces RBAC), so the upstream API refuses it: an error, never a success.
    let stack = RealStack::start().await;
    let (greeter, _) = stack.greeter();
    let (token, user) = stack.login(USER).await;

    let err = greeter.greet(&user, &token, None).await.unwrap_err();

    assert_eq!(
        err,
        GreetError::Upstream(UpstreamError::Status { status: 403 })
    );
    assert!(err.to_string().contains("HTTP 403"), "{err}");
}

#[tokio::test]
async fn on_behalf_of_greets_admin_with_act_naming_the_mcp_servers_client_once() {
    let stack = RealStack::start().await;
    let (greeter, metrics) = stack.greeter_in(ExchangeMode::OnBehalfOf);
    let (token, admin) = stack.login(ADMIN).await;

    let out = greeter.greet(&admin, &token, None).await.unwrap();
    for _ in 0..9 {
        greeter.greet(&admin, &token, None).await.unwrap();
    }

    assert_eq!(out.upstream["sub"], json!(admin.subject));
    assert_eq!(
        out.upstream["act"]["sub"], "mcp-server-client",
        "{}",
        out.upstream
    );
    assert_eq!(
        out.upstream["act"]["act"]["sub"], "demo-cli",
        "{}",
        out.upstream
    );
    assert_eq!(exchanges(&metrics, "ok"), "1");
}

#[tokio::test]
async fn on_behalf_of_for_a_user_without_read_private_is_refused_saying_what_to_fix() {
    // With OBO, Auth0 refuses the exchange itself (403) when the user lacks the scope.
    let stack = RealStack::start().await;
    let (greeter, metrics) = stack.greeter_in(ExchangeMode::OnBehalfOf);
    let (token, user) = stack.login(USER).await;

    let err = greeter.greet(&user, &token, None).await.unwrap_err();

    let GreetError::Exchange(ExchangeError::Refused { status, error, .. }) = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*status, error.as_str()), (403, "access_denied"));
    let text = err.to_string();
    assert!(
        text.contains("to fix:") && text.contains("MCP_AUTH0_EXCHANGE_SCOPE"),
        "{text}"
    );
    assert!(
        !text.contains(&token),
        "the tool error never shows the token"
    );
    assert_eq!(exchanges(&metrics, "refused"), "1");
}
