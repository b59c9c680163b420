//! Where each service listens by default, and the identifiers (issuer, API audiences) that
//! name it in tokens.
//!
//! Identifiers are names, not addresses: a service may listen elsewhere and keep them (the
//! process journeys do). Auth0 writes issuers and API identifiers with a trailing slash, and
//! tokens compare them byte for byte, so every URL here ends in `/`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// fake-auth0's default port.
pub const IDP_PORT: u16 = 4000;
/// upstream-api's default port.
pub const UPSTREAM_PORT: u16 = 8787;
/// mcp-server's default port (`PORT`).
pub const MCP_PORT: u16 = 3001;

/// fake-auth0's default issuer, as Auth0 writes `iss` (RFC 8414 §2: the issuer identifier).
pub const ISSUER: &str = "http://localhost:4000/";
/// The resource servers' default `AUTH0_DOMAIN`: the issuer without its trailing slash, as the
/// quickstart's `.env` writes it (a bare host such as `tenant.us.auth0.com` means
/// `https://tenant.us.auth0.com/`).
pub const AUTH0_DOMAIN: &str = "http://localhost:4000";
/// The MCP server's API identifier (`AUTH0_AUDIENCE`): the audience of the tokens it accepts,
/// and its public base URL (`MCP_SERVER_URL`).
pub const MCP_AUDIENCE: &str = "http://localhost:3001/";
/// The MCP endpoint under [`MCP_AUDIENCE`].
pub const MCP_ENDPOINT: &str = "http://localhost:3001/mcp";
/// The upstream API's identifier (`API_AUTH0_AUDIENCE`), also its base URL (`API_BASE_URL`).
pub const UPSTREAM_AUDIENCE: &str = "http://localhost:8787/";
/// The Management API's identifier in the demo tenant (`<issuer>api/v2/`).
pub const MANAGEMENT_AUDIENCE: &str = "http://localhost:4000/api/v2/";

/// The address a service listens on by default: loopback only (containers pass `0.0.0.0`).
pub const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

/// fake-auth0's default listen address.
pub const IDP_LISTEN: SocketAddr = loopback(IDP_PORT);
/// upstream-api's default listen address.
pub const UPSTREAM_LISTEN: SocketAddr = loopback(UPSTREAM_PORT);
/// mcp-server's default listen address.
pub const MCP_LISTEN: SocketAddr = loopback(MCP_PORT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_is_built_on_its_port() {
        assert_eq!(ISSUER, format!("http://localhost:{IDP_PORT}/"));
        assert_eq!(format!("{AUTH0_DOMAIN}/"), ISSUER);
        assert_eq!(MCP_AUDIENCE, format!("http://localhost:{MCP_PORT}/"));
        assert_eq!(MCP_ENDPOINT, format!("{MCP_AUDIENCE}mcp"));
        assert_eq!(
            UPSTREAM_AUDIENCE,
            format!("http://localhost:{UPSTREAM_PORT}/")
        );
        assert_eq!(MANAGEMENT_AUDIENCE, format!("{ISSUER}api/v2/"));
        assert_eq!(IDP_LISTEN.to_string(), "127.0.0.1:4000");
    }
}
