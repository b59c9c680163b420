//! The root `cargo run`: the demo binary starts all three services, prints where they are and
//! how to connect, stops cleanly on Ctrl-C, and names the flag to use when a port is taken.

use std::process::Stdio;
use std::time::{Duration, Instant};

use e2e::process::{binary, free_ports};
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

#[tokio::test]
async fn the_demo_serves_prints_how_to_connect_and_stops_on_ctrl_c() -> anyhow::Result<()> {
    let [idp, api, mcp] = free_ports::<3>()?;
    let mut demo = Command::new(binary("demo")?)
        .args([
            "--idp-port",
            &idp.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .args(["--mcp-port", &mcp.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;

    let http = reqwest::Client::new();
    let ready = format!("http://127.0.0.1:{mcp}/ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = http.get(&ready).send().await
            && response.status().is_success()
        {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the demo's mcp-server never became ready"
        );
        anyhow::ensure!(
            demo.try_wait()?.is_none(),
            "the demo exited before it was ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Ctrl-C is SIGINT.
    let status = Command::new("kill")
        .args(["-INT", &demo.id().expect("running").to_string()])
        .status()
        .await?;
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), demo.wait()).await??;
    let mut stdout = String::new();
    demo.stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .await?;
    assert!(
        exit.success(),
        "the demo did not stop cleanly on Ctrl-C: {exit}\n{stdout}"
    );

    let endpoint = format!("http://localhost:{mcp}/mcp");
    for expected in [
        format!("http://localhost:{idp}/"),
        format!("http://localhost:{api}/"),
        endpoint.clone(),
        format!("claude mcp add --transport http auth0-demo {endpoint}"),
        "admin@example.com".to_owned(),
        "admin-pass".to_owned(),
        "user@example.com".to_owned(),
        "guest@example.com".to_owned(),
    ] {
        assert!(
            stdout.contains(&expected),
            "the banner lacks {expected:?}:\n{stdout}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_port_in_use_gets_one_line_naming_the_port_and_the_flag() -> anyhow::Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port();
    let [api, mcp] = free_ports::<2>()?;
    let output = Command::new(binary("demo")?)
        .args(["--idp-port", &port.to_string()])
        .args([
            "--api-port",
            &api.to_string(),
            "--mcp-port",
            &mcp.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await?;
    assert!(!output.status.success(), "the demo started on a taken port");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].contains(&port.to_string()), "{stderr}");
    assert!(lines[0].contains("--idp-port"), "{stderr}");
    drop(taken);
    Ok(())
}
