//! Which protocol revision a request speaks, as far as the HTTP layer in front of rmcp must
//! know it: whether its event streams may carry SSE priming events, and whether it has
//! sessions at all.
//!
//! - **Priming events** (SEP-1699: an event with an `id`, a `retry` and empty `data`) exist
//!   from 2025-11-25 on. Older clients parse the empty `data` as a JSON-RPC message and
//!   fail (the Python SDK 1.x logs a traceback on every response), so the official TS,
//!   Python and Go SDKs send them only to clients of 2025-11-25 or later. rmcp 3.11 has one
//!   switch for all (`sse_retry`), so the router runs two rmcp services, one with priming
//!   and one without, and the gate picks one per request ([`SseFraming`]).
//! - **Sessions** do not exist from 2026-07-28 on (SEP-2567): there an `Mcp-Session-Id`
//!   header is ignored, as it is when the server runs stateless.
//!
//! A request's version is its `MCP-Protocol-Version` header; without one, an `initialize`
//! names the version it asks for in `params.protocolVersion`, and anything else is
//! 2025-03-26 (what the 2025-06-18 transport tells servers to assume). A version this
//! server does not know counts as old: nothing is sent that an old client could trip on.

use axum::http::HeaderMap;
use rmcp::model::ProtocolVersion;
use serde::Deserialize;

/// The protocol version header of the Streamable HTTP transport (2025-06-18 on).
const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// How the SSE streams of a request (or of the session it opens) are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SseFraming {
    /// With SEP-1699 priming events and `retry` (2025-11-25 and later).
    Primed,
    /// Without them (2025-06-18, 2025-03-26, and versions this server does not know).
    Plain,
}

/// The version a request states: its header, else the one its `initialize` asks for.
pub(crate) fn request_version(headers: &HeaderMap, body: Option<&[u8]>) -> Option<String> {
    if let Some(version) = headers
        .get(MCP_PROTOCOL_VERSION)
        .and_then(|v| v.to_str().ok())
    {
        return Some(version.to_owned());
    }
    body.and_then(initialize_version)
}

/// True when `version` is a revision this server knows and it is `min` or later.
fn known_at_least(version: Option<&str>, min: &ProtocolVersion) -> bool {
    version.is_some_and(|version| {
        ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .any(|known| known.as_str() == version && known >= min)
    })
}

impl SseFraming {
    /// The framing for a request of `version` (`None`: 2025-03-26).
    pub(crate) fn for_version(version: Option<&str>) -> SseFraming {
        if known_at_least(version, &ProtocolVersion::V_2025_11_25) {
            SseFraming::Primed
        } else {
            SseFraming::Plain
        }
    }
}

/// True when a request of `version` has no sessions (2026-07-28 and later).
pub(crate) fn is_sessionless(version: Option<&str>) -> bool {
    known_at_least(version, &ProtocolVersion::V_2026_07_28)
}

#[derive(Deserialize)]
struct Initialize {
    method: String,
    params: InitializeParams,
}

#[derive(Deserialize)]
struct InitializeParams {
    #[serde(rename = "protocolVersion")]
    protocol_version: String,
}

/// The `protocolVersion` an `initialize` request asks for.
pub(crate) fn initialize_version(body: &[u8]) -> Option<String> {
    let request: Initialize = serde_json::from_slice(body).ok()?;
    (request.method == "initialize").then_some(request.params.protocol_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priming_starts_with_2025_11_25_and_unknown_versions_count_as_old() {
        for (version, framing) in [
            (None, SseFraming::Plain),
            (Some("2025-03-26"), SseFraming::Plain),
            (Some("2025-06-18"), SseFraming::Plain),
            (Some("2025-11-25"), SseFraming::Primed),
            (Some("2026-07-28"), SseFraming::Primed),
            (Some("draft"), SseFraming::Plain),
            (Some("2099-01-01"), SseFraming::Plain),
        ] {
            assert_eq!(SseFraming::for_version(version), framing, "{version:?}");
        }
        assert!(is_sessionless(Some("2026-07-28")));
        assert!(!is_sessionless(Some("2025-11-25")));
        assert!(!is_sessionless(None));
    }

    #[test]
    fn the_header_wins_and_initialize_names_its_version() {
        let init = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}"#;
        assert_eq!(
            request_version(&HeaderMap::new(), Some(init)).as_deref(),
            Some("2025-06-18")
        );
        let mut headers = HeaderMap::new();
        headers.insert(MCP_PROTOCOL_VERSION, "2025-11-25".parse().unwrap());
        assert_eq!(
            request_version(&headers, Some(init)).as_deref(),
            Some("2025-11-25")
        );
        let list = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
        assert_eq!(request_version(&HeaderMap::new(), Some(list)), None);
    }
}
