//! One RS256 signing key: its private half (parsed once), its public JWK and its RFC 7638
//! `kid`.
//!
//! Only fake-auth0 holds private keys: they live in memory, and with `--data-dir` as
//! PKCS#8 in the data dir's database (nowhere else). Each key signs directly with aws-lc-rs:
//! signing through `jsonwebtoken::encode` would re-parse the PKCS#8 key on every call,
//! which costs 2.5x.

use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// An RS256 signing key with its public JWK and RFC 7638 `kid`.
pub struct SigningKey {
    key_pair: KeyPair,
    kid: String,
    jwk: Jwk,
    decoding_key: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A public RSA JWK (RFC 7517 §4, RFC 7518 §6.3.1).
#[derive(Debug, Clone, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// A JWK set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key (50-100 ms: keep it off the request path).
    pub fn generate() -> anyhow::Result<SigningKey> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        Ok(Self::from_key_pair(key_pair))
    }

    /// Parses a private key stored as PKCS#8 DER (RFC 5208) by [`Self::private_pkcs8_der`].
    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<SigningKey> {
        let key_pair = KeyPair::from_pkcs8(der)
            .map_err(|error| anyhow::anyhow!("not an RSA PKCS#8 private key: {error}"))?;
        Ok(Self::from_key_pair(key_pair))
    }

    fn from_key_pair(key_pair: KeyPair) -> SigningKey {
        let components: PublicKeyComponents<Vec<u8>> = key_pair.public_key().into();
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        let kid = rsa_thumbprint(&n, &e);
        let decoding_key =
            jsonwebtoken::DecodingKey::from_rsa_raw_components(&components.n, &components.e);
        let jwk = Jwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: kid.clone(),
            n,
            e,
        };
        SigningKey {
            key_pair,
            kid,
            jwk,
            decoding_key,
        }
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// The public key with this `kid` as a `jsonwebtoken` key, to verify tokens this tenant
    /// issued (subject tokens of a token exchange, `/userinfo` bearer tokens).
    pub fn decoding_key(&self, kid: &str) -> Option<&jsonwebtoken::DecodingKey> {
        (kid == self.kid).then_some(&self.decoding_key)
    }

    /// Signs a compact JWS with RS256 (RFC 7515 §7.1) over the given header and claims.
    pub fn sign_jwt<H: Serialize, C: Serialize>(
        &self,
        header: &H,
        claims: &C,
    ) -> anyhow::Result<String> {
        let header = serde_json::to_vec(header)?;
        let claims = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(
            (header.len() + claims.len() + self.key_pair.public_modulus_len()) * 4 / 3 + 4,
        );
        URL_SAFE_NO_PAD.encode_string(&header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("RS256 signing failed"))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The PKCS#8 DER of the private key: for the data dir's database (and the signing
    /// benchmark) only; never sent or logged.
    #[doc(hidden)]
    pub fn private_pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        use aws_lc_rs::encoding::AsDer as _;
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = self
            .key_pair
            .as_der()
            .map_err(|_| anyhow::anyhow!("PKCS#8 encoding failed"))?;
        Ok(der.as_ref().to_vec())
    }
}

/// The RFC 7638 §3 thumbprint of an RSA public key given as base64url `n` and `e`:
/// SHA-256 over `{"e":…,"kty":"RSA","n":…}` (members in lexicographic order, no spaces).
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_7638_section_3_1() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let e = "AQAB";
        assert_eq!(
            rsa_thumbprint(n, e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_key() {
        let key = SigningKey::generate().unwrap();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()});
        let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000_u64});
        let token = key.sign_jwt(&header, &claims).unwrap();

        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            key.decoding_key(key.kid()).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(key.jwks().keys[0].kid, key.kid());
    }

    #[test]
    fn a_stored_key_parses_back_to_the_same_kid() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8(&key.private_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert!(SigningKey::from_pkcs8(b"not a key").is_err());
    }
}
