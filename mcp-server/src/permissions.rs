//! Which tool needs which permission: one closed table, read by the three places that
//! decide — `tools/list` (a caller sees only what it may call), the HTTP layer's step-up
//! check (`auth`: an HTTP 403 before rmcp runs) and `tools/call` itself (the second line) —
//! and by the discovery documents (`scopes_supported`) and the 401 challenge (`scope`).

use bearer_auth::VerifiedToken;

/// The permission the `whoami` tool needs (the contract's, as every default of the stack).
pub(crate) const PERMISSION_WHOAMI: &str = contract::tools::PERMISSION_WHOAMI;
/// The permission the `greet` tool needs.
pub(crate) const PERMISSION_GREET: &str = contract::tools::PERMISSION_GREET;
/// Every permission a tool of this server can need, in the order advertised
/// (`scopes_supported`, and the `scope` of a 401 challenge).
pub(crate) const ALL_PERMISSIONS: &[&str] = &contract::tools::TOOL_PERMISSIONS;

/// The tools this server has, with the permission each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolName {
    /// `get_current_time`: no permission.
    GetCurrentTime,
    /// `whoami`: `tool:whoami`.
    Whoami,
    /// `greet`: `tool:greet`.
    Greet,
}

impl ToolName {
    /// Every tool.
    const ALL: [ToolName; 3] = [ToolName::GetCurrentTime, ToolName::Whoami, ToolName::Greet];

    /// The tool's wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ToolName::GetCurrentTime => "get_current_time",
            ToolName::Whoami => "whoami",
            ToolName::Greet => "greet",
        }
    }

    /// The tool with this wire name, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<ToolName> {
        Self::ALL.into_iter().find(|tool| tool.as_str() == name)
    }

    /// The permission a caller needs, if any.
    pub(crate) fn permission(self) -> Option<&'static str> {
        match self {
            ToolName::GetCurrentTime => None,
            ToolName::Whoami => Some(PERMISSION_WHOAMI),
            ToolName::Greet => Some(PERMISSION_GREET),
        }
    }

    /// True when `token` may call this tool (the permission in `scope` or `permissions`).
    pub(crate) fn allowed_for(self, token: &VerifiedToken) -> bool {
        self.permission().is_none_or(|p| token.allows(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_advertised_and_every_name_round_trips() {
        for tool in ToolName::ALL {
            assert_eq!(ToolName::from_name(tool.as_str()), Some(tool));
            if let Some(permission) = tool.permission() {
                assert!(ALL_PERMISSIONS.contains(&permission), "{permission}");
            }
        }
        assert_eq!(ToolName::from_name("no_such_tool"), None);
    }
}
