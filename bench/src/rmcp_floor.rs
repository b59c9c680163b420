//! The framework's floor: rmcp's Streamable HTTP service alone, in axum, served the way the
//! services are (`service_kit::serve`), with one tool that answers a constant and no
//! authentication. Measured in the same run and with the same requests as the MCP
//! scenarios, it says how much of a tool call's cost is rmcp's own and how much is ours
//! (the gate, token verification, the tool), on whatever machine the bench runs.

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::net::TcpListener;

use crate::workloads::serve_until_stopped;

/// The one tool; the scenarios call it by this name in both eras.
pub const TOOL: &str = "constant";

/// A server whose only tool answers the same text every time.
#[derive(Clone)]
struct Constant;

impl ServerHandler for Constant {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        (name == TOOL).then(|| {
            let schema = serde_json::json!({ "type": "object" });
            let serde_json::Value::Object(schema) = schema else {
                unreachable!("an object literal")
            };
            Tool::new(TOOL, "Answers a constant.", Arc::new(schema))
        })
    }

    async fn call_tool(
        &self,
        _request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text("ok")]).into())
    }
}

/// Serves the floor on a port of 127.0.0.1 until the sender is used or dropped. Sessions
/// (2025-11-25) and stateless requests (2026-07-28) both work, as on mcp-server; replies are
/// JSON where the request allows it, as mcp-server's.
pub async fn spawn() -> anyhow::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(true)
        .with_json_response(true);
    let mut sessions = LocalSessionManager::default();
    // Sessions of one point end when they idle out, as on mcp-server.
    sessions.session_config.keep_alive = Some(std::time::Duration::from_secs(300));
    let service = StreamableHttpService::new(|| Ok(Constant), Arc::new(sessions), config);
    let router = axum::Router::new().route_service("/mcp", service);
    Ok((addr, serve_until_stopped(listener, router)))
}
