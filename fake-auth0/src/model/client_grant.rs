//! Client grants (`/api/v2/client-grants`): which scopes of which API a machine client may
//! get with client_credentials.

use serde::{Deserialize, Serialize};

/// Which scopes of which API a client may get with client_credentials (`/api/v2/client-grants`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    #[serde(default)]
    pub scope: Vec<String>,
}
