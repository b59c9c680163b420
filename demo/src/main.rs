//! `cargo run` at the workspace root: the whole demo in one process.
//!
//! fake-auth0 on :4000, upstream-api on :8787 and mcp-server on :3001, with the contract's
//! `localhost` URLs, so that an MCP client on this machine (Claude Code, MCP Inspector, the
//! Python SDK) can sign in as a demo user and call the tools. It starts the `stack` crate's
//! `TestStack`, so what the demo runs is exactly what the journeys test; binding, its
//! one-line errors and the signals that stop it are service-kit's, as for every service.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use stack::contract::{IDP_PORT, MCP_PORT, UPSTREAM_PORT};
use stack::{DemoUser, ListenOn, Listeners, TestStack};

/// The MCP + Auth0 demo: fake-auth0, upstream-api and mcp-server in one process.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about)]
struct Cli {
    /// Port of fake-auth0 (the issuer is http://localhost:<port>/).
    #[arg(long, env = "DEMO_IDP_PORT", default_value_t = IDP_PORT)]
    idp_port: u16,
    /// Port of upstream-api.
    #[arg(long, env = "DEMO_API_PORT", default_value_t = UPSTREAM_PORT)]
    api_port: u16,
    /// Port of mcp-server (the MCP endpoint is http://localhost:<port>/mcp).
    #[arg(long, env = "DEMO_MCP_PORT", default_value_t = MCP_PORT)]
    mcp_port: u16,
    /// Address to listen on (0.0.0.0 exposes the demo to the network: don't).
    #[arg(long, env = "DEMO_LISTEN_HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    listen_host: IpAddr,
    /// Browser origins allowed to call /mcp (MCP Inspector's UI by default), comma separated.
    #[arg(
        long,
        env = "MCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:6274,http://127.0.0.1:6274"
    )]
    allowed_origins: Vec<String>,
    /// Extra CA certificates (PEM) fake-auth0 trusts when it fetches a client's Client ID
    /// Metadata Document over HTTPS, e.g. a local CA of a document served on loopback.
    #[arg(long, env = "DEMO_IDP_CA_FILE", value_name = "PEM")]
    idp_ca_file: Option<PathBuf>,
    /// What clients are allowed, for all three services (the same flags as each service's).
    #[command(flatten)]
    limits: service_kit::ServerLimits,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    // Installed before the slow start, so an early Ctrl-C is not lost.
    let stop = service_kit::shutdown_signal();
    let at = |port, setting| ListenOn {
        addr: SocketAddr::new(cli.listen_host, port),
        setting,
    };
    let listeners = Listeners::bind(
        at(cli.idp_port, "--idp-port / DEMO_IDP_PORT"),
        at(cli.api_port, "--api-port / DEMO_API_PORT"),
        at(cli.mcp_port, "--mcp-port / DEMO_MCP_PORT"),
    )
    .await
    .map_err(|error| error.to_string())?;

    let allowed_origins = cli.allowed_origins.clone();
    let idp_ca_file = cli.idp_ca_file.clone();
    let mut stack = TestStack::builder()
        .listeners(listeners)
        .public_host("localhost")
        .server_limits(cli.limits)
        .idp_config(move |config| config.ca_file = idp_ca_file)
        .mcp_config(move |config| config.allowed_origins = allowed_origins)
        .start()
        .await
        .map_err(|error| format!("the demo did not start: {error:#}"))?;

    print_banner(&stack);

    let outcome = tokio::select! {
        () = stop => Ok(()),
        result = stack.wait_for_exit() => result.map_err(|error| format!("{error:#}")),
    };
    eprintln!("stopping…");
    stack
        .shutdown()
        .await
        .map_err(|error| format!("stopping: {error:#}"))?;
    outcome
}

fn print_banner(stack: &TestStack) {
    let endpoint = stack.mcp_endpoint();
    let idp = &stack.idp_url;
    let mcp_audience = &stack.mcp_url;
    let mut users = String::new();
    for user in DemoUser::ALL {
        users.push_str(&format!(
            "  {:<19} {:<11} {:<19} tools: {}\n",
            user.email(),
            user.password(),
            user.role().unwrap_or("(none)"),
            user.tools().join(", ")
        ));
    }
    println!(
        "\
The MCP + Auth0 demo is running. Press Ctrl-C to stop.

  fake-auth0 (issuer)  {idp}
  upstream-api         {upstream}
  mcp-server           {mcp}  (MCP endpoint: {endpoint})

Demo users (sign in with these on fake-auth0's login page):
{users}
Connect an MCP client to {endpoint}:
  Claude Code:    claude mcp add --transport http auth0-demo {endpoint}
                  (then /mcp in Claude Code to sign in)
  MCP Inspector:  npx @modelcontextprotocol/inspector
                  (Transport: Streamable HTTP, URL: {endpoint}, then \"Open Auth Settings\" → Quick OAuth Flow)
  Python SDK:     python3 -m venv .venv && .venv/bin/pip install -r e2e/python/mcp_sdk/requirements.txt
                  .venv/bin/python e2e/python/mcp_sdk/journey.py --mcp-url {endpoint}
  JSON config:    {{\"mcpServers\": {{\"auth0-demo\": {{\"type\": \"http\", \"url\": \"{endpoint}\"}}}}}}
  curl (token by password grant, first-party client demo-cli):
    curl -s {idp}oauth/token -d grant_type=password -d client_id={cli} \\
      -d username={admin} -d password={password} -d audience={mcp_audience}
",
        cli = stack::contract::DEMO_CLI_CLIENT_ID,
        admin = DemoUser::Admin.email(),
        password = DemoUser::Admin.password(),
        upstream = stack.upstream_url,
        mcp = stack.mcp_url,
    );
}
