//! JWT header and claims decoding past the signature: the input's first line is the JOSE
//! header, the rest the claims, both as raw bytes (usually JSON). The target signs them with
//! the verifier's own key, so every header and claim rule runs on whatever the fuzzer makes.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_auth0_fuzz::{AUDIENCE, keys, split_line};

fuzz_target!(|data: &[u8]| {
    let (header, claims) = split_line(data);
    let keys = keys();
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let token = keys.signing.sign_message(&message);
    if let Ok(verified) = keys.verifier.verify(&token) {
        // What the verifier promises of an accepted token.
        let claims: serde_json::Value =
            serde_json::from_slice(claims).expect("accepted claims are JSON");
        let audience_listed = match &claims["aud"] {
            serde_json::Value::String(aud) => aud == AUDIENCE,
            serde_json::Value::Array(auds) => auds.iter().any(|aud| aud == AUDIENCE),
            _ => false,
        };
        assert!(
            audience_listed,
            "accepted a token for another audience: {claims}"
        );
        assert_eq!(claims["sub"].as_str(), Some(verified.subject.as_str()));
        // Accepted once, the same token is accepted again (the verified-token cache).
        assert!(keys.verifier.verify(&token).is_ok());
    }
});
