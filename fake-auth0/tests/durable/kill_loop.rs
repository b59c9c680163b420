//! Nothing acknowledged is lost: clients register and get refresh tokens while the server
//! is killed with SIGKILL at random moments and restarted on the same data dir; afterwards
//! every client and refresh token the server acknowledged still works.

use std::hash::{BuildHasher as _, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::instance::{Instance, TempDir};

/// Kills in the loop.
const KILLS: usize = 10;
/// Concurrent clients making requests.
const WORKERS: usize = 4;

/// A random number below `bound` (std's hasher is randomly keyed per instance).
fn random_below(bound: u64) -> u64 {
    RandomState::new().hash_one(std::time::Instant::now()) % bound
}

#[derive(Default)]
struct Acknowledged {
    clients: Vec<String>,
    refresh_tokens: Vec<String>,
}

/// One client: registers, then gets a refresh token, over and over; records what the
/// server acknowledged. Requests cut off by a kill are not acknowledged and are ignored.
async fn work(server: Arc<(reqwest::Client, String)>, acked: Arc<Mutex<Acknowledged>>) {
    let (http, issuer) = &*server;
    loop {
        // While the server is down every request fails at once; back off a little so the
        // clients do not spin.
        if http.get(format!("{issuer}health")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let registered = http
            .post(format!("{issuer}oidc/register"))
            .json(&serde_json::json!({
                "redirect_uris": [crate::instance::CALLBACK],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            }))
            .send()
            .await;
        if let Ok(response) = registered
            && response.status() == 201
            && let Ok(body) = response.json::<serde_json::Value>().await
        {
            let id = body["client_id"].as_str().unwrap().to_owned();
            acked.lock().unwrap().clients.push(id);
        }
        let token = http
            .post(format!("{issuer}oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "demo-cli"),
                ("username", "user@example.com"),
                ("password", "user-pass"),
                ("audience", crate::instance::MCP_API),
                ("scope", "offline_access"),
            ])
            .send()
            .await;
        if let Ok(response) = token
            && response.status() == 200
            && let Ok(body) = response.json::<serde_json::Value>().await
        {
            let token = body["refresh_token"].as_str().unwrap().to_owned();
            acked.lock().unwrap().refresh_tokens.push(token);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_no_acknowledged_client_or_refresh_token() {
    // Arrange
    let dir = TempDir::new("kill-loop");
    let mut server = Instance::start(dir.path(), &[]).await;
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let target = Arc::new((http, server.issuer.clone()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| tokio::spawn(work(Arc::clone(&target), Arc::clone(&acked))))
        .collect();

    // Act: let the clients run for a random moment, kill, restart; again and again.
    for _ in 0..KILLS {
        // The random moment of the kill: this sleep is the test's input, not a wait for
        // something to happen.
        tokio::time::sleep(Duration::from_millis(30 + random_below(200))).await;
        server.restart().await;
    }
    for worker in &workers {
        worker.abort();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());

    // Assert: one more restart, then everything acknowledged works.
    server.restart().await;
    assert!(
        acked.clients.len() >= KILLS && acked.refresh_tokens.len() >= KILLS,
        "the clients made too little progress: {} clients, {} refresh tokens",
        acked.clients.len(),
        acked.refresh_tokens.len()
    );
    println!(
        "{KILLS} kills: {} clients and {} refresh tokens acknowledged",
        acked.clients.len(),
        acked.refresh_tokens.len()
    );
    for client_id in &acked.clients {
        assert!(
            server.knows_client(client_id).await,
            "acknowledged client {client_id} was lost"
        );
    }
    for token in &acked.refresh_tokens {
        let response = server.refresh(token).await;
        assert_eq!(
            response.status(),
            200,
            "an acknowledged refresh token was lost: {}",
            response.text().await.unwrap()
        );
    }
}
