//! The HTTP client for the calls that carry a token: the token exchange (the caller's
//! token as `subject_token`) and the upstream API (the exchanged token).
//!
//! Both need the same guarantees, so they are built in one place: bounded connect and
//! total timeouts, the tenant's extra CA certificates, and no redirects, because a redirect
//! could carry a token to another host.

use std::time::Duration;

/// A client with these timeouts and extra root certificates that never follows redirects.
pub(crate) fn token_carrying_client(
    connect_timeout: Duration,
    timeout: Duration,
    root_certificates: &[reqwest::Certificate],
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcp-server/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(root_certificates.iter().cloned())
        .build()
}
