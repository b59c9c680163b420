//! HTTP tests of fake-auth0: every endpoint and grant against an in-process server on
//! port 0, with tokens verified independently against the served JWKS.

mod authorization_code;
mod bad_input;
mod client_credentials;
mod client_metadata;
mod control;
mod discovery;
mod helpers;
mod management;
mod on_behalf_of;
mod other_endpoints;
mod password;
mod refresh;
mod registration;
mod start;
mod tls;
mod token_exchange;
