//! The consistency checks of a tenant: unique ids, references that resolve (client grants,
//! role permissions, users' roles, the default audience, profiles' Actions), secrets where
//! the authentication method needs them, and Auth0's rules for token-exchange profiles.
//!
//! Run when a tenant file loads and after every Management API change, so a tenant that
//! is being served is always consistent.

use std::collections::HashSet;

use super::tenant::Tenant;
use super::token_exchange_profile::validate_profiles;

impl Tenant {
    /// Checks references between objects, so a typo fails at start and not at login.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut identifiers = HashSet::new();
        for (i, api) in self.resource_servers.iter().enumerate() {
            if !identifiers.insert(api.identifier.as_str()) {
                return Err(format!(
                    "resource_servers[{i}].identifier: `{}` is defined twice",
                    api.identifier
                ));
            }
        }
        let mut client_ids = HashSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            if !client_ids.insert(client.client_id.as_str()) {
                return Err(format!(
                    "clients[{i}].client_id: `{}` is defined twice",
                    client.client_id
                ));
            }
            match (client.is_confidential(), client.client_secret.is_some()) {
                (true, false) => {
                    return Err(format!(
                        "clients[{i}]: token_endpoint_auth_method `{}` needs a client_secret",
                        client.token_endpoint_auth_method.as_str()
                    ));
                }
                (false, true) => {
                    return Err(format!(
                        "clients[{i}]: a public client (token_endpoint_auth_method `none`) has no client_secret"
                    ));
                }
                _ => {}
            }
            for (j, callback) in client.callbacks.iter().enumerate() {
                if url::Url::parse(callback).is_err() {
                    return Err(format!(
                        "clients[{i}].callbacks[{j}]: `{callback}` is not an absolute URL"
                    ));
                }
            }
        }
        let api_has_scope = |identifier: &str, scope: &str| {
            self.resource_server(identifier)
                .map(|api| api.scopes.iter().any(|s| s.value == scope))
        };
        for (i, grant) in self.client_grants.iter().enumerate() {
            if !client_ids.contains(grant.client_id.as_str()) {
                return Err(format!(
                    "client_grants[{i}].client_id: no client `{}`",
                    grant.client_id
                ));
            }
            for scope in &grant.scope {
                match api_has_scope(&grant.audience, scope) {
                    None => {
                        return Err(format!(
                            "client_grants[{i}].audience: no resource server `{}`",
                            grant.audience
                        ));
                    }
                    Some(false) => {
                        return Err(format!(
                            "client_grants[{i}].scope: `{scope}` is not a scope of `{}`",
                            grant.audience
                        ));
                    }
                    Some(true) => {}
                }
            }
        }
        let mut role_names = HashSet::new();
        for (i, role) in self.roles.iter().enumerate() {
            if !role_names.insert(role.name.as_str()) {
                return Err(format!("roles[{i}].name: `{}` is defined twice", role.name));
            }
            for (j, permission) in role.permissions.iter().enumerate() {
                match api_has_scope(
                    &permission.resource_server_identifier,
                    &permission.permission_name,
                ) {
                    None => {
                        return Err(format!(
                            "roles[{i}].permissions[{j}].resource_server_identifier: no resource server `{}`",
                            permission.resource_server_identifier
                        ));
                    }
                    Some(false) => {
                        return Err(format!(
                            "roles[{i}].permissions[{j}].permission_name: `{}` is not a scope of `{}`",
                            permission.permission_name, permission.resource_server_identifier
                        ));
                    }
                    Some(true) => {}
                }
            }
        }
        let mut user_ids = HashSet::new();
        let mut emails = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if !user_ids.insert(user.user_id.as_str()) {
                return Err(format!(
                    "users[{i}].user_id: `{}` is defined twice",
                    user.user_id
                ));
            }
            if !emails.insert(user.email.to_ascii_lowercase()) {
                return Err(format!("users[{i}].email: `{}` is used twice", user.email));
            }
            for role in &user.roles {
                if !role_names.contains(role.as_str()) {
                    return Err(format!("users[{i}].roles: no role `{role}`"));
                }
            }
        }
        if let Some(audience) = &self.settings.default_audience
            && self.resource_server(audience).is_none()
        {
            return Err(format!(
                "settings.default_audience: no resource server `{audience}`"
            ));
        }
        validate_profiles(&self.token_exchange_profiles)
            .map_err(|message| format!("token_exchange_profiles: {message}"))?;
        let mut action_ids = HashSet::new();
        for (i, action) in self.actions.iter().enumerate() {
            if !action.id.starts_with("act_") || action.id.len() == "act_".len() {
                return Err(format!(
                    "actions[{i}].id: `{}` must start with `act_`",
                    action.id
                ));
            }
            if !action_ids.insert(action.id.as_str()) {
                return Err(format!("actions[{i}].id: `{}` is used twice", action.id));
            }
        }
        for (i, profile) in self.token_exchange_profiles.iter().enumerate() {
            if let Some(action_id) = &profile.action_id
                && !action_ids.contains(action_id.as_str())
                && !self.actions.is_empty()
            {
                return Err(format!(
                    "token_exchange_profiles[{i}].action_id: no action `{action_id}`"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_role_is_rejected() {
        let yaml = "users:\n  - user_id: auth0|1\n    email: a@b.c\n    password: p\n    roles: [Nobody]\n";
        let error = Tenant::from_yaml_str(yaml, "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("users[0].roles: no role `Nobody`"),
            "{error}"
        );
    }
}
