//! Actions (`/api/v2/actions/actions`): the tenant's configured copies of fake-auth0's
//! built-in Action templates, with their secrets. A token-exchange profile created through
//! the Management API binds one by `action_id`; its secrets become the profile's
//! [`ProfileAction`].

use serde::{Deserialize, Serialize};

use super::token_exchange_profile::{FirstPartyOnBehalfOfSecrets, ProfileAction};

/// An Action as the Management API holds it (`/api/v2/actions/actions`): one of
/// fake-auth0's built-in templates, named and configured with secrets as in Auth0 (values are strings; the list secrets of the
/// on-behalf-of template hold JSON arrays). A tenant file may write list values as lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDefinition {
    /// `act_…`.
    pub id: String,
    pub name: String,
    /// The built-in template the Action runs.
    pub template: ActionTemplate,
    #[serde(default)]
    pub secrets: Vec<ActionSecret>,
}

/// The built-in Action templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionTemplate {
    /// Auth0's marketplace template "On-behalf-of token exchange for first-party apps".
    #[serde(rename = "first-party-on-behalf-of")]
    FirstPartyOnBehalfOf,
}

/// One secret of an Action; `Debug` never shows the value.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSecret {
    pub name: String,
    pub value: SecretValue,
}

impl std::fmt::Debug for ActionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSecret")
            .field("name", &self.name)
            .field("value", &"[redacted]")
            .finish()
    }
}

/// A secret's value: a string as Auth0 stores it, or a list in a tenant file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretValue {
    Text(String),
    List(Vec<String>),
}

impl ActionDefinition {
    /// The template's configuration from the secrets, checked the way the template's
    /// `loadConfig` reads them: `SUBJECT_TOKEN_AUDIENCE` a string, the other three JSON
    /// arrays of strings; all required and non-empty. The error names what is missing.
    pub fn profile_action(&self) -> Result<ProfileAction, String> {
        let secret = |name: &str| {
            self.secrets
                .iter()
                .rev()
                .find(|s| s.name == name)
                .map(|s| &s.value)
                .ok_or_else(|| format!("action `{}` has no secret {name}", self.id))
        };
        let list = |name: &str| -> Result<Vec<String>, String> {
            let list = match secret(name)? {
                SecretValue::List(list) => list.clone(),
                SecretValue::Text(text) => serde_json::from_str(text).map_err(|_| {
                    format!(
                        "action `{}`: secret {name} must be a JSON array of strings",
                        self.id
                    )
                })?,
            };
            if list.is_empty() {
                return Err(format!(
                    "action `{}`: secret {name} must not be empty",
                    self.id
                ));
            }
            Ok(list)
        };
        let audience = match secret("SUBJECT_TOKEN_AUDIENCE")? {
            SecretValue::Text(text) if !text.trim().is_empty() => text.clone(),
            _ => {
                return Err(format!(
                    "action `{}`: secret SUBJECT_TOKEN_AUDIENCE must be a non-empty string",
                    self.id
                ));
            }
        };
        match self.template {
            ActionTemplate::FirstPartyOnBehalfOf => Ok(ProfileAction::FirstPartyOnBehalfOf {
                name: Some(self.name.clone()),
                secrets: FirstPartyOnBehalfOfSecrets {
                    subject_token_audience: audience,
                    allowed_client_ids: list("ALLOWED_CLIENT_IDS")?,
                    allowed_target_audiences: list("ALLOWED_TARGET_AUDIENCES")?,
                    allowed_scopes: list("ALLOWED_SCOPES")?,
                },
            }),
        }
    }
}
