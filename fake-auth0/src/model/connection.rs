//! The database connection (`/api/v2/connections`) the tenant's users log in through.

use serde::{Deserialize, Serialize};

/// The database connection users log in through.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub name: String,
    /// Whether third-party applications may use the connection (Auth0's "domain level"
    /// connection). Recorded for the Management API; fake-auth0 lets every client log in.
    #[serde(default)]
    pub is_domain_connection: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            name: "Username-Password-Authentication".to_owned(),
            is_domain_connection: false,
        }
    }
}
