//! The MCP server's tools and the permission (scope) each needs: the rule the gate,
//! `tools/list`, the 401 challenge and the demo users' expected tools all follow.
//!
//! A call needs the tool's permission in the token's `scope` claim (what this client was
//! granted and the user consented to; RFC 9068 §2.2.3). Auth0's `permissions` claim (what
//! RBAC grants the user) decides only what is listed and how a refusal reads: a tool in
//! `scope` or `permissions` is listed; one the user has but `scope` lacks gets HTTP 403
//! `insufficient_scope` (RFC 6750 §3.1), the step-up; one a `permissions` claim lacks gets
//! a JSON-RPC error naming the permission, since asking again cannot help.

/// The permission the `whoami` tool needs.
pub const PERMISSION_WHOAMI: &str = "tool:whoami";
/// The permission the `greet` tool needs.
pub const PERMISSION_GREET: &str = "tool:greet";

/// One tool of the MCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Its wire name in `tools/list` and `tools/call`.
    pub name: &'static str,
    /// The permission a caller needs, if any.
    pub permission: Option<&'static str>,
    /// What it does, for the docs.
    pub summary: &'static str,
}

/// Every tool, in the order the docs list them.
pub const TOOLS: [Tool; 3] = [
    Tool {
        name: "get_current_time",
        permission: None,
        summary: "the current time, RFC 3339 UTC",
    },
    Tool {
        name: "whoami",
        permission: Some(PERMISSION_WHOAMI),
        summary: "the caller's identity and permissions from the token",
    },
    Tool {
        name: "greet",
        permission: Some(PERMISSION_GREET),
        summary: "exchanges the caller's token and calls `GET {API_BASE_URL}/api/private-scope`",
    },
];

/// Every permission a tool needs, in the order the MCP server advertises them
/// (`scopes_supported`, the `scope` of a 401 challenge).
pub const TOOL_PERMISSIONS: [&str; 2] = [PERMISSION_WHOAMI, PERMISSION_GREET];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advertised_permissions_are_exactly_the_tools_ones() {
        let needed: Vec<&str> = TOOLS.iter().filter_map(|tool| tool.permission).collect();
        assert_eq!(needed, TOOL_PERMISSIONS);
    }
}
