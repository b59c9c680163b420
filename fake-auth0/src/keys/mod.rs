//! The tenant's signing keys: each RS256 key with its JWK and RFC 7638 `kid`
//! ([`SigningKey`]), and the set of current, next and previous keys that rotation moves
//! along ([`KeySet`]).
//!
//! Public: the benchmarks sign with a [`SigningKey`] directly, and tests compute a key's
//! `kid` with [`rsa_thumbprint`].

mod key_set;
mod signing_key;

pub use key_set::{KeyEntry, KeyRole, KeySet};
pub use signing_key::{Jwk, JwkSet, SigningKey, rsa_thumbprint};
