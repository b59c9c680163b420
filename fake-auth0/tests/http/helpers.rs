//! `spawn_app()`: a fake-auth0 on 127.0.0.1:0 with typed calls for every endpoint, and
//! independent token verification against the served JWKS.

use fake_auth0::{App, Config, Tenant};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Response;
use serde_json::{Map, Value};
use url::Url;

/// The PKCE verifier every test flow uses, and its S256 challenge (RFC 7636 Appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const MCP_API: &str = "http://localhost:3001/";
pub const UPSTREAM_API: &str = "http://localhost:8787/";
pub const DEMO_CALLBACK: &str = "http://127.0.0.1:43210/callback";

/// A running server; it shuts down when dropped.
pub struct TestApp {
    /// The issuer, `http://127.0.0.1:<port>/`.
    pub issuer: String,
    pub http: reqwest::Client,
    /// With the control surface on, the token its calls carry (generated at start-up).
    pub control_token: Option<String>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    /// The server task, for [`TestApp::stop`].
    serving: tokio::task::JoinHandle<()>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Tenant::demo()).await
}

/// Prints the server's logs when `TEST_LOG` is set (they are silent otherwise).
fn init_test_log() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter("fake_auth0=debug")
                .with_test_writer()
                .init();
        }
    });
}

pub async fn spawn_app_with(tenant: Tenant) -> TestApp {
    spawn_configured(tenant, false).await
}

/// The demo tenant with the control surface (`/_control/…`) on.
pub async fn spawn_app_with_control() -> TestApp {
    spawn_configured(Tenant::demo(), true).await
}

async fn spawn_configured(tenant: Tenant, control: bool) -> TestApp {
    spawn_app_configured(|config| {
        config.tenant = tenant;
        config.control = control;
    })
    .await
}

/// The demo tenant with `tweak` applied to the configuration (e.g. a lower cap).
pub async fn spawn_app_configured(tweak: impl FnOnce(&mut Config)) -> TestApp {
    init_test_log();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}/");
    let mut config = Config {
        issuer: Url::parse(&issuer).unwrap(),
        ..Config::default()
    };
    tweak(&mut config);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    serve_in_background(config, listener, issuer, http).await
}

/// Starts `config` on `listener` in a task; `http` is how the test calls it.
async fn serve_in_background(
    config: Config,
    listener: tokio::net::TcpListener,
    issuer: String,
    http: reqwest::Client,
) -> TestApp {
    let app = App::build_on(config, listener).await.unwrap();
    let control_token = app.control_token().map(|token| token.expose().to_owned());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestApp {
        issuer,
        http,
        control_token,
        _shutdown: shutdown,
        serving,
    }
}

/// A fake-auth0 over HTTPS (`--tls` with the CA in `tls_dir`) on 127.0.0.1, its issuer
/// `https://localhost:<port>/` (`port` 0: any free one), with the control surface on and,
/// if given, a data dir; the client trusts the CA.
pub async fn spawn_tls_app_with_data_dir(
    tenant: Tenant,
    tls_dir: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    port: u16,
) -> TestApp {
    init_test_log();
    let tls = fake_auth0::tls::TlsSettings {
        dir: tls_dir.to_owned(),
    };
    let ca_file = tls.ensure_ca().unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("https://localhost:{port}/");
    let config = Config {
        issuer: Url::parse(&issuer).unwrap(),
        tenant,
        control: true,
        tls: Some(tls),
        data_dir: data_dir.map(std::path::Path::to_owned),
        ..Config::default()
    };
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([ca])
        .build()
        .unwrap();
    serve_in_background(config, listener, issuer, http).await
}

/// The claims of a verified token and its header `typ`.
pub struct Verified {
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
}

impl TestApp {
    /// Shuts the server down and waits until it has stopped (its data dir is then free).
    pub fn port(&self) -> u16 {
        Url::parse(&self.issuer).unwrap().port().unwrap()
    }

    pub async fn stop(self) {
        drop(self._shutdown);
        self.serving.await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path.trim_start_matches('/'))
    }

    /// `GET /_control/stats` (the control surface must be on).
    pub async fn stats(&self) -> Value {
        let response = self
            .http
            .get(self.url("_control/stats"))
            .bearer_auth(self.control_token.as_deref().expect("control is on"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn discovery(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn jwks(&self) -> JwkSet {
        self.get(".well-known/jwks.json")
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn post_token(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url("oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_token_raw(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.http
            .post(self.url("oauth/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_token_basic(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Response {
        self.http
            .post(self.url("oauth/token"))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A password-grant token response for a demo user of `demo-cli`; asserts success.
    pub async fn password_token(
        &self,
        username: &str,
        password: &str,
        audience: &str,
        scope: &str,
    ) -> Value {
        let response = self
            .post_token(&[
                ("grant_type", "password"),
                ("client_id", "demo-cli"),
                ("username", username),
                ("password", password),
                ("audience", audience),
                ("scope", scope),
            ])
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn authorize(&self, query: &[(&str, &str)]) -> Response {
        self.http
            .get(self.url("authorize"))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_login(&self, transaction: &str, username: &str, password: &str) -> Response {
        self.http
            .post(self.url("u/login"))
            .form(&[
                ("transaction", transaction),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn post_consent(&self, transaction: &str, action: &str) -> Response {
        self.http
            .post(self.url("u/consent"))
            .form(&[("transaction", transaction), ("action", action)])
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, metadata: &Value) -> Response {
        self.http
            .post(self.url("oidc/register"))
            .json(metadata)
            .send()
            .await
            .unwrap()
    }

    pub async fn userinfo(&self, token: &str) -> Response {
        self.http
            .get(self.url("userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn revoke(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url("oauth/revoke"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn logout(&self, query: &[(&str, &str)]) -> Response {
        self.http
            .get(self.url("v2/logout"))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    /// Verifies a token against the served JWKS, as a resource server would.
    pub async fn verify(&self, token: &str, audience: &str) -> Verified {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let jwks = self.jwks().await;
        let kid = header.kid.clone().expect("tokens carry a kid");
        let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).unwrap();
        Verified {
            typ: header.typ,
            claims: data.claims,
        }
    }

    /// Runs `/authorize` and the login for a first-party client; returns the redirect URL.
    pub async fn code_flow_redirect(
        &self,
        query: &[(&str, &str)],
        username: &str,
        password: &str,
    ) -> Url {
        let page = self.authorize(query).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let transaction = hidden_input(&html, "transaction");
        let response = self.post_login(&transaction, username, password).await;
        assert_eq!(response.status(), 302);
        location(&response)
    }
}

/// The standard authorization request of `demo-cli` with PKCE.
pub fn demo_authorize_query<'a>(scope: &'a str, audience: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "demo-cli"),
        ("redirect_uri", DEMO_CALLBACK),
        ("scope", scope),
        ("audience", audience),
        ("state", "xyz"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// The value of `<input type="hidden" name="NAME" value="VALUE">`, as the contract writes it.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!(r#"<input type="hidden" name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden input {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// The `Location` of a redirect, parsed.
pub fn location(response: &Response) -> Url {
    let location = response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    Url::parse(location).unwrap()
}

/// One query parameter of a URL.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Asserts an OAuth error response: status, `error`, and no-store.
pub async fn assert_oauth_error(response: Response, status: u16, error: &str) -> String {
    assert_eq!(response.status(), status, "status");
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body["error_description"].as_str().unwrap().to_owned()
}

/// The scopes of a token's `scope` claim.
pub fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

/// `form` with `changes` applied: each replaces the parameter of its name, and an empty
/// value removes it (for the many "this request minus that" cases).
pub fn with_changes<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (name, value) in changes {
        form.retain(|(n, _)| n != name);
        if !value.is_empty() {
            form.push((name, value));
        }
    }
    form
}
