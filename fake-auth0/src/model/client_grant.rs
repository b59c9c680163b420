//! Client grants (`/api/v2/client-grants`): which scopes of which API a client may get,
//! for itself (client_credentials) or, user-delegated, on a user's behalf (Auth0's
//! On-Behalf-Of exchange).

use serde::{Deserialize, Serialize};

/// Which scopes of which API a client may get (`/api/v2/client-grants`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    #[serde(default)]
    pub scope: Vec<String>,
    /// Whose tokens the grant is for: the client's own (the default) or users'.
    #[serde(default, skip_serializing_if = "ClientGrantSubjectType::is_client")]
    pub subject_type: ClientGrantSubjectType,
}

/// Auth0's `subject_type` of a client grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientGrantSubjectType {
    /// Machine-to-machine: tokens for the client itself (client_credentials).
    #[default]
    Client,
    /// User-delegated access: tokens for a user, got by the client on the user's behalf.
    User,
}

impl ClientGrantSubjectType {
    pub fn is_client(&self) -> bool {
        *self == Self::Client
    }
}
