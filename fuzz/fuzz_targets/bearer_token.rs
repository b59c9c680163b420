//! The bearer header and raw JWT decoding: the input's first line is the `Authorization`
//! header's value, the rest the request's query string. What `bearer_token` accepts goes
//! through every rule of the verifier (size, JWS shape, header checks, key lookup,
//! signature), whose keys are fixed, so no input reaches the network.
#![no_main]

use bearer_auth::bearer_token;
use http::{HeaderMap, HeaderValue, Uri, header};
use libfuzzer_sys::fuzz_target;
use mcp_auth0_fuzz::{keys, split_line};

fuzz_target!(|data: &[u8]| {
    let (authorization, query) = split_line(data);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(authorization) {
        headers.insert(header::AUTHORIZATION, value);
    }
    let uri = std::str::from_utf8(query)
        .ok()
        .and_then(|query| format!("/mcp?{query}").parse::<Uri>().ok())
        .unwrap_or_else(|| Uri::from_static("/mcp"));
    match bearer_token(&headers, &uri) {
        Ok(token) => {
            // Nobody but the fixed key signs, and the fuzzer cannot forge RS256.
            assert!(
                keys().verifier.verify(token).is_err(),
                "a forged token verified"
            );
        }
        Err(challenge) => {
            // Whatever was sent, the challenge is a valid header value.
            let _ = challenge.www_authenticate();
        }
    }
});
