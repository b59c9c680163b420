//! The running tenant: what changes while fake-auth0 serves and outlives a request.
//!
//! - `app_state`: [`AppState`], which every handler and grant reads.
//! - `live_tenant`: the tenant being served, swapped whole on every change.
//! - `token_issuer`: the issuer identifier, the live key set and the clock, handed to the
//!   pure minting and verifying of `jwt`.
//! - `key_rotation`: rotating the keys, on demand or on a schedule.
//! - `clock`: the one "now" of every expiry, which tests freeze and advance.
//! - `grant_stores`, `authorization_flow`, `refresh_tokens`, `expiring_map`: the grants'
//!   in-flight state (login transactions, codes, refresh-token families).
//! - `client_metadata`, `special_use`: fetching Client ID Metadata Documents without
//!   reaching private addresses, and caching the valid ones.
//! - `database`: the durable copy under `--data-dir`.
//! - `lock`: mutexes that recover from poisoning.
//!
//! Nothing here knows about HTTP; the grants and handlers above decide what to store.

mod app_state;
mod authorization_flow;
mod client_metadata;
mod clock;
mod database;
mod expiring_map;
mod grant_stores;
mod key_rotation;
mod live_tenant;
mod lock;
mod refresh_tokens;
mod special_use;
mod token_issuer;

pub(crate) use app_state::{AppState, OpenError};
pub(crate) use authorization_flow::{
    AuthorizationCode, CODE_LIFETIME, LOGIN_TRANSACTION_LIFETIME, LoginTransaction,
};
pub(crate) use client_metadata::ClientMetadataFetcher;
pub(crate) use clock::ClockMode;
pub use database::DataDirError;
pub(crate) use refresh_tokens::{PendingRefresh, REFRESH_TOKEN_LIFETIME, RefreshGrant, RefreshUse};
