//! `CONTRACT.md`, written from the constants, so the document a reader sees is the
//! contract the code uses; `tests/docs.rs` fails when the file or the README drifts.

use std::fmt::Write as _;

use crate::addresses::*;
use crate::clients::*;
use crate::tools::TOOLS;
use crate::users::DemoUser;

/// The text of `CONTRACT.md`.
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# The stack's shared defaults\n\
         \n\
         <!-- Written from the `contract` crate (contract/src/); `cargo test -p contract` fails\n\
         when this file differs from it, and prints the text to paste. -->\n\
         \n\
         The three services work together with no configuration: each one's defaults point at\n\
         the others'. A real Auth0 tenant replaces fake-auth0 by configuration alone. These\n\
         values are the contract between the services, the demo, the docs and the tests; the\n\
         `contract` crate holds them and every service takes its defaults from it.\n\
         \n\
         ## Addresses\n\
         \n\
         | service | listens on (default) | public URL / identifier |\n\
         |---|---|---|\n",
    );
    let rows = [
        ("fake-auth0", IDP_LISTEN, format!("issuer `{ISSUER}`")),
        (
            "upstream-api",
            UPSTREAM_LISTEN,
            format!("API identifier (audience) `{UPSTREAM_AUDIENCE}`"),
        ),
        (
            "mcp-server",
            MCP_LISTEN,
            format!("API identifier (audience) `{MCP_AUDIENCE}`, MCP endpoint `{MCP_ENDPOINT}`"),
        ),
    ];
    for (service, listen, public) in rows {
        let _ = writeln!(out, "| `{service}` | `{listen}` | {public} |");
    }
    let _ = write!(
        out,
        "\nIn containers the services listen on `0.0.0.0`; compose publishes the ports on \
         127.0.0.1 only.\n\
         \n\
         ## Clients of the demo tenant\n\
         \n\
         | client_id | secret | what it is for |\n\
         |---|---|---|\n\
         | `{MCP_SERVER_CLIENT_ID}` | `{MCP_SERVER_CLIENT_SECRET}` | the MCP server's token exchange, \
         a Custom API client allowed both: Custom Token Exchange with `subject_token_type` \
         `{SUBJECT_TOKEN_TYPE}` (the demo's), or On-Behalf-Of; scope `{EXCHANGE_SCOPE}`; its \
         secret in the body or by HTTP Basic |\n\
         | `{DEMO_CLI_CLIENT_ID}` | (public) | password, authorization code with PKCE, refresh \
         token; callbacks on any loopback port |\n\
         | `{MANAGEMENT_CLIENT_ID}` | `{MANAGEMENT_CLIENT_SECRET}` | `client_credentials` for the \
         Management API, audience `{MANAGEMENT_AUDIENCE}` |\n\
         \n\
         ## Demo users\n\
         \n\
         | user | password | role | permissions | tools |\n\
         |---|---|---|---|---|\n"
    );
    for user in DemoUser::ALL {
        let _ = writeln!(out, "{}", users_row(user, true));
    }
    out.push_str(
        "\nThe passwords are demo values, public on purpose.\n\
         \n\
         ## Tools of the MCP server\n\
         \n\
         | tool | permission needed | what it does |\n\
         |---|---|---|\n",
    );
    for tool in TOOLS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            tool.name,
            tool.permission
                .map_or_else(|| "none".to_owned(), |p| format!("`{p}`")),
            tool.summary
        );
    }
    out.push_str(
        "\nA call needs the tool's permission in the token's `scope` claim: what this client\n\
         was granted and the user consented to (RFC 9068 §2.2.3). Auth0's `permissions`\n\
         claim (what the user's roles grant) only decides what is listed and how a refusal\n\
         reads: a tool in `scope` or `permissions` is listed; one the user has but the\n\
         token's `scope` lacks gets HTTP 403 `insufficient_scope` naming the permission, so\n\
         the client can ask the user to step up; one a `permissions` claim lacks is not\n\
         listed, and calling it gets a JSON-RPC error naming the permission.\n",
    );
    out
}

/// One row of a demo-users table: user, password, role, [permissions,] tools.
#[doc(hidden)]
pub fn users_row(user: DemoUser, with_permissions: bool) -> String {
    let permissions = if user.permissions().is_empty() {
        "(none)".to_owned()
    } else {
        user.permissions()
            .iter()
            .map(|(_, permission)| *permission)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut row = format!(
        "| {} | {} | {} |",
        user.email(),
        user.password(),
        user.role().unwrap_or("(none)")
    );
    if with_permissions {
        let _ = write!(row, " {permissions} |");
    }
    let _ = write!(row, " {} |", user.tools().join(", "));
    row
}
