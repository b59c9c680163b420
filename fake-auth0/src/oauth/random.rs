//! Unguessable values: authorization codes, refresh tokens, login transaction ids, `jti`,
//! client ids and secrets (RFC 6749 §10.10 asks that guessing one be infeasible).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` fresh random bytes from the system generator, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0; bytes];
    aws_lc_rs::rand::fill(&mut buffer).expect("the system random generator works");
    URL_SAFE_NO_PAD.encode(buffer)
}
