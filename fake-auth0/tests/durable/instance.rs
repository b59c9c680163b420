//! A `fake-auth0` process on a data dir: start, wait until healthy, SIGKILL, restart; and
//! the calls the tests make against it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// The demo tenant's MCP API.
pub const MCP_API: &str = "http://localhost:3001/";
/// A loopback callback for dynamically registered clients.
pub const CALLBACK: &str = "http://127.0.0.1:43210/callback";
/// The S256 challenge of RFC 7636 Appendix B.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh, empty directory under the system's temp dir; removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        // The process id, a counter and the time make the name unique to this call, even
        // where a previous run of the same pid left a directory behind.
        static CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let nth = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "fake-auth0-{name}-{}-{nth}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        // The logs of the processes that ran on it sit beside it.
        let _ = std::fs::remove_file(self.0.with_extension("log"));
        let _ = std::fs::remove_file(self.0.with_extension("exit.log"));
    }
}

/// A port that was free a moment ago: bound on 127.0.0.1:0, then released so the server
/// (and its restarts) can listen on it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running `fake-auth0` process; killed when dropped.
pub struct Instance {
    pub port: u16,
    pub issuer: String,
    pub http: reqwest::Client,
    data_dir: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
    /// Logs of every run, appended, for failure messages.
    log: PathBuf,
}

impl Instance {
    /// Starts the binary on a free port with `--data-dir` and waits until it is healthy.
    pub async fn start(data_dir: &Path, extra_args: &[&str]) -> Instance {
        let port = free_port();
        let mut instance = Instance {
            port,
            issuer: format!("http://127.0.0.1:{port}/"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            data_dir: data_dir.to_owned(),
            extra_args: extra_args.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
            log: data_dir.with_extension("log"),
        };
        instance.spawn().await;
        instance
    }

    /// The command line for this instance.
    fn command(data_dir: &Path, port: u16, extra_args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fake-auth0"));
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--issuer")
            .arg(format!("http://127.0.0.1:{port}/"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra_args)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "fake_auth0=info")
            .stdin(Stdio::null());
        command
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Self::command(&self.data_dir, self.port, &self.extra_args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the fake-auth0 binary starts");
        self.child = Some(child);
        self.wait_healthy().await;
    }

    /// Polls `/health` until it answers 200; fails if the process exits or takes too long.
    async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("fake-auth0 exited with {status}:\n{}", self.logs());
            }
            if let Ok(response) = self.http.get(self.url("health")).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fake-auth0 did not become healthy:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process with SIGKILL (no shutdown code runs) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the process and starts it again on the same port and data dir.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path.trim_start_matches('/'))
    }

    /// A password-grant token response of `demo-cli` for the admin.
    pub async fn password_token(&self, scope: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url("oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "demo-cli"),
                ("username", "admin@example.com"),
                ("password", "admin-pass"),
                ("audience", MCP_API),
                ("scope", scope),
            ])
            .send()
            .await
    }

    /// An access token for the admin; panics on failure.
    pub async fn access_token(&self) -> String {
        let response = self.password_token("openid").await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A refresh token for the admin (`offline_access`); panics on failure.
    pub async fn refresh_token(&self) -> String {
        let response = self.password_token("offline_access").await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["refresh_token"].as_str().unwrap().to_owned()
    }

    /// Presents a refresh token of `demo-cli`.
    pub async fn refresh(&self, token: &str) -> reqwest::Response {
        self.http
            .post(self.url("oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "demo-cli"),
                ("refresh_token", token),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Revokes a refresh token of `demo-cli` (RFC 7009).
    pub async fn revoke(&self, token: &str) {
        let response = self
            .http
            .post(self.url("oauth/revoke"))
            .form(&[("client_id", "demo-cli"), ("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Registers a public client (RFC 7591).
    pub async fn register(&self) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url("oidc/register"))
            .json(&serde_json::json!({
                "client_name": "durable test",
                "redirect_uris": [CALLBACK],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            }))
            .send()
            .await
    }

    /// Whether `/authorize` knows the client: it answers the login page (200), where an
    /// unknown client gets an error page.
    pub async fn knows_client(&self, client_id: &str) -> bool {
        let response = self
            .http
            .get(self.url("authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("audience", MCP_API),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        response.status() == 200
    }

    pub async fn jwks(&self) -> JwkSet {
        self.http
            .get(self.url(".well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Verifies a token against the served JWKS, as a resource server would; returns the
    /// claims, or why it failed.
    pub async fn verify(&self, token: &str, audience: &str) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let jwks = self.jwks().await;
        let jwk = jwks
            .find(&kid)
            .ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    /// A Management API token of `management-cli` with `scope`.
    pub async fn management_token(&self, scope: &str) -> String {
        let response = self
            .http
            .post(self.url("oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "management-cli"),
                ("client_secret", "management-secret"),
                ("audience", &format!("{}api/v2/", self.issuer)),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `kid` in a JWT's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("tokens carry a kid")
}

/// Runs the binary until it exits (it is expected to fail at start, within the start-up
/// timeout); returns its status and everything it printed.
pub fn run_to_exit(data_dir: &Path) -> (ExitStatus, String) {
    let output_file = data_dir.with_extension("exit.log");
    let log = std::fs::File::create(&output_file).unwrap();
    let mut child = Instance::command(data_dir, free_port(), &[])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("the fake-auth0 binary runs");
    let deadline = Instant::now() + START_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "fake-auth0 did not exit:\n{}",
                std::fs::read_to_string(&output_file).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let printed = std::fs::read_to_string(&output_file).unwrap_or_default();
    let _ = std::fs::remove_file(&output_file);
    (status, printed)
}
