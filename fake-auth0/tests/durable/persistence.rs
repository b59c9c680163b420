//! A restart on the same data dir keeps what clients were told about: signing keys (tokens
//! issued before still verify, new ones carry the same kid), registered clients, refresh
//! tokens, spent tokens and revocations. A database that cannot be used stops the server
//! with a clear message and exit status 2.

use crate::instance::{Instance, MCP_API, TempDir, kid_of, run_to_exit};

#[tokio::test]
async fn a_restart_keeps_keys_clients_refresh_tokens_and_revocations() {
    // Arrange: state of every kind, then SIGKILL.
    let dir = TempDir::new("restart");
    let mut server = Instance::start(dir.path(), &[]).await;
    let before = server.access_token().await;
    let registered: serde_json::Value = server.register().await.unwrap().json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let kept = server.refresh_token().await;
    let revoked = server.refresh_token().await;
    server.revoke(&revoked).await;
    let spent = server.refresh_token().await;
    let rotated: serde_json::Value = server.refresh(&spent).await.json().await.unwrap();
    let successor = rotated["refresh_token"].as_str().unwrap().to_owned();

    // Act
    server.restart().await;

    // Assert: the same keys sign and verify.
    server
        .verify(&before, MCP_API)
        .await
        .expect("a token issued before the restart verifies against the served JWKS");
    assert_eq!(kid_of(&server.access_token().await), kid_of(&before));
    // The registered client is known.
    assert!(server.knows_client(&client_id).await);
    assert!(!server.knows_client("never-registered").await);
    // Refresh tokens: live ones work, the revoked one does not, the spent one is still spent.
    assert_eq!(server.refresh(&kept).await.status(), 200);
    assert_eq!(server.refresh(&revoked).await.status(), 400);
    assert_eq!(server.refresh(&successor).await.status(), 200);
    assert_eq!(server.refresh(&spent).await.status(), 400);
}

#[tokio::test]
async fn the_data_dir_holds_only_the_database_and_only_its_owner_may_read_it() {
    // The database (with its WAL) is all fake-auth0 writes into the data dir, and only
    // its owner may read any of it, the directory included: it holds the private keys.
    let dir = TempDir::new("files");
    // A data dir that does not exist yet, so that fake-auth0 creates it.
    let data_dir = dir.path().join("data");
    let server = Instance::start(&data_dir, &[]).await;
    // Writes go through the WAL: a registration and a refresh token are committed.
    assert_eq!(server.register().await.unwrap().status(), 201);
    server.refresh_token().await;
    let names: Vec<String> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|name| name.starts_with("fake-auth0.sqlite3")),
        "{names:?}"
    );
    assert!(names.iter().any(|name| name.ends_with("-wal")), "{names:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Octal, as `stat -c %a` shows it.
        let mode = |path: &std::path::Path| {
            format!(
                "{:o}",
                std::fs::metadata(path).unwrap().permissions().mode() & 0o777
            )
        };
        assert_eq!(mode(&data_dir), "700", "the data dir");
        for name in &names {
            assert_eq!(mode(&data_dir.join(name)), "600", "{name}");
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn an_existing_data_dir_open_to_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt as _;
    // Arrange: a data dir and a database file world-readable, as an older fake-auth0 left them.
    let dir = TempDir::new("open-files");
    let first = Instance::start(dir.path(), &[]).await;
    drop(first);
    let database = dir.path().join("fake-auth0.sqlite3");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();

    // Act
    let _server = Instance::start(dir.path(), &[]).await;

    // Assert
    let mode = |path: &std::path::Path| {
        format!(
            "{:o}",
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777
        )
    };
    assert_eq!(mode(dir.path()), "700");
    assert_eq!(mode(&database), "600");
}

#[tokio::test]
async fn a_corrupt_database_stops_the_server_with_a_clear_message_and_status_2() {
    let dir = TempDir::new("corrupt");
    std::fs::write(
        dir.path().join("fake-auth0.sqlite3"),
        b"this is not a database".repeat(400),
    )
    .unwrap();

    let (status, printed) = run_to_exit(dir.path());

    assert_eq!(status.code(), Some(2), "{printed}");
    assert!(printed.contains("corrupt"), "{printed}");
    assert!(printed.contains("fake-auth0.sqlite3"), "{printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}

#[tokio::test]
async fn a_database_of_a_newer_fake_auth0_is_refused_with_status_2() {
    let dir = TempDir::new("newer");
    {
        let mut server = Instance::start(dir.path(), &[]).await;
        server.kill();
    }
    {
        let conn = rusqlite::Connection::open(dir.path().join("fake-auth0.sqlite3")).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }

    let (status, printed) = run_to_exit(dir.path());

    assert_eq!(status.code(), Some(2), "{printed}");
    assert!(printed.contains("schema version 999"), "{printed}");
}

#[tokio::test]
async fn a_management_api_change_survives_a_restart() {
    // Arrange: create an API through the Management API.
    let dir = TempDir::new("tenant");
    let mut server = Instance::start(dir.path(), &[]).await;
    let admin = server.management_token("create:resource_servers").await;
    let created = server
        .http
        .post(server.url("api/v2/resource-servers"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"identifier": "https://durable.example/", "name": "Durable"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Act
    server.restart().await;

    // Assert: a token for the new API can be had after the restart.
    let response = server
        .http
        .post(server.url("oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
            ("audience", "https://durable.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_second_process_on_the_same_data_dir_is_refused_with_status_2() {
    let dir = TempDir::new("locked");
    let _first = Instance::start(dir.path(), &[]).await;

    let (status, printed) = run_to_exit(dir.path());

    assert_eq!(status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("in use by another fake-auth0"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_control_reset_also_forgets_what_the_data_dir_kept() {
    // Arrange: a registered client, a refresh token and a Management API change.
    let dir = TempDir::new("reset");
    let mut server = Instance::start(dir.path(), &["--control"]).await;
    let before = server.access_token().await;
    let registered: serde_json::Value = server.register().await.unwrap().json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let refresh = server.refresh_token().await;
    let admin = server.management_token("create:resource_servers").await;
    let created = server
        .http
        .post(server.url("api/v2/resource-servers"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"identifier": "https://reset.example/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Act: reset (with the control token the binary wrote for its operator), then restart
    // on the same data dir.
    let token_file = dir.path().join("control-token");
    let control_token = std::fs::read_to_string(&token_file).unwrap();
    let reset = server
        .http
        .post(server.url("_control/reset"))
        .bearer_auth(control_token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    server.restart().await;

    // Assert: all of it is gone, but the keys are kept.
    assert!(!server.knows_client(&client_id).await);
    assert_eq!(server.refresh(&refresh).await.status(), 400);
    let token = server
        .http
        .post(server.url("oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-cli"),
            ("username", "admin@example.com"),
            ("password", "admin-pass"),
            ("audience", "https://reset.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        token.status(),
        403,
        "the API created before the reset is gone"
    );
    server.verify(&before, MCP_API).await.unwrap();
}

#[tokio::test]
async fn the_binarys_control_surface_refuses_loopback_calls_without_its_token() {
    // Arrange
    let dir = TempDir::new("control-token");
    let server = Instance::start(dir.path(), &["--control"]).await;
    let token_file = dir.path().join("control-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim();
    let clock = |token: Option<&str>| {
        let request = server.http.get(server.url("_control/clock"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };

    // Act
    let without = clock(None).await.unwrap();
    let wrong = clock(Some("not-the-token")).await.unwrap();
    let with = clock(Some(token)).await.unwrap();

    // Assert: 401 from 127.0.0.1 without the token; the token is in a file only its owner
    // reads, and never in the log, which names the file.
    assert_eq!(without.status(), 401);
    assert!(
        without.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(wrong.status(), 401);
    assert_eq!(with.status(), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(format!("{mode:o}"), "600");
    }
    let logs = server.logs();
    assert!(!logs.contains(token), "the token is logged");
    assert!(
        logs.contains("control-token"),
        "the log names the token file:\n{logs}"
    );
}
