//! How the exchanger reaches the IdP, what it asks for, and how long it keeps the answers.

use std::time::Duration;

use bearer_auth::Issuer;
use secrecy::SecretString;

use super::grant::ExchangeGrant;
use crate::shared_state::SharedState;

/// How to reach the IdP, what to ask it for, and the cache's bounds.
#[derive(Clone, Debug)]
pub struct ExchangeConfig {
    /// The issuer (AUTH0_DOMAIN); its discovery document names the token endpoint.
    pub issuer: Issuer,
    /// MCP_AUTH0_CLIENT_ID.
    pub client_id: String,
    /// MCP_AUTH0_CLIENT_SECRET, sent in the body (`client_secret_post`, RFC 6749 §2.3.1).
    pub client_secret: SecretString,
    /// What is asked for: mode, audience and scope.
    pub grant: ExchangeGrant,
    /// Time allowed to open a connection to the IdP.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request to the IdP, body included.
    pub timeout: Duration,
    /// The most exchanged tokens kept.
    pub cache_capacity: u64,
    /// How long before either token's expiry a cached token stops being used, so that it
    /// is still valid when the upstream API checks it.
    pub safety_margin: Duration,
    /// Root certificates trusted besides the system's (`--ca-file`).
    pub root_certificates: Vec<reqwest::Certificate>,
    /// The shared cache tier (Redis, `MCP_REDIS_URL`) behind the local cache; `None` for
    /// the local cache alone.
    pub shared_state: Option<SharedState>,
}

impl ExchangeConfig {
    /// A configuration with the default timeouts (2 s connect, 5 s total), a 10,000-entry
    /// cache, a 30 s safety margin and no shared tier.
    pub fn new(
        issuer: Issuer,
        client_id: impl Into<String>,
        client_secret: SecretString,
        grant: ExchangeGrant,
    ) -> Self {
        Self {
            issuer,
            client_id: client_id.into(),
            client_secret,
            grant,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            cache_capacity: 10_000,
            safety_margin: Duration::from_secs(30),
            root_certificates: Vec::new(),
            shared_state: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_client_secret() {
        let config = ExchangeConfig::new(
            Issuer::from_auth0_domain("http://localhost:4000").unwrap(),
            "client",
            SecretString::from("client-secret-value"),
            ExchangeGrant::custom_token_exchange("urn:fastmcp:mcp", "http://localhost:8787/", None),
        );
        assert!(!format!("{config:?}").contains("client-secret-value"));
    }
}
