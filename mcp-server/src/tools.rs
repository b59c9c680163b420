//! The MCP tools and the rmcp `ServerHandler` that serves them.
//!
//! Which tool needs which permission is the table in `permissions`: `tools/list` shows a
//! caller what it may call now or after consenting, and `tools/call` refuses with a
//! JSON-RPC error naming the tool and the permission when the user lacks it (the HTTP
//! layer has already answered 403 step-up where asking again helps). The caller comes from the request's extensions (`caller`),
//! where the HTTP layer put it.

use std::sync::Arc;

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{
        router::tool::ToolRouter,
        tool::ToolCallContext,
        wrapper::{Json, Parameters},
    },
    model::{
        CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
        Implementation, ListToolsResult, MetaObject, PaginatedRequestParams, ProtocolVersion,
        ResultType, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
    tool, tool_router,
};
use serde::{Deserialize, Serialize};

use crate::caller::Caller;
use crate::greet::{GreetOutput, Greeter};
use crate::metrics::Metrics;
use crate::permissions::{Refusal, ToolName};

/// `get_current_time`'s result.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CurrentTime {
    /// Now, RFC 3339 in UTC, e.g. `2026-01-01T12:00:00Z`.
    pub utc: String,
    /// Now, seconds since the Unix epoch.
    pub unix_seconds: i64,
}

/// `whoami`'s result: the caller as the access token describes it.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct WhoAmI {
    /// `sub`: the user.
    pub sub: String,
    /// `client_id` (or `azp`): the application the user signed in with.
    pub client_id: Option<String>,
    /// The `scope` claim, split.
    pub scopes: Vec<String>,
    /// The `permissions` claim (Auth0 RBAC).
    pub permissions: Vec<String>,
    /// Every other claim of the token (iss, aud, exp, iat, …), as sent.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// `greet`'s arguments.
#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct GreetArgs {
    /// Who to greet; the caller's name from the token when absent.
    #[serde(default)]
    pub name: Option<String>,
}

/// The MCP handler: one per session (or per stateless request), sharing the router built once.
#[derive(Clone)]
pub(crate) struct McpTools {
    router: Arc<ToolRouter<McpTools>>,
    greeter: Arc<Greeter>,
    metrics: Metrics,
}

impl McpTools {
    /// Builds the router once; every handler instance shares it.
    pub(crate) fn new(greeter: Arc<Greeter>, metrics: Metrics) -> Self {
        Self {
            router: Arc::new(Self::tool_router()),
            greeter,
            metrics,
        }
    }
}

/// The caller the HTTP layer attached to this request, if any (there always is one on /mcp).
fn caller_of(context: &RequestContext<RoleServer>) -> Option<&Caller> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
}

/// Who this server is: `initialize`'s `serverInfo`, and the `_meta` of 2026-07-28 results.
fn implementation() -> Implementation {
    Implementation::new("mcp-server", env!("CARGO_PKG_VERSION"))
}

/// True when the request speaks 2026-07-28 or later.
fn is_modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

/// The `_meta` of a 2026-07-28 result: the server names itself on every result (a SHOULD
/// of the 2026-07-28 `basic#_meta` rules, since there is no `initialize` to do it).
fn server_info_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    let info = serde_json::to_value(implementation()).unwrap_or_default();
    meta.0
        .insert("io.modelcontextprotocol/serverInfo".to_owned(), info);
    meta
}

fn no_caller() -> ErrorData {
    ErrorData::internal_error("no authenticated caller on this request", None)
}

#[tool_router]
impl McpTools {
    /// The current time, RFC 3339 in UTC.
    #[tool(
        name = "get_current_time",
        description = "The current date and time, RFC 3339 in UTC. Needs no permission.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_current_time(&self) -> Result<Json<CurrentTime>, ErrorData> {
        let now = time::OffsetDateTime::now_utc();
        let utc = now
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| ErrorData::internal_error(format!("formatting the time: {e}"), None))?;
        Ok(Json(CurrentTime {
            utc,
            unix_seconds: now.unix_timestamp(),
        }))
    }

    /// The caller's identity and permissions, from the access token.
    #[tool(
        name = "whoami",
        description = "Who you are: your user id (sub), the application (client_id), your scopes and permissions, and the access token's other claims. Needs tool:whoami.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn whoami(&self, context: RequestContext<RoleServer>) -> Result<Json<WhoAmI>, ErrorData> {
        let caller = caller_of(&context).ok_or_else(no_caller)?;
        let token = &caller.token;
        let claims = token
            .claims
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "sub" | "client_id" | "scope" | "permissions"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Json(WhoAmI {
            sub: token.subject.clone(),
            client_id: token.client_id.clone(),
            scopes: token.scopes.clone(),
            permissions: token.permissions.clone().unwrap_or_default(),
            claims,
        }))
    }

    /// Greets through the upstream API on the caller's behalf (Custom Token Exchange).
    #[tool(
        name = "greet",
        description = "Greets you (or `name`) through the upstream API, called on your behalf with an exchanged token. Needs tool:greet.",
        annotations(read_only_hint = true, open_world_hint = true),
        output_schema = rmcp::handler::server::common::schema_for_output::<GreetOutput>()
    )]
    async fn greet(
        &self,
        Parameters(args): Parameters<GreetArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, String> {
        let Some(caller) = caller_of(&context) else {
            return Err("no authenticated caller on this request".to_owned());
        };
        let output = self
            .greeter
            .greet(&caller.token, caller.subject_token.expose(), args.name)
            .await
            .map_err(|e| e.to_string())?;
        // The text is what a person reads: the greeting and, as in Auth0's sample, the
        // upstream API's answer (what proves the exchange worked, for hosts that show text
        // only). The structured content carries the same for programs.
        let structured =
            serde_json::to_value(&output).map_err(|e| format!("serialising the greeting: {e}"))?;
        let text = format!(
            "{}\nUpstream API Response: {}",
            output.message, output.upstream
        );
        let mut result = CallToolResult::structured(structured);
        result.content = vec![ContentBlock::text(text)];
        Ok(result)
    }
}

impl ServerHandler for McpTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation())
            .with_instructions(
                "Tools are gated by your permissions: get_current_time (none), \
                 whoami (tool:whoami), greet (tool:greet).",
            )
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.router.get(name).cloned()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller_of(&context).ok_or_else(no_caller)?;
        let tools = self
            .router
            .list_all()
            .into_iter()
            .filter(|tool| {
                ToolName::from_name(&tool.name).is_some_and(|t| t.listed_for(&caller.token))
            })
            .collect();
        // The list depends on who asks: it may be cached only by this user's client.
        let modern = is_modern(&context);
        Ok(ListToolsResult {
            result_type: Some(ResultType::COMPLETE),
            tools,
            meta: modern.then(server_info_meta),
            next_cursor: None,
            ttl_ms: modern.then_some(0),
            cache_scope: modern.then_some(CacheScope::Private),
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = ToolName::from_name(&request.name) else {
            self.metrics.tool_call("unknown", "protocol_error");
            // MCP's answer for an unknown tool (-32602), naming it.
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {}", request.name),
                Some(serde_json::json!({ "tool": request.name })),
            ));
        };
        let label = tool.as_str();
        // The HTTP layer already answered 403 where a step-up helps; a user without the
        // permission, or a request that reached here another way, is refused here.
        let caller = caller_of(&context).ok_or_else(no_caller)?;
        if let Some(refusal) = Refusal::of(tool, tool.access_for(&caller.token)) {
            self.metrics.tool_call(label, "insufficient_scope");
            return Err(ErrorData::new(
                rmcp::model::ErrorCode(Refusal::RPC_CODE),
                refusal.message(),
                Some(refusal.data()),
            ));
        }
        let modern = is_modern(&context);
        let mut result = self
            .router
            .call(ToolCallContext::new(self, request, context))
            .await;
        if modern && let Ok(CallToolResponse::Complete(complete)) = &mut result {
            complete
                .meta
                .get_or_insert_default()
                .extend(server_info_meta());
        }
        let outcome = match &result {
            Err(_) => "protocol_error",
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "error",
            Ok(_) => "ok",
        };
        self.metrics.tool_call(label, outcome);
        result
    }
}
