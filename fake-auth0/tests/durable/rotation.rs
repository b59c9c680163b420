//! Signing-key rotation: the next key is published before it signs, rotation through
//! Auth0's Management API route makes it current, the old key stays published so tokens it
//! signed keep verifying, a restart keeps the rotated set, and `--rotate-every` rotates on
//! its own.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::instance::{Instance, MCP_API, TempDir, kid_of};

fn kids(jwks: &jsonwebtoken::jwk::JwkSet) -> Vec<String> {
    jwks.keys
        .iter()
        .filter_map(|key| key.common.key_id.clone())
        .collect()
}

async fn list_keys(server: &Instance, token: &str) -> Vec<Value> {
    let response = server
        .http
        .get(server.url("api/v2/keys/signing"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The kid of the key listed with `role` (`current`, `next` or `previous`).
fn kid_with(keys: &[Value], role: &str) -> Vec<String> {
    keys.iter()
        .filter(|key| key[role] == true)
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn rotate(server: &Instance, token: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("api/v2/keys/signing/rotate"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rotation_promotes_the_published_next_key_and_old_tokens_keep_verifying() {
    // Arrange
    let dir = TempDir::new("rotate");
    let mut server = Instance::start(dir.path(), &[]).await;
    let admin = server
        .management_token("read:signing_keys create:signing_keys")
        .await;
    let old_token = server.access_token().await;
    let keys = list_keys(&server, &admin).await;
    let (old, next) = (kid_with(&keys, "current"), kid_with(&keys, "next"));
    assert_eq!(old, [kid_of(&old_token)]);
    assert_eq!(next.len(), 1);
    // The next key is published before it signs anything.
    assert_eq!(
        kids(&server.jwks().await),
        [old[0].clone(), next[0].clone()]
    );

    // Act
    let response = rotate(&server, &admin).await;

    // Assert: 201 naming the new next key; new tokens carry the key published before.
    assert_eq!(response.status(), 201);
    let rotated: Value = response.json().await.unwrap();
    let new_next = rotated["kid"].as_str().unwrap().to_owned();
    let new_token = server.access_token().await;
    assert_eq!(kid_of(&new_token), next[0]);
    let published = kids(&server.jwks().await);
    assert!(published.contains(&old[0]), "{published:?}");
    assert!(published.contains(&next[0]), "{published:?}");
    assert!(published.contains(&new_next), "{published:?}");
    server
        .verify(&old_token, MCP_API)
        .await
        .expect("a token signed before the rotation verifies against the served JWKS");
    server.verify(&new_token, MCP_API).await.unwrap();
    let keys = list_keys(&server, &admin).await;
    assert_eq!(kid_with(&keys, "current"), next);
    assert_eq!(kid_with(&keys, "next"), [new_next]);
    assert_eq!(kid_with(&keys, "previous"), old);
    assert!(keys.iter().all(|key| key["revoked"] == false));
    assert!(keys.iter().all(|key| key.get("cert").is_none()));

    // The rotated set survives a restart.
    server.restart().await;
    assert_eq!(kid_of(&server.access_token().await), next[0]);
    server.verify(&old_token, MCP_API).await.unwrap();
}

#[tokio::test]
async fn rotation_needs_a_management_token_with_a_signing_key_scope() {
    let dir = TempDir::new("rotate-auth");
    let server = Instance::start(dir.path(), &[]).await;
    let before = kid_of(&server.access_token().await);

    let anonymous = server
        .http
        .post(server.url("api/v2/keys/signing/rotate"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let reader = server.management_token("read:signing_keys").await;
    let response = rotate(&server, &reader).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 403);
    // Auth0 accepts either scope.
    let updater = server.management_token("update:signing_keys").await;
    assert_eq!(rotate(&server, &updater).await.status(), 201);
    assert_ne!(kid_of(&server.access_token().await), before);
}

#[tokio::test]
async fn rotate_every_rotates_on_a_schedule() {
    let dir = TempDir::new("rotate-every");
    let server = Instance::start(dir.path(), &["--rotate-every", "1s"]).await;
    let first = server.access_token().await;

    // Poll until a token carries another kid (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    let rotated = loop {
        let token = server.access_token().await;
        if kid_of(&token) != kid_of(&first) {
            break token;
        }
        assert!(Instant::now() < deadline, "no rotation within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    server.verify(&first, MCP_API).await.unwrap();
    server.verify(&rotated, MCP_API).await.unwrap();
}
