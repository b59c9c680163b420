//! The official Python MCP SDK (pinned in e2e/python/mcp_sdk/requirements.txt) runs the whole
//! journey against an in-process stack: 401, discovery, dynamic registration, PKCE, login
//! and consent, tools as admin, the 403 step-up of a client granted too little (admin
//! consenting first to tool:whoami only), the tool list and a readable refusal as user, and
//! guest, in both eras.

use e2e::TestStack;
use e2e::python::run_journey;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_completes_the_journey() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let run = run_journey(&stack.mcp_endpoint(), &["--mode", "both"]).await?;
    println!("{}", run.stdout);
    assert!(
        run.stdout
            .contains("python-sdk-journey: 8 passed, 0 failed"),
        "unexpected journey summary:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    stack.shutdown().await
}
