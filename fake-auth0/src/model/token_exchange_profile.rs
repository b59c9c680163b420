//! Token exchange profiles: the tenant objects that route a Custom Token Exchange request to
//! an Action.
//!
//! They are shaped like the objects of Auth0's Management API
//! (`/api/v2/token-exchange-profiles`: `id`, `name`, `subject_token_type`, `action_id`,
//! `type`), so a tenant file reads like what `auth0 token-exchange create` produces. Auth0
//! keeps the Action's code and secrets elsewhere; a tenant file holds them inline under
//! `action`, because the fake runs its Actions as Rust code, not JavaScript.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// One Custom Token Exchange profile: requests whose `subject_token_type` equals this
/// profile's are handed to its Action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeProfile {
    /// The profile id, `tep_…` as Auth0 generates them.
    pub id: String,
    /// A name of 3 to 50 characters, as Auth0's Management API requires.
    pub name: String,
    /// The URI that selects this profile (RFC 8693 §2.1 `subject_token_type`). It must be
    /// owned by the customer: `https://…` or `urn:…`, outside Auth0's reserved namespaces.
    pub subject_token_type: String,
    /// Auth0's id of the bound Action. Kept for parity with the Management API object; the
    /// fake runs the Action described by [`TokenExchangeProfile::action`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// The only profile type Auth0 has for Custom Token Exchange.
    #[serde(rename = "type", default)]
    pub profile_type: ProfileType,
    /// The Action run for each request matching this profile.
    pub action: ProfileAction,
}

/// The `type` of a token exchange profile. Auth0 knows exactly one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileType {
    /// `custom_authentication`: the Action authenticates the user from the subject token.
    #[default]
    #[serde(rename = "custom_authentication")]
    CustomAuthentication,
}

impl ProfileType {
    /// The wire value, as it appears in a client's
    /// `token_exchange.allow_any_profile_of_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileType::CustomAuthentication => "custom_authentication",
        }
    }
}

/// The Action bound to a profile, chosen among the fake's built-in Actions by `template`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", deny_unknown_fields)]
pub enum ProfileAction {
    /// Auth0's marketplace template "On-behalf-of token exchange for first-party apps"
    /// (`first-party-on-behalf-of-CUSTOM_TOKEN_EXCHANGE`).
    #[serde(rename = "first-party-on-behalf-of")]
    FirstPartyOnBehalfOf {
        /// A display name, as Auth0 Actions have.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The template's secrets.
        secrets: FirstPartyOnBehalfOfSecrets,
    },
}

/// The secrets of Auth0's on-behalf-of template under the template's names, as lists
/// instead of JSON strings. Lower-case names are accepted as aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstPartyOnBehalfOfSecrets {
    /// `SUBJECT_TOKEN_AUDIENCE`: the audience the subject token must carry (the API that
    /// received the user's token, e.g. the MCP server's).
    #[serde(rename = "SUBJECT_TOKEN_AUDIENCE", alias = "subject_token_audience")]
    pub subject_token_audience: String,
    /// `ALLOWED_CLIENT_IDS`: the clients allowed to exchange.
    #[serde(rename = "ALLOWED_CLIENT_IDS", alias = "allowed_client_ids")]
    pub allowed_client_ids: Vec<String>,
    /// `ALLOWED_TARGET_AUDIENCES`: the APIs a token may be exchanged for.
    #[serde(
        rename = "ALLOWED_TARGET_AUDIENCES",
        alias = "allowed_target_audiences"
    )]
    pub allowed_target_audiences: Vec<String>,
    /// `ALLOWED_SCOPES`: every requested scope must be one of these.
    #[serde(rename = "ALLOWED_SCOPES", alias = "allowed_scopes")]
    pub allowed_scopes: Vec<String>,
}

/// Namespaces Auth0 reserves for itself; a profile's `subject_token_type` may not lie in any
/// of them (compared case-insensitively).
pub const RESERVED_SUBJECT_TOKEN_TYPE_PREFIXES: &[&str] = &[
    "http://auth0.com",
    "https://auth0.com",
    "http://okta.com",
    "https://okta.com",
    "urn:ietf",
    "urn:auth0",
    "urn:okta",
];

/// Checks that a `subject_token_type` is a URI the customer may own: `https://…` or `urn:…`
/// and outside the reserved namespaces.
pub fn check_subject_token_type(value: &str) -> Result<(), String> {
    let lower = value.to_ascii_lowercase();
    // A namespace ends at a delimiter: `https://auth0.com/x` and `urn:ietf:x` are inside,
    // `https://auth0.community/` and `urn:ietfx` are not.
    let in_namespace = |prefix: &&&str| {
        lower
            .strip_prefix(**prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', ':', '?', '#']))
    };
    if let Some(prefix) = RESERVED_SUBJECT_TOKEN_TYPE_PREFIXES
        .iter()
        .find(in_namespace)
    {
        return Err(format!(
            "subject_token_type `{value}` is in the reserved namespace `{prefix}`"
        ));
    }
    let has_scheme = lower.starts_with("https://") || lower.starts_with("urn:");
    let has_body = value.len() > "urn:".len() && !value.ends_with("://");
    if !has_scheme || !has_body || value.chars().any(char::is_whitespace) {
        return Err(format!(
            "subject_token_type `{value}` must be a URI starting with `https://` or `urn:`"
        ));
    }
    Ok(())
}

/// Checks every profile of a tenant, as Auth0's Management API does on creation, and also
/// that no two profiles share an id or a `subject_token_type` (the type selects the profile,
/// so a duplicate would be ambiguous). The message names the offending profile.
pub fn validate_profiles(profiles: &[TokenExchangeProfile]) -> Result<(), String> {
    let mut ids = HashSet::new();
    let mut types = HashSet::new();
    for (index, profile) in profiles.iter().enumerate() {
        let at = format!("profile {index} (`{}`)", profile.name);
        if !profile.id.starts_with("tep_") || profile.id.len() == "tep_".len() {
            return Err(format!("{at}: id `{}` must start with `tep_`", profile.id));
        }
        if !ids.insert(profile.id.as_str()) {
            return Err(format!("{at}: id `{}` is used twice", profile.id));
        }
        let name_len = profile.name.chars().count();
        if !(3..=50).contains(&name_len) {
            return Err(format!("{at}: name must be 3 to 50 characters long"));
        }
        check_subject_token_type(&profile.subject_token_type).map_err(|e| format!("{at}: {e}"))?;
        if !types.insert(profile.subject_token_type.as_str()) {
            return Err(format!(
                "{at}: subject_token_type `{}` is used by another profile",
                profile.subject_token_type
            ));
        }
        profile
            .action
            .validate()
            .map_err(|e| format!("{at}: action: {e}"))?;
    }
    Ok(())
}

impl ProfileAction {
    /// Checks the configuration the way the template's `loadConfig` does: every secret is
    /// required and every list is non-empty.
    fn validate(&self) -> Result<(), String> {
        match self {
            ProfileAction::FirstPartyOnBehalfOf {
                secrets: config, ..
            } => {
                if config.subject_token_audience.trim().is_empty() {
                    return Err("subject_token_audience is required".to_owned());
                }
                for (name, list) in [
                    ("allowed_client_ids", &config.allowed_client_ids),
                    ("allowed_target_audiences", &config.allowed_target_audiences),
                    ("allowed_scopes", &config.allowed_scopes),
                ] {
                    if list.is_empty() {
                        return Err(format!("{name} must be a non-empty list"));
                    }
                }
                Ok(())
            }
        }
    }

    /// Replaces an API identifier wherever this configuration names it; used when a test
    /// tenant moves the demo APIs to the addresses it actually listens on.
    pub fn replace_audience(&mut self, from: &str, to: &str) {
        match self {
            ProfileAction::FirstPartyOnBehalfOf {
                secrets: config, ..
            } => {
                if config.subject_token_audience == from {
                    to.clone_into(&mut config.subject_token_audience);
                }
                for audience in &mut config.allowed_target_audiences {
                    if audience == from {
                        to.clone_into(audience);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str, subject_token_type: &str) -> TokenExchangeProfile {
        TokenExchangeProfile {
            id: id.to_owned(),
            name: "MCP on-behalf-of".to_owned(),
            subject_token_type: subject_token_type.to_owned(),
            action_id: None,
            profile_type: ProfileType::CustomAuthentication,
            action: ProfileAction::FirstPartyOnBehalfOf {
                name: None,
                secrets: FirstPartyOnBehalfOfSecrets {
                    subject_token_audience: "http://localhost:3001/".to_owned(),
                    allowed_client_ids: vec!["mcp-server-client".to_owned()],
                    allowed_target_audiences: vec!["http://localhost:8787/".to_owned()],
                    allowed_scopes: vec!["read:private".to_owned()],
                },
            },
        }
    }

    #[test]
    fn customer_owned_types_are_accepted() {
        for value in [
            "urn:fastmcp:mcp",
            "https://example.com/token-type/mcp",
            "URN:acme:legacy",
            "https://auth0.community.example/x",
            "urn:ietfx:thing",
        ] {
            assert_eq!(check_subject_token_type(value), Ok(()), "{value}");
        }
    }

    #[test]
    fn reserved_namespaces_are_refused() {
        for value in [
            "http://auth0.com/x",
            "https://auth0.com/token",
            "HTTPS://AUTH0.COM/token",
            "http://okta.com/x",
            "https://okta.com/x",
            "urn:ietf:params:oauth:token-type:access_token",
            "urn:auth0:whatever",
            "urn:okta:x",
            "https://auth0.com:443/x",
            "urn:auth0",
        ] {
            let err = check_subject_token_type(value).unwrap_err();
            assert!(err.contains("reserved namespace"), "{value}: {err}");
        }
    }

    #[test]
    fn types_that_are_not_https_or_urn_are_refused() {
        for value in [
            "http://example.com/x",
            "mcp",
            "",
            "urn:",
            "https://",
            "urn:acme: spaced",
        ] {
            let err = check_subject_token_type(value).unwrap_err();
            assert!(err.contains("must be a URI"), "{value}: {err}");
        }
    }

    #[test]
    fn a_valid_set_of_profiles_passes() {
        let profiles = [
            profile("tep_mcp", "urn:fastmcp:mcp"),
            profile("tep_other", "https://example.com/legacy"),
        ];
        assert_eq!(validate_profiles(&profiles), Ok(()));
    }

    #[test]
    fn invalid_profiles_are_named_in_the_error() {
        let reserved = profile("tep_bad", "urn:ietf:params:oauth:token-type:jwt");
        let err = validate_profiles(&[reserved]).unwrap_err();
        assert!(err.starts_with("profile 0 (`MCP on-behalf-of`)"), "{err}");

        let duplicate_type = [
            profile("tep_a", "urn:fastmcp:mcp"),
            profile("tep_b", "urn:fastmcp:mcp"),
        ];
        let err = validate_profiles(&duplicate_type).unwrap_err();
        assert!(err.contains("profile 1"), "{err}");
        assert!(err.contains("another profile"), "{err}");

        let bad_id = profile("prof_1", "urn:fastmcp:mcp");
        assert!(validate_profiles(&[bad_id]).unwrap_err().contains("tep_"));

        let mut short_name = profile("tep_a", "urn:fastmcp:mcp");
        "ab".clone_into(&mut short_name.name);
        assert!(
            validate_profiles(&[short_name])
                .unwrap_err()
                .contains("3 to 50")
        );

        let mut no_scopes = profile("tep_a", "urn:fastmcp:mcp");
        let ProfileAction::FirstPartyOnBehalfOf {
            secrets: config, ..
        } = &mut no_scopes.action;
        config.allowed_scopes.clear();
        let err = validate_profiles(&[no_scopes]).unwrap_err();
        assert!(
            err.contains("allowed_scopes must be a non-empty list"),
            "{err}"
        );
    }

    #[test]
    fn the_tenant_file_shape_parses() {
        let yaml = r#"
id: tep_fastmcp
name: MCP server on-behalf-of
subject_token_type: urn:fastmcp:mcp
type: custom_authentication
action:
  template: first-party-on-behalf-of
  secrets:
    SUBJECT_TOKEN_AUDIENCE: http://localhost:3001/
    ALLOWED_CLIENT_IDS: [mcp-server-client]
    ALLOWED_TARGET_AUDIENCES: [http://localhost:8787/]
    ALLOWED_SCOPES: [read:private]
"#;
        let expected = profile("tep_fastmcp", "urn:fastmcp:mcp").renamed("MCP server on-behalf-of");
        let parsed: TokenExchangeProfile = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(parsed, expected);

        let lower_case = r#"
id: tep_fastmcp
name: MCP server on-behalf-of
subject_token_type: urn:fastmcp:mcp
action:
  template: first-party-on-behalf-of
  secrets:
    subject_token_audience: http://localhost:3001/
    allowed_client_ids: [mcp-server-client]
    allowed_target_audiences: ["http://localhost:8787/"]
    allowed_scopes: [read:private]
"#;
        let parsed: TokenExchangeProfile = serde_yaml_ng::from_str(lower_case).unwrap();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn the_embedded_demo_tenant_profile_parses_and_validates() {
        #[derive(Deserialize)]
        struct Partial {
            token_exchange_profiles: Vec<TokenExchangeProfile>,
        }
        let demo: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(include_str!("demo.yaml")).unwrap();
        let mut map = serde_yaml_ng::Mapping::new();
        map.insert(
            "token_exchange_profiles".into(),
            demo["token_exchange_profiles"].clone(),
        );
        let partial: Partial =
            serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(map)).unwrap();
        assert_eq!(validate_profiles(&partial.token_exchange_profiles), Ok(()));
        assert_eq!(
            partial.token_exchange_profiles[0].subject_token_type,
            "urn:fastmcp:mcp"
        );
    }

    #[test]
    fn unknown_fields_and_templates_are_refused() {
        let typo = "id: tep_a\nname: abc\nsubject_token_type: urn:a:b\nsubject_tokn_type: x\naction: {template: first-party-on-behalf-of, secrets: {SUBJECT_TOKEN_AUDIENCE: a, ALLOWED_CLIENT_IDS: [a], ALLOWED_TARGET_AUDIENCES: [a], ALLOWED_SCOPES: [a]}}\n";
        assert!(serde_yaml_ng::from_str::<TokenExchangeProfile>(typo).is_err());
        let template =
            "id: tep_a\nname: abc\nsubject_token_type: urn:a:b\naction: {template: run-my-js}\n";
        assert!(serde_yaml_ng::from_str::<TokenExchangeProfile>(template).is_err());
        let action_typo = "id: tep_a\nname: abc\nsubject_token_type: urn:a:b\naction: {template: first-party-on-behalf-of, secret: {}, secrets: {SUBJECT_TOKEN_AUDIENCE: a, ALLOWED_CLIENT_IDS: [a], ALLOWED_TARGET_AUDIENCES: [a], ALLOWED_SCOPES: [a]}}\n";
        assert!(serde_yaml_ng::from_str::<TokenExchangeProfile>(action_typo).is_err());
        let secret_typo = "id: tep_a\nname: abc\nsubject_token_type: urn:a:b\naction: {template: first-party-on-behalf-of, secrets: {SUBJECT_TOKEN_AUDIENCE: a, ALLOWED_CLIENT_ID: [a], ALLOWED_TARGET_AUDIENCES: [a], ALLOWED_SCOPES: [a]}}\n";
        assert!(serde_yaml_ng::from_str::<TokenExchangeProfile>(secret_typo).is_err());
    }

    impl TokenExchangeProfile {
        fn renamed(mut self, name: &str) -> Self {
            name.clone_into(&mut self.name);
            self
        }
    }
}
