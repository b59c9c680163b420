//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, the
//! registration the MCP authorization spec prefers): the rules for a URL used as a
//! `client_id` and for the JSON document it serves, as pure functions.
//!
//! The fetch, its SSRF guard and the cache are `state::client_metadata`'s; `/authorize`
//! decides when to fetch. Everything here turns a URL and a body into a [`Client`] or a
//! sentence saying what is wrong, which the caller sends as `invalid_client`.

use serde_json::{Map, Value};
use url::Url;

use super::redirect_uri;
use crate::model::{
    AppType, Client, ExternalMetadataType, GrantType, ThirdPartySecurityMode,
    TokenEndpointAuthMethod,
};

/// The largest document accepted (the draft's "SHOULD be ≤ 5 KB", as Auth0, FastMCP and
/// Cloudflare's provider apply it).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// Whether a `client_id` is meant as a metadata document URL rather than an id the tenant
/// issued (the draft: ids an AS issues itself never start with `https://`).
pub(crate) fn is_url_shaped(client_id: &str) -> bool {
    client_id.starts_with("https://")
}

/// A `client_id` that is a valid metadata document URL (draft §3): `https`, a path, no
/// dot segments, no fragment, no userinfo. The draft's "SHOULD NOT have a query" is
/// enforced too: a query makes the same client reachable under many ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientIdUrl {
    /// The `client_id` exactly as sent (the document must repeat it byte for byte).
    text: String,
    url: Url,
}

impl ClientIdUrl {
    pub(crate) fn parse(text: &str) -> Result<ClientIdUrl, String> {
        let url = Url::parse(text).map_err(|_| format!("client_id {text} is not a URL"))?;
        if url.scheme() != "https" {
            return Err("A client_id metadata document URL must use https".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("A client_id URL must not contain credentials".to_owned());
        }
        if url.fragment().is_some() || text.contains('#') {
            return Err("A client_id URL must not have a fragment".to_owned());
        }
        if url.query().is_some() {
            return Err("A client_id URL must not have a query".to_owned());
        }
        if url.port() == Some(0) {
            return Err("A client_id URL must not use port 0".to_owned());
        }
        // `Url` removes dot segments while parsing, so they are looked for in the text,
        // percent-encoded ones included.
        let path_text = text
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|slash| &rest[slash..]))
            .unwrap_or("");
        if path_text.is_empty() || path_text == "/" {
            return Err("A client_id URL must have a path".to_owned());
        }
        let has_dot_segment = path_text.split('/').any(|segment| {
            let decoded = segment.replace("%2e", ".").replace("%2E", ".");
            decoded == "." || decoded == ".."
        });
        if has_dot_segment {
            return Err("A client_id URL must not contain . or .. segments".to_owned());
        }
        Ok(ClientIdUrl {
            text: text.to_owned(),
            url,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The host shown on the consent page.
    pub(crate) fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// Auth0's stricter rules for URLs a tenant admin registers: no loopback host and at
    /// most 120 bytes.
    pub(crate) fn check_auth0_rules(&self) -> Result<(), String> {
        if self.text.len() > 120 {
            return Err("A client_id URL must be at most 120 bytes".to_owned());
        }
        if redirect_uri::is_loopback(&self.url) {
            return Err("A client_id URL must not point to localhost".to_owned());
        }
        Ok(())
    }
}

/// Validates a fetched document for `url` and returns the client it describes: a public,
/// third-party client whose `client_id` is the URL.
pub(crate) fn client_from_document(url: &ClientIdUrl, body: &[u8]) -> Result<Client, String> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "The client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    let document: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(document)) => document,
        Ok(_) => return Err("The client metadata document is not a JSON object".to_owned()),
        Err(error) => {
            return Err(format!(
                "The client metadata document is not valid JSON: {error}"
            ));
        }
    };
    // RFC 3986 §6.2.1 simple string comparison.
    match document.get("client_id") {
        Some(Value::String(id)) if id == url.as_str() => {}
        Some(Value::String(id)) => {
            return Err(format!(
                "The document's client_id {id} is not the URL it was fetched from"
            ));
        }
        _ => return Err("The client metadata document has no client_id".to_owned()),
    }
    let name = match document.get("client_name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => return Err("The client metadata document has no client_name".to_owned()),
    };
    for secret in ["client_secret", "client_secret_expires_at"] {
        if document.contains_key(secret) {
            return Err(format!(
                "A client metadata document must not contain {secret}"
            ));
        }
    }
    match document.get("token_endpoint_auth_method") {
        None => {}
        Some(Value::String(method)) if method == "none" => {}
        Some(Value::String(method))
            if method == "client_secret_basic"
                || method == "client_secret_post"
                || method == "client_secret_jwt" =>
        {
            return Err(format!(
                "token_endpoint_auth_method {method} uses a shared secret, which a metadata document cannot carry"
            ));
        }
        Some(Value::String(method)) => {
            return Err(format!(
                "token_endpoint_auth_method {method} is not supported; use none"
            ));
        }
        Some(_) => return Err("token_endpoint_auth_method must be a string".to_owned()),
    }
    let redirect_uris = string_list(&document, "redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err("The client metadata document has no redirect_uris".to_owned());
    }
    for uri in &redirect_uris {
        redirect_uri::check_registrable(uri)?;
    }
    let mut grant_types = Vec::new();
    for grant in string_list(&document, "grant_types")?
        .unwrap_or_else(|| vec!["authorization_code".to_owned()])
    {
        // Other grants (Claude Desktop lists jwt-bearer) are not granted, not refused.
        if let Some(grant @ (GrantType::AuthorizationCode | GrantType::RefreshToken)) =
            GrantType::parse(&grant)
            && !grant_types.contains(&grant)
        {
            grant_types.push(grant);
        }
    }
    if !grant_types.contains(&GrantType::AuthorizationCode) {
        return Err("grant_types must include authorization_code".to_owned());
    }
    Ok(Client {
        client_id: url.as_str().to_owned(),
        client_secret: None,
        name,
        app_type: AppType::Native,
        resource_server_identifier: None,
        is_first_party: false,
        grant_types,
        callbacks: redirect_uris,
        allowed_logout_urls: Vec::new(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        token_exchange: None,
        external_client_id: Some(url.as_str().to_owned()),
        external_metadata_type: Some(ExternalMetadataType::Cimd),
        third_party_security_mode: Some(ThirdPartySecurityMode::Strict),
    })
}

/// The members fake-auth0 reads or knowingly accepts; others are warned about, as Auth0
/// warns about unsupported properties.
const KNOWN_MEMBERS: &[&str] = &[
    "client_id",
    "client_name",
    "client_uri",
    "logo_uri",
    "description",
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "application_type",
    "scope",
    "contacts",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
];

/// What Auth0's manual registration adds to the draft's rules, for a document that passed
/// them: `grant_types` required, unique `redirect_uris`, a `description` of at most 140
/// characters, no inline `jwks`. Returns the violations and the warnings (unsupported
/// members).
pub(crate) fn auth0_document_review(body: &[u8]) -> (Vec<String>, Vec<String>) {
    let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(body) else {
        return (
            vec!["The document is not a JSON object".to_owned()],
            Vec::new(),
        );
    };
    let mut violations = Vec::new();
    if !document.contains_key("grant_types") {
        violations.push("grant_types is required".to_owned());
    }
    if let Ok(Some(uris)) = string_list(&document, "redirect_uris") {
        let mut seen = std::collections::HashSet::new();
        if let Some(duplicate) = uris.iter().find(|uri| !seen.insert(uri.as_str())) {
            violations.push(format!("redirect_uris lists {duplicate} twice"));
        }
    }
    if let Some(Value::String(description)) = document.get("description")
        && description.chars().count() > 140
    {
        violations.push("description must be at most 140 characters".to_owned());
    }
    if document.contains_key("jwks") {
        violations.push("Inline jwks are not accepted; publish them at jwks_uri".to_owned());
    }
    let warnings = document
        .keys()
        .filter(|member| !KNOWN_MEMBERS.contains(&member.as_str()))
        .map(|member| format!("Unsupported property {member} is ignored"))
        .collect();
    (violations, warnings)
}

/// A member that must be a list of strings when present.
fn string_list(document: &Map<String, Value>, member: &str) -> Result<Option<Vec<String>>, String> {
    match document.get(member) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{member} must be a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("{member} must be a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAUDE_CODE: &str = "https://claude.ai/oauth/claude-code-client-metadata";

    #[test]
    fn client_id_urls_follow_the_draft() {
        assert!(ClientIdUrl::parse(CLAUDE_CODE).is_ok());
        assert!(ClientIdUrl::parse("https://example.com:8443/client.json").is_ok());
        for bad in [
            "http://example.com/client.json",
            "https://example.com",
            "https://example.com/",
            "https://example.com/a/../client.json",
            "https://example.com/a/%2E%2E/client.json",
            "https://example.com/./client.json",
            "https://example.com/client.json#x",
            "https://user:pw@example.com/client.json",
            "https://example.com/client.json?v=1",
            "https://example.com:0/client.json",
        ] {
            assert!(ClientIdUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auth0_refuses_loopback_and_long_urls() {
        let local = ClientIdUrl::parse("https://localhost:8443/client.json").unwrap();
        assert!(local.check_auth0_rules().is_err());
        let long = format!("https://example.com/{}", "a".repeat(110));
        assert!(
            ClientIdUrl::parse(&long)
                .unwrap()
                .check_auth0_rules()
                .is_err()
        );
        assert!(
            ClientIdUrl::parse(CLAUDE_CODE)
                .unwrap()
                .check_auth0_rules()
                .is_ok()
        );
    }

    #[test]
    fn claude_codes_document_gives_a_public_third_party_client() {
        // Claude Code's published shape: loopback redirects without a port, no
        // application_type.
        let url = ClientIdUrl::parse(CLAUDE_CODE).unwrap();
        let body = serde_json::json!({
            "client_id": CLAUDE_CODE,
            "client_name": "Claude Code",
            "client_uri": "https://claude.ai",
            "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        });
        let client = client_from_document(&url, body.to_string().as_bytes()).unwrap();
        assert_eq!(client.client_id, CLAUDE_CODE);
        assert!(!client.is_first_party);
        assert!(!client.is_confidential());
        assert!(client.allows_grant(GrantType::RefreshToken));
        assert!(redirect_uri::matches_callback(
            &client.callbacks,
            "http://localhost:53682/callback"
        ));
    }

    #[test]
    fn documents_breaking_a_rule_are_refused_with_the_reason() {
        let url = ClientIdUrl::parse("https://example.com/client.json").unwrap();
        let good = serde_json::json!({
            "client_id": "https://example.com/client.json",
            "client_name": "Example",
            "redirect_uris": ["https://example.com/callback"],
        });
        assert!(client_from_document(&url, good.to_string().as_bytes()).is_ok());
        let with = |member: &str, value: Value| {
            let mut document = good.clone();
            document[member] = value;
            client_from_document(&url, document.to_string().as_bytes()).unwrap_err()
        };
        assert!(with("client_id", "https://example.com/other.json".into()).contains("client_id"));
        assert!(
            with("token_endpoint_auth_method", "client_secret_post".into())
                .contains("shared secret")
        );
        assert!(with("client_secret", "s3cret".into()).contains("client_secret"));
        assert!(with("redirect_uris", serde_json::json!([])).contains("redirect_uris"));
        assert!(
            with(
                "redirect_uris",
                serde_json::json!(["http://evil.example/cb"])
            )
            .contains("https")
        );
        assert!(with("client_name", Value::Null).contains("client_name"));
        assert!(
            client_from_document(&url, b"[]")
                .unwrap_err()
                .contains("JSON object")
        );
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(
            client_from_document(&url, &big)
                .unwrap_err()
                .contains("larger")
        );
    }

    #[test]
    fn auth0_requires_grant_types_and_warns_about_unknown_members() {
        let document = serde_json::json!({
            "client_id": "https://example.com/client.json",
            "client_name": "Example",
            "redirect_uris": ["https://example.com/cb", "https://example.com/cb"],
            "description": "d".repeat(141),
            "software_statement": "x",
        });
        let (violations, warnings) = auth0_document_review(document.to_string().as_bytes());
        assert_eq!(violations.len(), 3, "{violations:?}");
        assert_eq!(
            warnings,
            ["Unsupported property software_statement is ignored"]
        );
    }
}
