//! The parsers of this crate that read what the network sends, reachable from the fuzz
//! targets in `fuzz/` (feature `fuzzing`, never enabled by the services).
//!
//! The fuzz crate lives outside the workspace and sees only public items; this shim gives it
//! the private parsers (the JWKS, the issuer metadata document) and a verifier with a fixed
//! key set that never touches the network, without making any of them part of the API.

use crate::discovery::{DiscoveryError, IssuerMetadata};
use crate::{Issuer, TokenError, VerifiedToken, Verifier, VerifierConfig, jwks};

/// How many usable signing keys a JWKS document (RFC 7517 §5) yields, or why none.
pub fn key_set(body: &[u8]) -> Result<usize, String> {
    jwks::parse_key_set("fuzz://jwks", body)
        .map(|set| set.keys.len())
        .map_err(|error| error.to_string())
}

/// The checks an issuer's metadata document gets after download (a JSON object, `issuer`
/// equal to ours, `jwks_uri` and `token_endpoint` typed).
pub fn issuer_metadata(issuer: &Issuer, body: &[u8]) -> Result<IssuerMetadata, DiscoveryError> {
    IssuerMetadata::parse(issuer, "fuzz://metadata", body.to_vec())
}

/// A [`Verifier`] whose keys come from a JWKS given once, with its own single-threaded
/// runtime: each [`OfflineVerifier::verify`] runs every rule of [`Verifier::verify`]
/// without a network call (an unknown `kid` is refused as when the IdP is unreachable).
pub struct OfflineVerifier {
    verifier: Verifier,
    runtime: tokio::runtime::Runtime,
}

impl OfflineVerifier {
    /// A verifier for `config` with the keys of `jwks` (a JWKS document).
    ///
    /// # Panics
    /// If `jwks` has no usable key or the runtime cannot be built: the fuzz target's
    /// set-up is wrong, not its input.
    pub fn new(config: VerifierConfig, jwks: &[u8]) -> OfflineVerifier {
        let keys = jwks::parse_key_set("fuzz://jwks", jwks).expect("the fuzz JWKS has a key");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        OfflineVerifier {
            verifier: Verifier::offline(config, keys),
            runtime,
        }
    }

    /// [`Verifier::verify`], run to completion.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.runtime.block_on(self.verifier.verify(token))
    }
}
