//! The demo tenant's users, so tests name a person instead of repeating e-mail/password pairs.
//!
//! The values are the contract's (`shared/contract.md`): fake-auth0 embeds them, the demo
//! prints them and the README lists them.

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

    /// The MCP server's tools this user should see in `tools/list`, sorted by name.
    pub fn expected_tools(self) -> &'static [&'static str] {
        match self {
            DemoUser::Admin => &["get_current_time", "greet", "whoami"],
            DemoUser::User => &["get_current_time", "whoami"],
            DemoUser::Guest => &["get_current_time"],
        }
    }

    /// The role name shown by the demo.
    pub fn role(self) -> &'static str {
        match self {
            DemoUser::Admin => "Tool Administrator",
            DemoUser::User => "Tool User",
            DemoUser::Guest => "(none)",
        }
    }
}
