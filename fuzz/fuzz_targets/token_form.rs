//! fake-auth0's `/oauth/token` body: the input's first line is the `Content-Type`, the rest
//! the body (a form, or JSON as Auth0 accepts), parsed by the rules RFC 6749 sets for every
//! endpoint (no repeated parameters, empty values count as absent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth0_fuzz::split_line;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = split_line(data);
    if let Ok(params) = fake_auth0::fuzzing::token_request(content_type, body) {
        for pair in params.windows(2) {
            assert_ne!(pair[0].0, pair[1].0, "a repeated parameter was accepted");
        }
        assert!(
            params.iter().all(|(_, value)| !value.is_empty()),
            "an empty value was kept"
        );
    }
});
