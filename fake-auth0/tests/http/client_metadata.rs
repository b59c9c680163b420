//! Client ID Metadata Documents: a client whose `client_id` is an https URL, its document
//! served over HTTPS on loopback by the test (with fake-auth0's `--tls` CA), fetched on
//! first use; every refusal rule; the cache; Auth0's registered-only mode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fake_auth0::Tenant;
use fake_auth0::tls::TlsSettings;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{
    CHALLENGE, MCP_API, TestApp, VERIFIER, hidden_input, location, query_param,
    spawn_tls_app_with_data_dir,
};

/// What the document server answers on one path.
#[derive(Clone)]
struct Served {
    status: u16,
    content_type: &'static str,
    cache_control: Option<&'static str>,
    location: Option<&'static str>,
    body: String,
}

impl Served {
    fn json(body: &Value) -> Served {
        Served {
            status: 200,
            content_type: "application/json",
            cache_control: None,
            location: None,
            body: body.to_string(),
        }
    }
}

#[derive(Clone, Default)]
struct Documents {
    served: Arc<Mutex<HashMap<String, Served>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

async fn serve_document(State(documents): State<Documents>, uri: http::Uri) -> Response {
    let path = uri.path().to_owned();
    *documents
        .hits
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default() += 1;
    let Some(served) = documents.served.lock().unwrap().get(&path).cloned() else {
        return http::StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (
        http::StatusCode::from_u16(served.status).unwrap(),
        [(http::header::CONTENT_TYPE, served.content_type)],
        served.body,
    )
        .into_response();
    if let Some(cache_control) = served.cache_control {
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static(cache_control),
        );
    }
    if let Some(target) = served.location {
        response.headers_mut().insert(
            http::header::LOCATION,
            http::HeaderValue::from_static(target),
        );
    }
    response
}

/// A fake-auth0 over HTTPS and an HTTPS document server, both on loopback, trusting the
/// same local CA.
struct Fixture {
    app: TestApp,
    /// `https://localhost:<port>/` of the document server.
    documents_base: String,
    documents: Documents,
    tls_dir: RemovedOnDrop,
    _stop_documents: tokio::sync::oneshot::Sender<()>,
}

/// A temporary directory, removed when the test ends.
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Fixture {
    async fn start(name: &str, tenant: Tenant) -> Fixture {
        Self::start_with_data_dir(name, tenant, None).await
    }

    async fn start_with_data_dir(
        name: &str,
        tenant: Tenant,
        data_dir: Option<&std::path::Path>,
    ) -> Fixture {
        let tls_dir =
            std::env::temp_dir().join(format!("fake-auth0-cimd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tls_dir);
        let app = spawn_tls_app_with_data_dir(tenant, &tls_dir, data_dir, 0).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let documents_base = format!(
            "https://localhost:{}/",
            listener.local_addr().unwrap().port()
        );
        let server = TlsSettings {
            dir: tls_dir.clone(),
        }
        .server(&Url::parse(&documents_base).unwrap())
        .unwrap();
        let documents = Documents::default();
        let router = axum::Router::new()
            .fallback(serve_document)
            .with_state(documents.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.serve(listener, router, async {
            let _ = stopped.await;
        }));
        Fixture {
            app,
            documents_base,
            documents,
            tls_dir: RemovedOnDrop(tls_dir),
            _stop_documents: stop,
        }
    }

    /// Stops fake-auth0 and starts it again on `data_dir` (the document server stays).
    async fn restart(self, tenant: Tenant, data_dir: &std::path::Path) -> Fixture {
        let Fixture {
            app,
            documents_base,
            documents,
            tls_dir,
            _stop_documents,
        } = self;
        // The same port: the stored tenant names its Management API by the issuer.
        let port = app.port();
        app.stop().await;
        let app = spawn_tls_app_with_data_dir(tenant, &tls_dir.0, Some(data_dir), port).await;
        Fixture {
            app,
            documents_base,
            documents,
            tls_dir,
            _stop_documents,
        }
    }

    /// The URL of `path` on the document server, which answers `served` there.
    fn publish(&self, path: &str, served: Served) -> String {
        self.documents
            .served
            .lock()
            .unwrap()
            .insert(format!("/{path}"), served);
        self.url_of(path)
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.documents_base)
    }

    fn hits(&self, path: &str) -> usize {
        self.documents
            .hits
            .lock()
            .unwrap()
            .get(&format!("/{path}"))
            .copied()
            .unwrap_or(0)
    }

    async fn authorize(&self, client_id: &str, redirect_uri: &str) -> reqwest::Response {
        self.app
            .authorize(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("scope", "openid offline_access tool:whoami"),
                ("audience", MCP_API),
                ("state", "xyz"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .await
    }

    /// Asserts `/authorize` shows an `invalid_client` page saying `reason`.
    async fn assert_refused(&self, client_id: &str, reason: &str) {
        let response = self
            .authorize(client_id, "http://127.0.0.1:5000/callback")
            .await;
        assert_eq!(response.status(), 400, "{client_id}");
        assert!(
            response.headers().get("location").is_none(),
            "never redirected"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("invalid_client"), "{client_id}: {page}");
        assert!(
            page.contains(reason),
            "{client_id}: expected {reason:?} in {page}"
        );
    }
}

/// A document in Claude Code's published shape: loopback redirects without a port, no
/// `application_type`.
fn claude_code_shaped(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_name": "Claude Code",
        "client_uri": "https://claude.ai",
        "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none"
    })
}

#[tokio::test]
async fn a_metadata_document_client_logs_in_consents_and_refreshes_without_registering() {
    // Arrange: a document in Claude Code's shape; the client listens on an ephemeral port.
    let fixture = Fixture::start("journey", Tenant::demo()).await;
    let client_id = fixture.url_of("oauth/client-metadata.json");
    fixture.publish(
        "oauth/client-metadata.json",
        Served::json(&claude_code_shaped(&client_id)),
    );
    let redirect_uri = "http://127.0.0.1:53682/callback";
    let app = &fixture.app;

    // Act: authorize, log in, read the consent page, accept, redeem, refresh.
    let login = fixture.authorize(&client_id, redirect_uri).await;
    assert_eq!(login.status(), 200);
    let transaction = hidden_input(&login.text().await.unwrap(), "transaction");
    let consent = app
        .post_login(&transaction, "admin@example.com", "admin-pass")
        .await;
    assert_eq!(
        consent.status(),
        200,
        "a third-party client gets the consent step"
    );
    let consent = consent.text().await.unwrap();
    let redirect = location(
        &app.post_consent(&hidden_input(&consent, "transaction"), "accept")
            .await,
    );
    let code = query_param(&redirect, "code").expect("a code");
    let tokens = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    let refreshed = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await;

    // Assert: the consent page names both hosts and warns about loopback-only redirects;
    // tokens carry the URL as the client; the document was fetched once; no registration.
    assert!(
        consent.contains("published at <strong>localhost</strong>"),
        "{consent}"
    );
    assert!(
        consent.contains("sent to <strong>127.0.0.1</strong>"),
        "{consent}"
    );
    assert!(consent.contains("Warning: every address"), "{consent}");
    assert_eq!(redirect.as_str().split('?').next(), Some(redirect_uri));
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(access.claims["client_id"], client_id.as_str());
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let access = app
        .verify(refreshed["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(access.claims["client_id"], client_id.as_str());
    assert_eq!(fixture.hits("oauth/client-metadata.json"), 1);
    let stats = app.stats().await;
    assert_eq!(stats["dynamic_registrations"], 0);
    assert_eq!(stats["client_metadata_fetches"], 1);
    assert_eq!(stats["client_metadata_refusals"], 0);
}

#[tokio::test]
async fn every_broken_document_is_refused_as_invalid_client_and_never_cached() {
    // Arrange: one path per rule.
    let fixture = Fixture::start("refusals", Tenant::demo()).await;
    let good = |path: &str| claude_code_shaped(&fixture.url_of(path));
    let with = |path: &str, member: &str, value: Value| {
        let mut document = good(path);
        document[member] = value;
        Served::json(&document)
    };
    let cases: Vec<(&str, Served, &str)> = vec![
        (
            "redirects.json",
            Served {
                status: 302,
                location: Some("https://localhost/elsewhere.json"),
                ..Served::json(&good("redirects.json"))
            },
            "a redirect, which is not followed",
        ),
        (
            "gone.json",
            Served {
                status: 404,
                ..Served::json(&good("gone.json"))
            },
            "answered 404 Not Found, not 200",
        ),
        (
            "huge.json",
            with("huge.json", "client_uri", json!("x".repeat(6000))),
            "larger than 5120 bytes",
        ),
        (
            "other-id.json",
            with(
                "other-id.json",
                "client_id",
                json!("https://example.com/not-this.json"),
            ),
            "is not the URL it was fetched from",
        ),
        (
            "secret-method.json",
            with(
                "secret-method.json",
                "token_endpoint_auth_method",
                json!("client_secret_basic"),
            ),
            "uses a shared secret",
        ),
        (
            "embedded-secret.json",
            with("embedded-secret.json", "client_secret", json!("s3cret")),
            "must not contain client_secret",
        ),
        (
            "no-name.json",
            with("no-name.json", "client_name", Value::Null),
            "has no client_name",
        ),
        (
            "unsafe-redirect.json",
            with(
                "unsafe-redirect.json",
                "redirect_uris",
                json!(["http://evil.example/cb"]),
            ),
            "must use https, or http on a loopback address",
        ),
        (
            "html.json",
            Served {
                content_type: "text/html",
                ..Served::json(&good("html.json"))
            },
            "not application/json",
        ),
    ];

    for (path, served, reason) in cases {
        let client_id = fixture.publish(path, served);

        // Act: the same URL twice.
        fixture.assert_refused(&client_id, reason).await;
        fixture.assert_refused(&client_id, reason).await;

        // Assert: fetched both times, so nothing was cached from the first refusal.
        assert_eq!(fixture.hits(path), 2, "{path}");
    }
    assert_eq!(
        fixture.hits("elsewhere.json"),
        0,
        "the redirect was not followed"
    );
    let stats = fixture.app.stats().await;
    assert_eq!(stats["client_metadata_refusals"], 18);
    assert_eq!(stats["client_metadata_cache_hits"], 0);
}

#[tokio::test]
async fn urls_breaking_the_drafts_rules_are_refused_before_any_fetch() {
    let fixture = Fixture::start("urls", Tenant::demo()).await;
    fixture
        .assert_refused(
            &format!("{}a/../doc.json", fixture.documents_base),
            ". or .. segments",
        )
        .await;
    fixture
        .assert_refused(
            &format!("{}doc.json?v=1", fixture.documents_base),
            "must not have a query",
        )
        .await;
    fixture
        .assert_refused(&fixture.documents_base, "must have a path")
        .await;
    assert_eq!(fixture.app.stats().await["client_metadata_fetches"], 0);
}

#[tokio::test]
async fn a_private_or_foreign_loopback_address_is_never_connected_to() {
    // Arrange: a listener on a loopback address that is not fake-auth0's own (127.0.0.1):
    // the draft's exception covers only the interface the server itself listens on.
    let fixture = Fixture::start("ssrf", Tenant::demo()).await;
    let trap = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let trap_port = trap.local_addr().unwrap().port();

    // Act
    fixture
        .assert_refused(
            &format!("https://127.0.0.2:{trap_port}/client.json"),
            "private or special-use addresses",
        )
        .await;
    fixture
        .assert_refused(
            "https://10.1.2.3/client.json",
            "private or special-use addresses",
        )
        .await;
    fixture
        .assert_refused(
            "https://[::ffff:192.168.0.1]/client.json",
            "private or special-use addresses",
        )
        .await;

    // Assert: no connection reached the trap (a connect would sit in its backlog by now,
    // as the refusal was answered after it), and no fetch was started.
    assert_eq!(
        trap.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a connection was attempted"
    );
    let stats = fixture.app.stats().await;
    assert_eq!(stats["client_metadata_fetches"], 0);
    assert_eq!(stats["client_metadata_refusals"], 3);
}

#[tokio::test]
async fn a_cached_document_is_reused_until_its_max_age_then_fetched_again() {
    // Arrange
    let fixture = Fixture::start("cache", Tenant::demo()).await;
    let client_id = fixture.url_of("cached.json");
    fixture.publish(
        "cached.json",
        Served {
            cache_control: Some("public, max-age=600"),
            ..Served::json(&claude_code_shaped(&client_id))
        },
    );
    let redirect_uri = "http://localhost:4321/callback";

    // Act and assert: twice within max-age, one fetch.
    assert_eq!(
        fixture.authorize(&client_id, redirect_uri).await.status(),
        200
    );
    assert_eq!(
        fixture.authorize(&client_id, redirect_uri).await.status(),
        200
    );
    assert_eq!(fixture.hits("cached.json"), 1);
    // Past max-age on the tenant's clock, fetched again.
    let advanced = fixture
        .app
        .http
        .post(fixture.app.url("_control/clock"))
        .bearer_auth(fixture.app.control_token.as_deref().unwrap())
        .json(&json!({"advance_by": 601}))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    assert_eq!(
        fixture.authorize(&client_id, redirect_uri).await.status(),
        200
    );
    assert_eq!(fixture.hits("cached.json"), 2);
}

#[tokio::test]
async fn a_redirect_uri_the_cached_document_lacks_makes_it_fetched_again() {
    // Arrange: the cached document lists only https://app.example/cb; then it changes.
    let fixture = Fixture::start("changed", Tenant::demo()).await;
    let client_id = fixture.url_of("changing.json");
    let mut document = claude_code_shaped(&client_id);
    document["redirect_uris"] = json!(["https://app.example/cb"]);
    fixture.publish("changing.json", Served::json(&document));
    assert_eq!(
        fixture
            .authorize(&client_id, "https://app.example/cb")
            .await
            .status(),
        200
    );
    document["redirect_uris"] = json!(["https://app.example/cb", "https://app.example/new"]);
    fixture.publish("changing.json", Served::json(&document));

    // Act
    let response = fixture
        .authorize(&client_id, "https://app.example/new")
        .await;

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(fixture.hits("changing.json"), 2);
}

#[tokio::test]
async fn in_registered_only_mode_an_unregistered_url_is_refused_without_a_fetch() {
    // Arrange: Auth0's model, where only URLs a tenant admin registered are accepted.
    let mut tenant = Tenant::demo();
    tenant.settings.client_id_metadata_document_mode =
        fake_auth0::model::ClientMetadataMode::RegisteredOnly;
    let fixture = Fixture::start("auth0-mode", tenant).await;
    let client_id = fixture.url_of("unregistered.json");
    fixture.publish(
        "unregistered.json",
        Served::json(&claude_code_shaped(&client_id)),
    );

    // Act and assert
    fixture
        .assert_refused(&client_id, "is not registered with this tenant")
        .await;
    assert_eq!(fixture.hits("unregistered.json"), 0);
    let discovery = fixture
        .app
        .discovery(".well-known/oauth-authorization-server")
        .await;
    assert_eq!(discovery["client_id_metadata_document_supported"], true);
}

#[tokio::test]
async fn a_tenant_can_turn_metadata_documents_off() {
    let mut tenant = Tenant::demo();
    tenant.settings.client_id_metadata_document_supported = false;
    let fixture = Fixture::start("off", tenant).await;
    let client_id = fixture.url_of("off.json");
    fixture.publish("off.json", Served::json(&claude_code_shaped(&client_id)));

    fixture
        .assert_refused(&client_id, "does not accept Client ID Metadata Documents")
        .await;
    assert_eq!(fixture.hits("off.json"), 0);
    for path in [
        ".well-known/oauth-authorization-server",
        ".well-known/openid-configuration",
    ] {
        assert_eq!(
            fixture.app.discovery(path).await["client_id_metadata_document_supported"],
            false
        );
    }
}

/// A Management API token of the demo tenant's `management-cli`.
async fn management_token(app: &TestApp) -> String {
    let audience = app.url("api/v2/");
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("audience", audience.as_str()),
        ])
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn management_post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url(&format!("api/v2/{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn clients_with_external_id(app: &TestApp, token: &str, url: &str) -> Vec<Value> {
    let response = app
        .http
        .get(app.url("api/v2/clients"))
        .query(&[("external_client_id", url)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_imported_metadata_document_client_is_found_and_survives_a_restart() {
    // Arrange: Auth0's mode, a data dir, a good document and one without grant_types.
    let data_dir =
        std::env::temp_dir().join(format!("fake-auth0-cimd-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut tenant = Tenant::demo();
    tenant.settings.client_id_metadata_document_mode =
        fake_auth0::model::ClientMetadataMode::RegisteredOnly;
    let fixture = Fixture::start_with_data_dir("import", tenant.clone(), Some(&data_dir)).await;
    let client_id = fixture.url_of("registered.json");
    fixture.publish(
        "registered.json",
        Served::json(&claude_code_shaped(&client_id)),
    );
    let mut incomplete = claude_code_shaped(&fixture.url_of("incomplete.json"));
    incomplete.as_object_mut().unwrap().remove("grant_types");
    let incomplete_id = fixture.publish("incomplete.json", Served::json(&incomplete));
    let token = management_token(&fixture.app).await;
    let app = &fixture.app;

    // Act: preview a missing, an incomplete and a good document; register twice.
    let (missing_status, missing) = management_post(
        app,
        &token,
        "clients/cimd/preview",
        json!({"external_client_id": fixture.url_of("missing.json")}),
    )
    .await;
    let (_, incomplete) = management_post(
        app,
        &token,
        "clients/cimd/preview",
        json!({"external_client_id": incomplete_id}),
    )
    .await;
    let (preview_status, preview) = management_post(
        app,
        &token,
        "clients/cimd/preview",
        json!({"external_client_id": client_id}),
    )
    .await;
    let (refused_status, refused) = management_post(
        app,
        &token,
        "clients/cimd/register",
        json!({"external_client_id": incomplete_id}),
    )
    .await;
    let (created_status, created) = management_post(
        app,
        &token,
        "clients/cimd/register",
        json!({"external_client_id": client_id}),
    )
    .await;
    let (updated_status, _) = management_post(
        app,
        &token,
        "clients/cimd/register",
        json!({"external_client_id": client_id}),
    )
    .await;

    // Assert: Auth0's shapes.
    assert_eq!(missing_status, 200);
    assert!(
        missing["errors"][0].as_str().unwrap().contains("404"),
        "{missing}"
    );
    assert!(missing.get("validation").is_none(), "{missing}");
    assert_eq!(incomplete["validation"]["valid"], false);
    assert_eq!(
        incomplete["validation"]["violations"],
        json!(["grant_types is required"])
    );
    assert_eq!(preview_status, 200);
    assert_eq!(preview["validation"]["valid"], true, "{preview}");
    assert!(preview.get("client_id").is_none(), "not registered yet");
    assert!(
        preview["validation"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Auth0 refuses this URL"),
        "{preview}"
    );
    assert_eq!(
        preview["mapped_fields"]["external_client_id"],
        client_id.as_str()
    );
    assert_eq!(preview["mapped_fields"]["name"], "Claude Code");
    assert_eq!(
        preview["mapped_fields"]["token_endpoint_auth_method"],
        "none"
    );
    assert_eq!(refused_status, 400);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("grant_types is required"),
        "{refused}"
    );
    assert_eq!(created_status, 201);
    assert_eq!(created["client_id"], client_id.as_str());
    assert_eq!(created["validation"]["valid"], true);
    assert_eq!(updated_status, 200);
    let found = clients_with_external_id(app, &token, &client_id).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["external_metadata_type"], "cimd");
    assert_eq!(found[0]["third_party_security_mode"], "strict");
    assert_eq!(found[0]["is_first_party"], false);
    assert_eq!(
        fixture
            .authorize(&client_id, "http://localhost:6000/callback")
            .await
            .status(),
        200,
        "registered, so accepted in Auth0's mode"
    );

    // Act and assert: after a restart on the same data dir, still registered, and used
    // without fetching the document again.
    let hits = fixture.hits("registered.json");
    let fixture = fixture.restart(tenant, &data_dir).await;
    let token = management_token(&fixture.app).await;
    let found = clients_with_external_id(&fixture.app, &token, &client_id).await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        fixture
            .authorize(&client_id, "http://localhost:6000/callback")
            .await
            .status(),
        200
    );
    assert_eq!(fixture.hits("registered.json"), hits);
    std::fs::remove_dir_all(&data_dir).unwrap();
}

#[tokio::test]
async fn a_host_name_resolving_to_another_loopback_address_is_refused_before_connecting() {
    // Arrange: fake-auth0 on 127.0.0.2, so its own loopback address is 127.0.0.2; the
    // document's host name `localhost` resolves to 127.0.0.1, where a trap listens. This
    // goes through the DNS hook (an IP literal would not).
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let issuer = format!(
        "http://127.0.0.2:{}/",
        listener.local_addr().unwrap().port()
    );
    let config = fake_auth0::Config {
        issuer: Url::parse(&issuer).unwrap(),
        ..fake_auth0::Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(fake_auth0::serve(config, listener, async {
        let _ = stopped.await;
    }));
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let client_id = format!(
        "https://localhost:{}/client.json",
        trap.local_addr().unwrap().port()
    );

    // Act
    let response = reqwest::Client::new()
        .get(format!("{issuer}authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:5000/callback"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("invalid_client"), "{page}");
    assert!(page.contains("private or special-use addresses"), "{page}");
    assert_eq!(
        trap.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a connection was attempted"
    );
    drop(stop);
}
