//! The tenant model: what a tenant file holds, in the shapes of Auth0's Management API, so
//! that a tenant file reads like an exported Auth0 tenant.
//!
//! This layer is data and the rules about data only: APIs ([`ResourceServer`]), clients,
//! client grants, roles, users, the connection, token-exchange profiles, the Actions'
//! configuration, loading a file (with the path of every mistake), the consistency checks,
//! and the embedded demo tenant. It knows nothing of HTTP, of the running server's state or
//! of the clock, so every other layer can use it and it can be tested as plain values.
//!
//! Public: a tenant file's schema is part of fake-auth0's interface (tests build tenants in
//! code, and [`crate::Config`] carries one).

mod action;
mod client;
mod client_grant;
mod connection;
mod demo;
mod load;
mod resource_server;
mod role;
mod tenant;
mod token_exchange_profile;
mod user;
mod validate;

pub use action::{ActionDefinition, ActionSecret, ActionTemplate, SecretValue};
pub use client::{
    AppType, Client, ClientSecret, ClientTokenExchange, ExternalMetadataType, GrantType,
    ON_BEHALF_OF_TOKEN_EXCHANGE, ThirdPartySecurityMode, TokenEndpointAuthMethod,
};
pub use client_grant::{ClientGrant, ClientGrantSubjectType};
pub use connection::Connection;
pub use load::TenantError;
pub use resource_server::{
    ClientPolicy, ResourceServer, ResourceServerScope, SigningAlg, SubjectPolicy,
    SubjectTypeAuthorization, TokenDialect, UserPolicy,
};
pub use role::{Permission, Role};
pub use tenant::{AudienceResourceConflict, ClientMetadataMode, Tenant, TenantSettings};
pub use token_exchange_profile::{
    FirstPartyOnBehalfOfSecrets, ProfileAction, ProfileType, RESERVED_SUBJECT_TOKEN_TYPE_PREFIXES,
    TokenExchangeProfile, check_subject_token_type, validate_profiles,
};
pub(crate) use user::ProfileClaims;
pub use user::{User, UserPassword};
