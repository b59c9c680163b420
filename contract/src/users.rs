//! The demo tenant's users, so code and tests name a person instead of repeating
//! e-mail/password pairs. The passwords are demo values, public on purpose: the demo prints
//! them and the README lists them.

use crate::addresses::{MCP_AUDIENCE, UPSTREAM_AUDIENCE};
use crate::clients::EXCHANGE_SCOPE;
use crate::tools::{PERMISSION_GREET, PERMISSION_WHOAMI, TOOLS};

/// One of the three demo users of the embedded tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemoUser {
    /// admin@example.com, role "Tool Administrator": tool:whoami, tool:greet, read:private.
    Admin,
    /// user@example.com, role "Tool User": tool:whoami.
    User,
    /// guest@example.com, no role, no permissions.
    Guest,
}

impl DemoUser {
    /// Every demo user, in the order the demo prints them.
    pub const ALL: [DemoUser; 3] = [DemoUser::Admin, DemoUser::User, DemoUser::Guest];

    /// The login name.
    pub fn email(self) -> &'static str {
        match self {
            DemoUser::Admin => "admin@example.com",
            DemoUser::User => "user@example.com",
            DemoUser::Guest => "guest@example.com",
        }
    }

    /// The demo password (a published demo value, not a secret).
    pub fn password(self) -> &'static str {
        match self {
            DemoUser::Admin => "admin-pass",
            DemoUser::User => "user-pass",
            DemoUser::Guest => "guest-pass",
        }
    }

    /// The role the user has in the demo tenant, if any.
    pub fn role(self) -> Option<&'static str> {
        match self {
            DemoUser::Admin => Some("Tool Administrator"),
            DemoUser::User => Some("Tool User"),
            DemoUser::Guest => None,
        }
    }

    /// The permissions the role grants, as `(API identifier, permission)`.
    pub fn permissions(self) -> &'static [(&'static str, &'static str)] {
        match self {
            DemoUser::Admin => &[
                (MCP_AUDIENCE, PERMISSION_WHOAMI),
                (MCP_AUDIENCE, PERMISSION_GREET),
                (UPSTREAM_AUDIENCE, EXCHANGE_SCOPE),
            ],
            DemoUser::User => &[(MCP_AUDIENCE, PERMISSION_WHOAMI)],
            DemoUser::Guest => &[],
        }
    }

    /// Whether the user's role grants `permission` on the MCP server.
    pub fn may(self, permission: &str) -> bool {
        self.permissions()
            .iter()
            .any(|&(api, granted)| api == MCP_AUDIENCE && granted == permission)
    }

    /// The tools this user may call, in the order of [`TOOLS`].
    pub fn tools(self) -> Vec<&'static str> {
        TOOLS
            .iter()
            .filter(|tool| {
                tool.permission
                    .is_none_or(|permission| self.may(permission))
            })
            .map(|tool| tool.name)
            .collect()
    }

    /// The tools this user should see in `tools/list`, sorted by name.
    pub fn expected_tools(self) -> Vec<&'static str> {
        let mut tools = self.tools();
        tools.sort_unstable();
        tools
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_gets_the_tools_of_their_role() {
        assert_eq!(
            DemoUser::Admin.expected_tools(),
            ["get_current_time", "greet", "whoami"]
        );
        assert_eq!(
            DemoUser::User.expected_tools(),
            ["get_current_time", "whoami"]
        );
        assert_eq!(DemoUser::Guest.expected_tools(), ["get_current_time"]);
    }
}
