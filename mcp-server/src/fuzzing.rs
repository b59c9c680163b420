//! The parsers of this crate that read what clients and the IdP send, reachable from the
//! fuzz targets in `fuzz/` (feature `fuzzing`, never enabled by the server).
//!
//! A thin shim over private functions: whoever changes the gate's JSON-RPC peek keeps these
//! signatures compiling (`cargo check -p mcp-server --features fuzzing`), and the fuzz
//! targets go on exercising the new code.

use bearer_auth::VerifiedToken;

use crate::exchange::{ExchangeError, ExchangedToken};

/// The gate's step-up decision for a `/mcp` POST body: the permission of the tool that
/// needs a step-up and the request's JSON-RPC `id`, or `None` when the body goes on to rmcp.
pub fn step_up_needed(
    body: &[u8],
    token: &VerifiedToken,
) -> Option<(&'static str, Option<serde_json::Value>)> {
    crate::auth::step_up_needed(body, token).map(|(refusal, id)| (refusal.scope(), id))
}

/// The JSON-RPC `id` the gate answers a refused request with.
pub fn request_id(body: &[u8]) -> Option<serde_json::Value> {
    crate::auth::request_id(body)
}

/// The `protocolVersion` of an `initialize` body, as the gate reads it to pick the SSE
/// framing.
pub fn initialize_version(body: &[u8]) -> Option<String> {
    crate::era::initialize_version(body)
}

/// The token exchange's checks of the IdP's token endpoint answer.
pub fn token_response(
    status: u16,
    is_json: bool,
    body: &[u8],
) -> Result<ExchangedToken, ExchangeError> {
    crate::exchange::process_token_response(status, is_json, body)
}
