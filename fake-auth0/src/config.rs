//! Configuration: the typed [`Config`] the library serves, and the command line that
//! builds it (every flag also read from an environment variable).

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use crate::tenant::{Tenant, TenantError};

/// The default issuer: Auth0 writes issuers with a trailing slash.
pub const DEFAULT_ISSUER: &str = "http://localhost:4000/";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";

/// What [`crate::serve`] serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer identifier (`iss`), also the base of every endpoint URL in discovery.
    /// A missing trailing slash is added.
    pub issuer: Url,
    /// The tenant to serve.
    pub tenant: Tenant,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: Url::parse(DEFAULT_ISSUER).expect("the default issuer is a URL"),
            tenant: Tenant::demo(),
        }
    }
}

impl Config {
    /// The default configuration with another issuer.
    pub fn with_issuer(mut self, issuer: Url) -> Self {
        self.issuer = normalize_issuer(issuer);
        self
    }
}

/// Makes sure the issuer ends with `/` and has no query or fragment.
pub(crate) fn normalize_issuer(mut issuer: Url) -> Url {
    issuer.set_query(None);
    issuer.set_fragment(None);
    if !issuer.path().ends_with('/') {
        let path = format!("{}/", issuer.path());
        issuer.set_path(&path);
    }
    issuer
}

pub use service_kit::LogFormat;

/// fake-auth0: a local, offline Auth0 tenant. FOR DEVELOPMENT AND TESTING ONLY.
#[derive(Debug, Clone, clap::Parser)]
#[command(version)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "FAKE_AUTH0_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Issuer URL written in tokens and discovery (the URL clients reach this server at).
    #[arg(long, env = "FAKE_AUTH0_ISSUER", default_value = DEFAULT_ISSUER)]
    pub issuer: Url,
    /// Tenant file (.yaml, .yml or .json); the embedded demo tenant when absent.
    #[arg(long, env = "FAKE_AUTH0_TENANT")]
    pub tenant: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// What to do; serving when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands of the binary.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Exits 0 if the server at the listen address answers `GET /health` with 200 within
    /// 2 s, and 1 otherwise (for container health checks).
    Healthcheck,
}

impl Cli {
    /// The configuration these flags describe; loads the tenant file.
    pub fn to_config(&self) -> Result<Config, TenantError> {
        let tenant = match &self.tenant {
            Some(path) => Tenant::from_file(path)?,
            None => Tenant::demo(),
        };
        Ok(Config {
            issuer: normalize_issuer(self.issuer.clone()),
            tenant,
        })
    }
}
