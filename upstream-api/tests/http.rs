//! The upstream API over real HTTP, against a tiny issuer that serves crafted keys:
//! what a caller (the MCP server, or curl) sees for each kind of token and route.

use std::time::{Duration, Instant};

use bearer_auth::JwksSettings;
use bearer_auth::testkit::{KeyServer, SigningKey, now};
use reqwest::StatusCode;
use serde_json::{Value, json};
use upstream_api::Config;

const AUDIENCE: &str = "http://localhost:8787/";
const MCP_AUDIENCE: &str = "http://localhost:3001/";

struct TestApi {
    base: String,
    http: reqwest::Client,
    server: KeyServer,
}

impl TestApi {
    /// Starts the API on 127.0.0.1:0 trusting `server`'s issuer.
    async fn start(server: &KeyServer) -> TestApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let config = Config {
            issuer: server.issuer().clone(),
            audience: AUDIENCE.to_owned(),
            jwks: JwksSettings {
                retry_initial: Duration::from_millis(20),
                retry_max: Duration::from_millis(100),
                ..JwksSettings::default()
            },
            ..Config::default()
        };
        let app = upstream_api::App::build_on(config, listener).await.unwrap();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApi {
            base,
            http: reqwest::Client::new(),
            server: server.clone(),
        }
    }

    async fn wait_ready(&self) {
        // The keys are fetched before the API can be ready; then poll /ready briefly.
        self.server.wait_for_jwks_fetches(1).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.get("/ready", None).await.0 == StatusCode::OK {
                return;
            }
            assert!(Instant::now() < deadline, "the API never became ready");
            tokio::task::yield_now().await;
        }
    }

    /// Sends a request; returns status, `WWW-Authenticate` and the JSON body.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, challenge, body)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
        self.send(reqwest::Method::GET, path, token).await
    }
}

fn invalid_token(description: &str) -> Option<String> {
    Some(format!(
        "Bearer error=\"invalid_token\", error_description=\"{description}\""
    ))
}

#[tokio::test]
async fn private_scope_answers_each_token_as_rfc_6750_says() {
    // Arrange
    let key = SigningKey::generate("key-a");
    let stranger = SigningKey::generate("key-a");
    let server = KeyServer::start(&[&key]).await;
    let api = TestApi::start(&server).await;
    api.wait_ready().await;
    let issuer = server.issuer();
    let token = |extra: Value| key.token(issuer, AUDIENCE, extra);
    let insufficient = Some(
        "Bearer error=\"insufficient_scope\", error_description=\"The access token lacks the required scope\", scope=\"read:private\""
            .to_owned(),
    );
    let mut no_typ = key.header();
    no_typ.as_object_mut().unwrap().remove("typ");
    let mut none_header = key.header();
    none_header["alg"] = json!("none");
    let mut jku_header = key.header();
    jku_header["jku"] = json!("https://evil.example/jwks.json");
    let claims = bearer_auth::testkit::claims(issuer, AUDIENCE, json!({ "scope": "read:private" }));

    let cases: Vec<(&str, Option<String>, StatusCode, Option<String>)> = vec![
        (
            "read:private in scope",
            Some(token(json!({ "scope": "openid read:private" }))),
            StatusCode::OK,
            None,
        ),
        (
            // Auth0's `permissions` lists what the user has, not what this client was
            // granted: only `scope` grants (RFC 9068 §2.2.3).
            "read:private in permissions only",
            Some(token(
                json!({ "scope": "openid", "permissions": ["read:private"] }),
            )),
            StatusCode::FORBIDDEN,
            insufficient.clone(),
        ),
        (
            "no token",
            None,
            StatusCode::UNAUTHORIZED,
            Some("Bearer".to_owned()),
        ),
        (
            "valid token without read:private",
            Some(token(json!({ "scope": "openid" }))),
            StatusCode::FORBIDDEN,
            insufficient,
        ),
        (
            "a token for the MCP server",
            Some(key.token(issuer, MCP_AUDIENCE, json!({ "scope": "read:private" }))),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token is meant for another audience"),
        ),
        (
            "expired",
            Some(token(
                json!({ "scope": "read:private", "exp": now() - 3600, "iat": now() - 7200 }),
            )),
            StatusCode::UNAUTHORIZED,
            invalid_token("The access token has expired"),
        ),
        (
            "not yet valid",
            Some(token(
                json!({ "scope": "read:private", "nbf": now() + 3600 }),
            )),
            StatusCode::UNAUTHORIZED,
            invalid_token("The access token is not valid yet"),
        ),
        (
            "issued in the future",
            Some(token(
                json!({ "scope": "read:private", "iat": now() + 3600 }),
            )),
            StatusCode::UNAUTHORIZED,
            invalid_token("The access token was issued in the future"),
        ),
        (
            "another issuer",
            Some(token(
                json!({ "scope": "read:private", "iss": "https://evil.example/" }),
            )),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token was issued by another issuer"),
        ),
        (
            "sub missing",
            Some(token(json!({ "scope": "read:private", "sub": null }))),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token lacks a required claim"),
        ),
        (
            "bad signature",
            Some(stranger.token(issuer, AUDIENCE, json!({ "scope": "read:private" }))),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token signature is invalid"),
        ),
        (
            "alg none",
            Some(key.sign(&none_header, &claims)),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token signing algorithm is not accepted"),
        ),
        (
            "jku header",
            Some(key.sign(&jku_header, &claims)),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token header may not carry its own key"),
        ),
        (
            "typ missing",
            Some(key.sign(&no_typ, &claims)),
            StatusCode::UNAUTHORIZED,
            invalid_token("The token type is not accepted"),
        ),
        (
            "malformed",
            Some("abc.def.ghi".to_owned()),
            StatusCode::UNAUTHORIZED,
            invalid_token("The access token is malformed"),
        ),
    ];

    // Act and assert
    let mut failures = Vec::new();
    for (name, token, status, challenge) in cases {
        let (got_status, got_challenge, body) =
            api.get("/api/private-scope", token.as_deref()).await;
        if got_status != status || got_challenge != challenge {
            failures.push(format!(
                "{name}: expected {status} {challenge:?}, got {got_status} {got_challenge:?} {body}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn an_allowed_caller_gets_the_greeting_with_its_subject_and_scopes() {
    // Arrange
    let key = SigningKey::generate("key-a");
    let server = KeyServer::start(&[&key]).await;
    let api = TestApi::start(&server).await;
    api.wait_ready().await;
    let token = key.token(
        server.issuer(),
        AUDIENCE,
        json!({ "sub": "auth0|admin", "scope": "read:private", "permissions": ["read:private"] }),
    );

    // Act
    let (status, _, body) = api.get("/api/private-scope", Some(&token)).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "msg": "Hello from upstream API", "sub": "auth0|admin", "scopes": ["read:private"] })
    );
}

#[tokio::test]
async fn open_routes_unknown_routes_and_wrong_methods_answer_json() {
    // Arrange
    let key = SigningKey::generate("key-a");
    let server = KeyServer::start(&[&key]).await;
    let api = TestApi::start(&server).await;
    api.wait_ready().await;

    // Act
    let public = api.get("/api/public", None).await;
    let health = api.get("/health", None).await;
    let ready = api.get("/ready", None).await;
    let missing = api.get("/api/nope", None).await;
    let wrong_method = api
        .send(reqwest::Method::POST, "/api/private-scope", None)
        .await;
    let token = key.token(
        server.issuer(),
        AUDIENCE,
        json!({ "scope": "read:private" }),
    );
    let in_query = api
        .get(&format!("/api/private-scope?access_token={token}"), None)
        .await;
    let wrong_method_open = api.send(reqwest::Method::DELETE, "/health", None).await;

    // Assert
    assert_eq!(public.0, StatusCode::OK);
    assert!(public.2["msg"].is_string());
    assert_eq!(
        (health.0, health.2),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    assert_eq!(
        (ready.0, ready.2),
        (StatusCode::OK, json!({ "status": "ready" }))
    );
    assert_eq!(
        (missing.0, &missing.2["error"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
    assert_eq!(missing.1, None);
    assert_eq!(
        (wrong_method.0, &wrong_method.2["error"]),
        (StatusCode::METHOD_NOT_ALLOWED, &json!("method_not_allowed"))
    );
    assert_eq!(wrong_method.1, None);
    assert_eq!(wrong_method_open.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(in_query.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        in_query.1.as_deref(),
        Some(
            "Bearer error=\"invalid_request\", error_description=\"Access tokens in the query string are not accepted\""
        )
    );
}

#[tokio::test]
async fn while_the_idp_is_down_at_start_the_api_is_not_ready_and_answers_503_at_once() {
    // Arrange
    let key = SigningKey::generate("key-a");
    let server = KeyServer::start(&[&key]).await;
    server.set_down(true);
    let api = TestApi::start(&server).await;
    server.wait_for_discovery_fetches(2).await;
    let token = key.token(
        server.issuer(),
        AUDIENCE,
        json!({ "scope": "read:private" }),
    );

    // Act
    let started = Instant::now();
    let ready = api.get("/ready", None).await;
    let private = api.get("/api/private-scope", Some(&token)).await;
    let health = api.get("/health", None).await;
    let elapsed = started.elapsed();

    // Assert: not ready, 503 promptly, alive; then recovers when the IdP comes back.
    assert_eq!(ready.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(private.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(private.2["error"], "temporarily_unavailable");
    assert_eq!(health.0, StatusCode::OK);
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    server.set_down(false);
    api.wait_ready().await;
    assert_eq!(
        api.get("/api/private-scope", Some(&token)).await.0,
        StatusCode::OK
    );
}
