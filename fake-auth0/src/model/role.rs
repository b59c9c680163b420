//! Roles and their permissions (`/api/v2/roles`, `/roles/{id}/permissions`): what RBAC
//! grants a user on an API.

use serde::{Deserialize, Serialize};

/// A role with its permissions (`/api/v2/roles`, `/roles/{id}/permissions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// One permission: a scope of one API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub resource_server_identifier: String,
    pub permission_name: String,
}
