//! The parsers of fake-auth0 that read what clients send, reachable from the fuzz targets
//! in `fuzz/` (feature `fuzzing`, never enabled by the binary).
//!
//! The tenant file loader is public already ([`crate::Tenant::from_yaml_str`]); this shim
//! adds the token endpoint's body parsing and the Client ID Metadata Document rules, which
//! stay `pub(crate)` for everyone else. It sits in the top layer, so it may reach them all.

use axum::body::Bytes;
use http::{HeaderMap, HeaderValue, header};

/// The parameters `/oauth/token` (and `/oauth/revoke`) read from a body sent with
/// `content_type`, sorted by name, or the OAuth error's description.
pub fn token_request(content_type: &[u8], body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let params = crate::http::parse_body(&headers, Ok(Bytes::copy_from_slice(body)))
        .map_err(|error| error.description)?;
    // What the grants read of every request, so the fuzzer reaches it too.
    let _ = params.scopes();
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    pairs.sort();
    Ok(pairs)
}

/// The Client ID Metadata Document rules: `client_id` as a document URL, then `document`
/// as what that URL served, then Auth0's stricter review of it. Returns the accepted
/// client's id, or the first refusal.
pub fn client_id_metadata_document(client_id: &str, document: &[u8]) -> Result<String, String> {
    use crate::oauth::client_metadata::{
        ClientIdUrl, auth0_document_review, client_from_document, is_url_shaped,
    };
    if !is_url_shaped(client_id) {
        return Err("not a metadata document URL".to_owned());
    }
    let url = ClientIdUrl::parse(client_id)?;
    url.check_auth0_rules()?;
    let client = client_from_document(&url, document)?;
    let _ = auth0_document_review(document);
    Ok(client.client_id)
}
