//! Custom Token Exchange throughput on one core: one exchange is form parsing, client
//! authentication, one RS256 verification of the subject token, the on-behalf-of Action's
//! checks and one RS256 signature, through the whole axum router (without TCP).
//! The target is at least 3,000 exchanges per second per core, i.e. at most ~330 µs each.

use axum::Router;
use axum::body::Body;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fake_auth0::Config;
use http::{Request, StatusCode, header};
use tower::ServiceExt as _;

/// POSTs a form to `/oauth/token` and returns the status and the JSON body.
async fn token(app: &Router, form: String) -> (StatusCode, serde_json::Value) {
    token_with(app, form, None).await
}

/// POSTs a form, with an `Authorization` header when given (HTTP Basic client
/// authentication, as auth0-api-python sends it).
async fn token_with(
    app: &Router,
    form: String,
    authorization: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::post("/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let request = request.body(Body::from(form)).expect("a valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .expect("a readable body");
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

fn exchanges(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = fake_auth0::router(Config::default()).expect("the demo tenant serves");

    // admin's token for the MCP server, the subject token of every exchange.
    let login = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("client_id", "demo-cli"),
        ("username", "admin@example.com"),
        ("password", "admin-pass"),
        ("audience", "http://localhost:3001/"),
        ("scope", "tool:greet"),
    ])
    .expect("a form");
    let (status, body) = runtime.block_on(token(&app, login));
    assert_eq!(status, StatusCode::OK, "{body}");
    let subject_token = body["access_token"].as_str().expect("a token").to_owned();

    let exchange = serde_urlencoded::to_string([
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("client_id", "mcp-server-client"),
        ("client_secret", "mcp-server-secret"),
        ("subject_token", subject_token.as_str()),
        ("subject_token_type", "urn:fastmcp:mcp"),
        ("audience", "http://localhost:8787/"),
        ("scope", "read:private"),
    ])
    .expect("a form");
    let (status, body) = runtime.block_on(token(&app, exchange.clone()));
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut group = c.benchmark_group("token_exchange");
    group.throughput(Throughput::Elements(1));
    group.bench_function("on_behalf_of", |b| {
        b.to_async(&runtime).iter(|| async {
            let (status, _) = token(&app, exchange.clone()).await;
            assert_eq!(status, StatusCode::OK);
        });
    });

    // The same exchange with HTTP Basic client authentication: the same client, registered
    // client_secret_post, which Auth0 (and now fake-auth0) accepts either way.
    let without_credentials: String = exchange
        .split('&')
        .filter(|pair| !pair.starts_with("client_id=") && !pair.starts_with("client_secret="))
        .collect::<Vec<_>>()
        .join("&");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "mcp-server-client:mcp-server-secret"
        )
    );
    let (status, body) =
        runtime.block_on(token_with(&app, without_credentials.clone(), Some(&basic)));
    assert_eq!(status, StatusCode::OK, "{body}");
    group.bench_function("on_behalf_of_basic_auth", |b| {
        b.to_async(&runtime).iter(|| async {
            let (status, _) = token_with(&app, without_credentials.clone(), Some(&basic)).await;
            assert_eq!(status, StatusCode::OK);
        });
    });

    // The floor: the one RS256 signature every exchange needs, so the figure above can be
    // read as "signature + everything else" on a busy machine.
    let key = fake_auth0::keys::SigningKey::generate().expect("a key");
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()});
    let claims = serde_json::json!({
        "iss": "http://localhost:4000/", "sub": "auth0|admin", "aud": "http://localhost:8787/",
        "iat": 1_700_000_000_u64, "exp": 1_700_086_400_u64, "scope": "read:private",
    });
    group.bench_function("rs256_sign_only", |b| {
        b.iter(|| key.sign_jwt(&header, &claims).expect("signed"));
    });
    group.finish();
}

criterion_group!(benches, exchanges);
criterion_main!(benches);
