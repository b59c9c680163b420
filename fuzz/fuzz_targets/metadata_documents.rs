//! The documents the services read from the IdP, each given the same input: the issuer's
//! metadata (OIDC Discovery / RFC 8414, read by bearer-auth and the MCP server), its JWKS
//! (bearer-auth), and the token endpoint's answer to the MCP server's exchange (as a
//! success and as an error).
#![no_main]

use bearer_auth::Issuer;
use libfuzzer_sys::fuzz_target;
use mcp_auth0_fuzz::ISSUER_DOMAIN;

fuzz_target!(|body: &[u8]| {
    let issuer = Issuer::from_auth0_domain(ISSUER_DOMAIN).expect("a valid domain");
    if let Ok(metadata) = bearer_auth::fuzzing::issuer_metadata(&issuer, body) {
        assert_eq!(
            metadata.issuer(),
            &issuer,
            "a document for another issuer was trusted"
        );
        let _ = (metadata.jwks_uri(), metadata.token_endpoint());
    }
    let _ = bearer_auth::fuzzing::key_set(body);
    if let Ok(token) = mcp_server::fuzzing::token_response(200, true, body) {
        assert_eq!(token.token_type, "bearer");
    }
    let _ = mcp_server::fuzzing::token_response(400, true, body);
});
