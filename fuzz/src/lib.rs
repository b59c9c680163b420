//! What several fuzz targets share: one signing key and a verifier that trusts only it,
//! built once per process, and the way a target splits its input into parts.

use std::sync::OnceLock;

use bearer_auth::fuzzing::OfflineVerifier;
use bearer_auth::testkit::SigningKey;
use bearer_auth::{Issuer, VerifierConfig};

/// The issuer every fuzzed token is checked against (`iss` in the seeds).
pub const ISSUER_DOMAIN: &str = "fuzz.example";
/// The audience every fuzzed token is checked against (`aud` in the seeds).
pub const AUDIENCE: &str = "http://localhost:3001/";
/// The `kid` of the one signing key (`kid` in the seeds).
pub const KID: &str = "fuzz-key";

/// The key that signs fuzzed tokens and a verifier whose JWKS holds exactly its public half.
pub struct Keys {
    pub signing: SigningKey,
    pub verifier: OfflineVerifier,
}

/// The process's [`Keys`], made on first use (an RSA key generation).
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let signing = SigningKey::generate(KID);
        let jwks = serde_json::json!({ "keys": [signing.jwk()] }).to_string();
        let issuer = Issuer::from_auth0_domain(ISSUER_DOMAIN).expect("a valid domain");
        let verifier = OfflineVerifier::new(VerifierConfig::new(issuer, AUDIENCE), jwks.as_bytes());
        Keys { signing, verifier }
    })
}

/// `data` split at its first newline: (before, after). Without one, all of it is `before`.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}
