//! A Client ID Metadata Document served over HTTPS on loopback, as an MCP client that names
//! itself by URL publishes it (draft-ietf-oauth-client-id-metadata-document). The journeys'
//! CIMD client: the in-process stack's and the demo binary's fake-auth0 fetch it, trusting
//! the local CA this server's certificate comes from.

use std::path::PathBuf;

use anyhow::Context as _;
use fake_auth0::tls::TlsSettings;
use tokio::sync::oneshot;
use url::Url;

use crate::python::{JourneyRun, run_journey};

/// The callback of the Python SDK journey (`e2e/python/mcp_sdk/journey.py` REDIRECT_URI).
pub const JOURNEY_REDIRECT_URI: &str = "http://127.0.0.1:33418/callback";

/// The document being served; dropping it stops the server and removes its CA.
#[derive(Debug)]
pub struct MetadataDocument {
    /// The document's URL, which is also the client's `client_id`.
    pub client_id: String,
    /// The CA that signed the server's certificate: what fake-auth0 must trust to fetch it.
    pub ca_file: PathBuf,
    dir: PathBuf,
    _stop: oneshot::Sender<()>,
}

impl MetadataDocument {
    /// Serves a public client's document (no secret; `authorization_code` and
    /// `refresh_token`) whose one redirect URI is `redirect_uri`, on a free loopback port.
    pub async fn serve(redirect_uri: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("e2e-cimd-{}-{port}", std::process::id()));
        let tls = TlsSettings { dir: dir.clone() };
        let ca_file = tls.ensure_ca()?;
        let base = Url::parse(&format!("https://localhost:{port}/"))?;
        let client_id = base.join("oauth/client-metadata.json")?.to_string();
        let document = serde_json::json!({
            "client_id": client_id,
            "client_name": "mcp-auth0 e2e journey (Python SDK, CIMD)",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        });
        let router = axum::Router::new().route(
            "/oauth/client-metadata.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tls
            .server(&base)
            .context("the document server's certificate")?;
        tokio::spawn(server.serve(listener, router, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            client_id,
            ca_file,
            dir,
            _stop: stop,
        })
    }

    /// The official Python SDK's journey as admin, naming itself by this document
    /// (`--client-metadata-url`) against `mcp_endpoint`: it must log in, greet and refresh,
    /// and never register dynamically.
    pub async fn run_admin_journey(&self, mcp_endpoint: &Url) -> anyhow::Result<JourneyRun> {
        let run = run_journey(
            mcp_endpoint,
            &[
                "--mode",
                "auto",
                "--only",
                "admin",
                "--client-metadata-url",
                &self.client_id,
            ],
        )
        .await?;
        println!("{}", run.stdout);
        run.expect_summary("python-sdk-journey: 1 passed, 0 failed")?;
        anyhow::ensure!(run.stdout.contains("no registration"), "{}", run.stdout);
        anyhow::ensure!(run.stdout.contains("refreshed"), "{}", run.stdout);
        Ok(run)
    }
}

impl Drop for MetadataDocument {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
