//! The tenant's JWTs: minting access and ID tokens ([`mint`]) and the one verifier of
//! tokens this tenant issued ([`verify`]).
//!
//! Both are pure: they take the issuer, the keys and "now" as arguments. The live key set
//! and the tenant's clock are the state's (`state::TokenIssuer` hands them in), so this
//! layer can be tested with fixed keys and times.

pub(crate) mod mint;
pub(crate) mod verify;

pub(crate) use mint::{
    AccessTokenSpec, Gty, MintedToken, Minter, longest_token_lifetime, userinfo_audience,
};
pub(crate) use verify::{Expected, TenantKeys, VerifyError, verify_tenant_token};
