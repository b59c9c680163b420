//! Verification of JWTs this tenant issued, as the on-behalf-of template does with `jose`.
//!
//! The template fetches the tenant's own JWKS; the fake already holds those keys, so it
//! looks them up in memory. Failures carry the template's messages (its `JOSE_ERROR_MESSAGES`
//! table), because they are what a client sees in `error_description`.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

/// The signing algorithms the template accepts (`ALLOWED_JWS_ALGS`).
pub const ALLOWED_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::PS256];

/// The clock tolerance of the template (`clockTolerance: 5`), in seconds.
pub const LEEWAY_SECONDS: u64 = 5;

/// The tenant's public keys, looked up by the token header's `kid`.
pub trait TenantKeys: Send + Sync {
    /// The verification key with this `kid`, if the tenant has it.
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey>;
    /// The tenant's only key, for a token without `kid`; `None` when there are several, as
    /// a JWKS resolver cannot choose then.
    fn single(&self) -> Option<&DecodingKey>;
}

/// A plain list of `(kid, key)` pairs is a key set.
impl TenantKeys for [(String, DecodingKey)] {
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey> {
        self.iter().find(|(id, _)| id == kid).map(|(_, key)| key)
    }

    fn single(&self) -> Option<&DecodingKey> {
        match self {
            [(_, key)] => Some(key),
            _ => None,
        }
    }
}

impl TenantKeys for Vec<(String, DecodingKey)> {
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey> {
        self.as_slice().by_kid(kid)
    }

    fn single(&self) -> Option<&DecodingKey> {
        self.as_slice().single()
    }
}

/// The tenant's own signing key.
impl TenantKeys for crate::keys::SigningKey {
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey> {
        self.decoding_key(kid)
    }

    fn single(&self) -> Option<&DecodingKey> {
        self.decoding_key(self.kid())
    }
}

/// Why a token was not accepted; [`fmt::Display`] gives the template's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// `ERR_JWT_EXPIRED`.
    Expired,
    /// `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`.
    BadSignature,
    /// `ERR_JWT_CLAIM_VALIDATION_FAILED` for the named claim (missing, malformed or wrong).
    Claim(&'static str),
    /// `ERR_JWKS_NO_MATCHING_KEY`.
    NoMatchingKey,
    /// `ERR_JWT_INVALID` and friends: not a JWT, bad base64 or JSON, or a disallowed `alg`.
    Malformed,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Expired => f.write_str("The subject token has expired"),
            VerifyError::BadSignature => f.write_str("Token signature verification failed"),
            VerifyError::Claim(claim) => write!(f, "Token claim '{claim}' validation failed"),
            VerifyError::NoMatchingKey => f.write_str("No matching signing key found for token"),
            VerifyError::Malformed => f.write_str("The subject token is invalid"),
        }
    }
}

impl VerifyError {
    /// A short label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Expired => "expired",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Claim(_) => "claim",
            VerifyError::NoMatchingKey => "no_matching_key",
            VerifyError::Malformed => "malformed",
        }
    }
}

/// Verifies a JWT signed by this tenant: signature (RS256 or PS256), `iss` equal to
/// `issuer`, `exp` (required) and `nbf` (if present) against `now` with 5 s leeway, and
/// `aud` containing `audience` when one is given. Returns the claims.
pub fn verify_tenant_jwt(
    token: &str,
    keys: &dyn TenantKeys,
    issuer: &str,
    audience: Option<&str>,
    now: u64,
) -> Result<Map<String, Value>, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
    if !ALLOWED_ALGORITHMS.contains(&header.alg) {
        return Err(VerifyError::Malformed);
    }
    let key = match header.kid.as_deref() {
        Some(kid) => keys.by_kid(kid),
        None => keys.single(),
    }
    .ok_or(VerifyError::NoMatchingKey)?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
    // Time is checked below against the tenant's clock, not jsonwebtoken's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_issuer(&[issuer]);
    match audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        }
        None => {
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "iss"]);
        }
    }

    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map_err(|e| from_jwt_error(e.kind()))?
        .claims;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(VerifyError::Claim("exp"))?;
    if exp.saturating_add(LEEWAY_SECONDS) <= now {
        return Err(VerifyError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_u64().ok_or(VerifyError::Claim("nbf"))?;
        if nbf > now.saturating_add(LEEWAY_SECONDS) {
            return Err(VerifyError::Claim("nbf"));
        }
    }
    Ok(claims)
}

fn from_jwt_error(kind: &ErrorKind) -> VerifyError {
    match kind {
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::InvalidSignature => VerifyError::BadSignature,
        ErrorKind::InvalidIssuer => VerifyError::Claim("iss"),
        ErrorKind::InvalidAudience => VerifyError::Claim("aud"),
        ErrorKind::ImmatureSignature => VerifyError::Claim("nbf"),
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
            VerifyError::Claim(spec_claim(claim))
        }
        _ => VerifyError::Malformed,
    }
}

/// Maps a claim name from jsonwebtoken (only ever a registered claim) to a static string.
fn spec_claim(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "unknown",
    }
}
