//! The demo tenant's clients and the token exchange the MCP server performs with them.
//!
//! The secrets are demo values, public on purpose: fake-auth0 is for development and tests.

/// The confidential client the MCP server authenticates as for the token exchange
/// (`MCP_AUTH0_CLIENT_ID`).
pub const MCP_SERVER_CLIENT_ID: &str = "mcp-server-client";
/// Its secret (`MCP_AUTH0_CLIENT_SECRET`), sent as `client_secret_post` (RFC 6749 §2.3.1).
pub const MCP_SERVER_CLIENT_SECRET: &str = "mcp-server-secret";
/// The public, first-party client that may use the password grant (a CLI; browsers use the
/// authorization-code flow with PKCE).
pub const DEMO_CLI_CLIENT_ID: &str = "demo-cli";
/// The machine client with a grant for the Management API (the auth0 CLI's stand-in).
pub const MANAGEMENT_CLIENT_ID: &str = "management-cli";
/// Its secret.
pub const MANAGEMENT_CLIENT_SECRET: &str = "management-secret";

/// The `subject_token_type` that selects the demo tenant's Custom Token Exchange profile
/// (`MCP_AUTH0_SUBJECT_TOKEN_TYPE`; RFC 8693 §2.1 lets a profile define its own URI).
pub const SUBJECT_TOKEN_TYPE: &str = "urn:fastmcp:mcp";
/// The scope the MCP server asks for in the exchange (`MCP_AUTH0_EXCHANGE_SCOPE`), the one the
/// upstream API requires.
pub const EXCHANGE_SCOPE: &str = "read:private";
