//! The docs say what the code does: `CONTRACT.md` is exactly what the `contract` crate
//! renders, and the README's tables of services and demo users carry the same values.

use std::path::PathBuf;

use contract::{
    DemoUser, IDP_PORT, ISSUER, MCP_ENDPOINT, MCP_PORT, UPSTREAM_AUDIENCE, UPSTREAM_PORT,
};

fn workspace_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A table row with each cell trimmed, so column alignment does not matter.
fn cells(row: &str) -> Vec<String> {
    row.trim()
        .trim_matches('|')
        .split('|')
        .map(|cell| cell.trim().to_owned())
        .collect()
}

fn has_row(text: &str, expected: &str) -> bool {
    let expected = cells(expected);
    text.lines()
        .filter(|line| line.trim_start().starts_with('|'))
        .any(|line| cells(line) == expected)
}

#[test]
fn contract_md_is_what_the_crate_renders() {
    let expected = contract::render_markdown();
    let actual = workspace_file("CONTRACT.md");
    assert!(
        actual == expected,
        "CONTRACT.md differs from the contract crate; replace it with:\n{expected}"
    );
}

#[test]
fn the_readme_lists_the_contracts_addresses_and_users() {
    let readme = workspace_file("README.md");
    for user in DemoUser::ALL {
        let row = contract::users_row(user, false);
        assert!(
            has_row(&readme, &row),
            "README.md lacks the demo-users row {row}"
        );
    }
    for (service, port, url) in [
        ("fake-auth0", IDP_PORT, ISSUER.to_owned()),
        ("upstream-api", UPSTREAM_PORT, UPSTREAM_AUDIENCE.to_owned()),
        ("mcp-server", MCP_PORT, MCP_ENDPOINT.to_owned()),
    ] {
        let line = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{service}` |")))
            .unwrap_or_else(|| panic!("README.md has no services row for {service}"));
        assert!(
            line.contains(&format!("`{url}`")) && url.contains(&format!(":{port}/")),
            "README.md's row for {service} does not say {url}: {line}"
        );
    }
}
