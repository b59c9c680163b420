//! The one verifier of tokens this tenant issued. `/userinfo`, the Management API's access
//! check, the Custom Token Exchange Action's subject-token check and the actor-token check
//! all verify here, so "a valid token of this tenant" means one thing.
//!
//! A token passes when its header's `alg` is one a tenant signs with (RS256, PS256), its
//! `kid` names a published key and the signature verifies with it, `iss` is this tenant,
//! `aud` contains the expected audience (when the caller expects one), `exp` is present and
//! not past and `nbf`, if present, not ahead, both against the tenant's clock with the
//! caller's leeway. The checks run in the order of `jose`, the library Auth0's Action
//! templates verify with, so each failure is the one the template would report.
//!
//! What a failure is called on the wire differs by surface (the template's
//! `JOSE_ERROR_MESSAGES`, an RFC 6750 `error_description`): callers map [`VerifyError`].

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use crate::keys::KeySet;

/// The signing algorithms a tenant's tokens may carry (the template's `ALLOWED_JWS_ALGS`).
const ALLOWED_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::PS256];

/// A set of public keys, looked up by the token header's `kid`.
pub(crate) trait TenantKeys: Send + Sync {
    /// The verification key with this `kid`, if the set has it.
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey>;
    /// The only key, for a token without `kid`; `None` when there are several, as a JWKS
    /// resolver cannot choose then.
    fn single(&self) -> Option<&DecodingKey>;
}

/// The tenant's published keys. A token without `kid` matches no key: the set always holds
/// several (current and next), and a JWKS resolver cannot choose among them either.
impl TenantKeys for KeySet {
    fn by_kid(&self, kid: &str) -> Option<&DecodingKey> {
        self.decoding_key(kid)
    }

    fn single(&self) -> Option<&DecodingKey> {
        None
    }
}

/// A plain list of `(kid, key)` pairs is a key set (the Action's unit tests use one).
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

/// What the caller expects of a token besides being this tenant's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The tenant's issuer identifier (with its trailing slash): `iss` must equal it.
    pub issuer: &'a str,
    /// `aud` must contain this; any audience is accepted when `None` (actor tokens).
    pub audience: Option<&'a str>,
    /// Now, in Unix seconds, from the tenant's clock.
    pub now: u64,
    /// Seconds a token may be past `exp` (or before `nbf`) and still pass.
    pub leeway: u64,
}

/// Why a token was not accepted, in the categories of `jose`'s errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifyError {
    /// `ERR_JWT_EXPIRED`: `exp` is past, beyond the leeway.
    Expired,
    /// `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`.
    BadSignature,
    /// `ERR_JWT_CLAIM_VALIDATION_FAILED` for the named claim (missing, malformed or wrong).
    Claim(&'static str),
    /// `ERR_JWKS_NO_MATCHING_KEY`: no published key has the header's `kid`.
    NoMatchingKey,
    /// `ERR_JWT_INVALID` and friends: not a JWT, bad base64 or JSON, or a disallowed `alg`.
    Malformed,
}

impl VerifyError {
    /// A short label for logs and metrics.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            VerifyError::Expired => "expired",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Claim(_) => "claim",
            VerifyError::NoMatchingKey => "no_matching_key",
            VerifyError::Malformed => "malformed",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Expired => f.write_str("the token has expired"),
            VerifyError::BadSignature => f.write_str("the signature does not verify"),
            VerifyError::Claim(claim) => write!(f, "claim `{claim}` is missing or wrong"),
            VerifyError::NoMatchingKey => f.write_str("no published key has the token's kid"),
            VerifyError::Malformed => f.write_str("not a JWT signed RS256 or PS256"),
        }
    }
}

/// Verifies a JWT signed by this tenant (see the module documentation) and returns its
/// claims.
pub(crate) fn verify_tenant_token(
    token: &str,
    keys: &dyn TenantKeys,
    expected: &Expected<'_>,
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
    validation.set_issuer(&[expected.issuer]);
    match expected.audience {
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
    if exp.saturating_add(expected.leeway) <= expected.now {
        return Err(VerifyError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_u64().ok_or(VerifyError::Claim("nbf"))?;
        if nbf > expected.now.saturating_add(expected.leeway) {
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
