//! Start-up through `App`: what a caller gets back before anything is served.

use fake_auth0::{App, Config, StartError};

#[tokio::test]
async fn a_taken_port_names_the_flag_that_changes_it() {
    // Arrange: the address is taken by another listener.
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config {
        listen: taken.local_addr().unwrap(),
        ..Config::default()
    };

    // Act
    let error = App::build(config).await.unwrap_err();

    // Assert
    assert!(matches!(error, StartError::Bind(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("already in use"), "{message}");
    assert!(
        message.contains("--listen / FAKE_AUTH0_LISTEN"),
        "{message}"
    );
    assert_eq!(error.exit_code(), 1);
}

#[tokio::test]
async fn a_data_dir_that_is_not_a_database_is_a_configuration_error() {
    // Arrange: the database file is garbage.
    let dir = std::env::temp_dir().join(format!("fake-auth0-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("fake-auth0.sqlite3"), vec![0x5a; 8192]).unwrap();
    let config = Config {
        data_dir: Some(dir.clone()),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();

    // Act
    let error = App::build_on(config, listener).await.unwrap_err();

    // Assert: exit status 2, and the message names the file.
    assert!(matches!(error, StartError::DataDir(_)), "{error:?}");
    assert!(error.to_string().contains("fake-auth0.sqlite3"), "{error}");
    assert_eq!(error.exit_code(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_built_app_knows_its_port_before_it_serves() {
    // Arrange: port 0, so the system chooses.
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };

    // Act
    let app = App::build(config).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    stop.send(()).unwrap();

    // Assert
    assert_ne!(addr.port(), 0);
    assert_eq!(health.status(), 200);
    served.await.unwrap().unwrap();
}
