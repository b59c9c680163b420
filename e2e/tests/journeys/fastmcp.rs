//! The `fastmcp` client (pinned in e2e/python/fastmcp/requirements.txt), which nobody here
//! wrote, shows each demo user their tools and, for a refused call, text that names the
//! missing permission: a user without it, a guest, and a client granted too little (the 403
//! step-up's JSON-RPC body), in both protocol eras.

use e2e::python::run_script;
use e2e::{DemoUser, TestStack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fastmcp_client_shows_tools_and_readable_refusals() -> anyhow::Result<()> {
    let stack = TestStack::start().await?;
    let admin = stack.token_for(DemoUser::Admin).await?;
    let narrowed = stack
        .token_with_scope(DemoUser::Admin, "openid tool:whoami")
        .await?;
    let user = stack.token_for(DemoUser::User).await?;
    let guest = stack.token_for(DemoUser::Guest).await?;
    let endpoint = stack.mcp_endpoint();
    let run = run_script(
        "fastmcp",
        "journey.py",
        &["--mcp-url", endpoint.as_str()],
        &[
            ("JOURNEY_TOKEN_ADMIN", &admin),
            ("JOURNEY_TOKEN_NARROWED", &narrowed),
            ("JOURNEY_TOKEN_USER", &user),
            ("JOURNEY_TOKEN_GUEST", &guest),
        ],
    )
    .await?;
    println!("{}", run.stdout);
    run.expect_summary("fastmcp-journey: 8 passed, 0 failed")?;
    stack.shutdown().await
}
