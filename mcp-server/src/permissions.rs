//! Which tool needs which permission: one closed table, read by the three places that
//! decide — `tools/list` (a caller sees only what it may call), the HTTP layer's step-up
//! check (`auth`: an HTTP 403 before rmcp runs) and `tools/call` itself (the second line) —
//! and by the discovery documents (`scopes_supported`) and the 401 challenge (`scope`).
//!
//! Whether a token grants a permission is `bearer_auth::Access` (only `scope` grants;
//! Auth0's `permissions` says whether a step-up can help), the same rule upstream-api
//! applies to `read:private`.

use bearer_auth::{Access, VerifiedToken};

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

    /// What `token` says about calling this tool: granted when its permission is in the
    /// token's `scope` (or it needs none).
    pub(crate) fn access_for(self, token: &VerifiedToken) -> Access {
        self.permission()
            .map_or(Access::Granted, |p| token.access(p))
    }

    /// True when a call of this tool with `token` would be refused with a step-up (HTTP 403
    /// `insufficient_scope`): its permission is missing from the token's `scope`, and the
    /// user has it or may consent to it.
    pub(crate) fn needs_step_up(self, token: &VerifiedToken) -> bool {
        matches!(
            Refusal::of(self, self.access_for(token)),
            Some(Refusal::StepUp(_))
        )
    }

    /// True when no tool of this server needs a step-up for `token`.
    pub(crate) fn none_needs_step_up(token: &VerifiedToken) -> bool {
        !Self::ALL.into_iter().any(|tool| tool.needs_step_up(token))
    }

    /// True when `tools/list` shows this tool to `token`'s user: it can be called now, or
    /// after the user consents to its permission (which `permissions` says the user has).
    pub(crate) fn listed_for(self, token: &VerifiedToken) -> bool {
        self.permission()
            .is_none_or(|p| token.may_use_after_consent(p))
    }
}

/// Why a call of a known tool is refused, in words a person can act on. The same words
/// reach every client: in the JSON-RPC body of the gate's HTTP 403 (`StepUp`) and in the
/// JSON-RPC error of `tools/call` (`NotPermitted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user has (or may have) the permission, but this token's `scope` lacks it:
    /// authorizing again with it helps (HTTP 403 `insufficient_scope`).
    StepUp(ToolName),
    /// The token's `permissions` claim says the user does not have it: no step-up helps.
    NotPermitted(ToolName),
}

impl Refusal {
    /// The JSON-RPC error code of a refused tool call, in the gate's 403 body and in
    /// `tools/call`'s error alike: an implementation-defined server error (JSON-RPC 2.0 §5.1
    /// reserves -32000 to -32099 for them).
    pub(crate) const RPC_CODE: i32 = -32003;

    /// The refusal for `tool` given `access`, or `None` when the call may proceed.
    pub(crate) fn of(tool: ToolName, access: Access) -> Option<Refusal> {
        match access {
            Access::Granted => None,
            Access::NeedsConsent | Access::NotInScope => Some(Refusal::StepUp(tool)),
            Access::NotPermitted => Some(Refusal::NotPermitted(tool)),
        }
    }

    /// The tool refused.
    pub(crate) fn tool(self) -> ToolName {
        match self {
            Refusal::StepUp(tool) | Refusal::NotPermitted(tool) => tool,
        }
    }

    /// The permission the tool needs.
    pub(crate) fn scope(self) -> &'static str {
        self.tool().permission().unwrap_or_default()
    }

    /// The message shown to the person: which tool, which scope, what to do. It starts as
    /// Auth0's sample's message does, so people who know that one recognise it.
    pub(crate) fn message(self) -> String {
        let (tool, scope) = (self.tool().as_str(), self.scope());
        match self {
            Refusal::StepUp(_) => format!(
                "Missing required scopes: ['{scope}']. The {tool} tool needs {scope}, which \
                 this access token was not granted: authorize again and consent to {scope}."
            ),
            Refusal::NotPermitted(_) => format!(
                "Missing required scopes: ['{scope}']. The {tool} tool needs the {scope} \
                 permission, which your user does not have; authorizing again will not help: \
                 ask an administrator for it."
            ),
        }
    }

    /// The JSON-RPC error's `data`: the same facts for programs.
    pub(crate) fn data(self) -> serde_json::Value {
        serde_json::json!({ "tool": self.tool().as_str(), "required_scopes": [self.scope()] })
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
