//! The HTTP client for the calls that carry a token: the token exchange (the caller's
//! token as `subject_token`) and the upstream API (the exchanged token).
//!
//! Both need the same guarantees, so they are built in one place: bounded connect and
//! total timeouts, the tenant's extra CA certificates, and no redirects, because a redirect
//! could carry a token to another host. Their answers are read the same way too: at most a
//! fixed number of bytes, so a misbehaving peer cannot exhaust memory.

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
        .pool_idle_timeout(service_kit::OUTBOUND_POOL_IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcp-server/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(root_certificates.iter().cloned())
        .build()
}

/// Why a body could not be read.
pub(crate) enum ReadError {
    /// The connection failed or timed out while reading.
    Transport(reqwest::Error),
    /// The body is longer than the cap.
    TooLarge,
}

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// True when the answer says `Content-Type: application/json` (parameters ignored).
pub(crate) fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}
