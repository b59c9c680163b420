//! The embedded demo tenant (`demo.yaml`): the users, APIs and clients the three services'
//! defaults point at, so `cargo run` needs no file. Tests move its API identifiers to the
//! ports they actually listen on ([`Tenant::demo_for`]).

use super::tenant::Tenant;

/// The demo tenant of the contract (`CONTRACT.md`), embedded so `cargo run` needs no file.
const DEMO_TENANT_YAML: &str = include_str!("demo.yaml");

/// The demo tenant's API identifiers, which [`Tenant::demo_for`] replaces.
const DEMO_MCP_AUDIENCE: &str = contract::MCP_AUDIENCE;
const DEMO_UPSTREAM_AUDIENCE: &str = contract::UPSTREAM_AUDIENCE;
/// The demo tenant's Management API identifier; it follows the issuer (see
/// [`Tenant::rebase_management_api`]).
const DEMO_MANAGEMENT_AUDIENCE: &str = contract::MANAGEMENT_AUDIENCE;

impl Tenant {
    /// The embedded demo tenant of the shared contract.
    pub fn demo() -> Tenant {
        Self::demo_for(DEMO_MCP_AUDIENCE, DEMO_UPSTREAM_AUDIENCE)
    }

    /// The demo tenant with the MCP API and upstream API identifiers replaced everywhere they
    /// appear (resource servers, role permissions, client grants, the token-exchange action's
    /// configuration). Tests use it to point the tenant at servers on ephemeral ports.
    pub fn demo_for(mcp_audience: &str, upstream_audience: &str) -> Tenant {
        let mut value: serde_json::Value =
            serde_yaml_ng::from_str(DEMO_TENANT_YAML).expect("the embedded demo tenant is YAML");
        replace_strings(&mut value, &|s| match s {
            DEMO_MCP_AUDIENCE => Some(mcp_audience.to_owned()),
            DEMO_UPSTREAM_AUDIENCE => Some(upstream_audience.to_owned()),
            _ => None,
        });
        let tenant: Tenant =
            serde_json::from_value(value).expect("the embedded demo tenant is a valid tenant");
        tenant
            .validate()
            .expect("the embedded demo tenant is consistent");
        tenant
    }

    /// Makes the demo tenant's Management API identifier follow the issuer
    /// (`<issuer>api/v2/`), as a real tenant's does.
    pub fn rebase_management_api(&mut self, issuer: &url::Url) {
        let rebased = format!("{issuer}api/v2/");
        if rebased == DEMO_MANAGEMENT_AUDIENCE {
            return;
        }
        for api in &mut self.resource_servers {
            if api.identifier == DEMO_MANAGEMENT_AUDIENCE {
                api.identifier.clone_from(&rebased);
            }
        }
        for grant in &mut self.client_grants {
            if grant.audience == DEMO_MANAGEMENT_AUDIENCE {
                grant.audience.clone_from(&rebased);
            }
        }
    }
}

/// Replaces every string in a JSON tree for which `replace` returns a value.
fn replace_strings(value: &mut serde_json::Value, replace: &dyn Fn(&str) -> Option<String>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(new) = replace(s) {
                *s = new;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                replace_strings(item, replace);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                replace_strings(item, replace);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_for_replaces_the_api_identifiers_everywhere() {
        let tenant = Tenant::demo_for("http://127.0.0.1:5555/", "http://127.0.0.1:6666/");
        assert!(tenant.resource_server("http://127.0.0.1:5555/").is_some());
        assert!(tenant.resource_server("http://127.0.0.1:6666/").is_some());
        let text = serde_json::to_string(&tenant).unwrap();
        assert!(!text.contains("localhost:3001"), "{text}");
        assert!(!text.contains("localhost:8787"), "{text}");
    }

    #[test]
    fn the_demo_tenant_holds_the_contracts_users_and_clients() {
        use contract::DemoUser;
        let tenant = Tenant::demo();
        for user in DemoUser::ALL {
            let found = tenant
                .user_by_email(user.email())
                .unwrap_or_else(|| panic!("no demo user {}", user.email()));
            assert!(found.password.matches(user.password()), "{}", user.email());
            assert_eq!(found.roles, Vec::from_iter(user.role().map(str::to_owned)));
            let mut granted = Vec::new();
            for api in [contract::MCP_AUDIENCE, contract::UPSTREAM_AUDIENCE] {
                let api = tenant
                    .resource_server(api)
                    .expect("the contract's APIs exist");
                for permission in tenant.user_permissions(found, api) {
                    granted.push((api.identifier.clone(), permission));
                }
            }
            let expected: Vec<(String, String)> = user
                .permissions()
                .iter()
                .map(|(api, permission)| ((*api).to_owned(), (*permission).to_owned()))
                .collect();
            assert_eq!(granted, expected, "{}", user.email());
        }
        for client_id in [
            contract::MCP_SERVER_CLIENT_ID,
            contract::DEMO_CLI_CLIENT_ID,
            contract::MANAGEMENT_CLIENT_ID,
        ] {
            assert!(
                tenant.clients.iter().any(|c| c.client_id == client_id),
                "no demo client {client_id}"
            );
        }
        assert!(
            tenant
                .client_grant(
                    contract::MANAGEMENT_CLIENT_ID,
                    contract::MANAGEMENT_AUDIENCE
                )
                .is_some()
        );
    }
}
