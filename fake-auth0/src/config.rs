//! Configuration: the typed [`Config`] the library serves, and the command line that
//! builds it (every flag also read from an environment variable), loaded once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::http::ControlToken;
use crate::model::{Tenant, TenantError};

/// The default issuer: Auth0 writes issuers with a trailing slash.
pub const DEFAULT_ISSUER: &str = contract::ISSUER;
/// The default listen address.
pub const DEFAULT_LISTEN: SocketAddr = contract::IDP_LISTEN;

/// What [`crate::App`] serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address [`crate::App::build`] binds.
    pub listen: SocketAddr,
    /// The issuer identifier (`iss`), also the base of every endpoint URL in discovery.
    /// A missing trailing slash is added.
    pub issuer: Url,
    /// The tenant to serve.
    pub tenant: Tenant,
    /// Serves the test control surface under `/_control/` (loopback callers with the
    /// control token only).
    pub control: bool,
    /// The token control calls must carry; generated at start-up when `None`
    /// ([`crate::App::control_token`] tells it).
    pub control_token: Option<ControlToken>,
    /// Serves HTTPS with a certificate from the local CA kept there; plain HTTP when `None`.
    pub tls: Option<crate::tls::TlsSettings>,
    /// Keeps keys, registered clients, refresh tokens and Management API changes in a
    /// database in this directory; everything is in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Rotates the signing keys this often; never when `None`.
    pub rotate_every: Option<Duration>,
    /// Extra CA certificates (PEM) trusted when fetching Client ID Metadata Documents,
    /// besides the system's and the `--tls` CA.
    pub ca_file: Option<PathBuf>,
    /// What clients are allowed: timeouts, body size, connections (service-kit's, as for
    /// every service).
    pub limits: service_kit::ServerLimits,
    /// The most clients `/oidc/register` creates; past it, registrations are refused with
    /// `invalid_client_metadata` (RFC 7591 §3.2.2).
    pub max_registrations: usize,
}

/// The default for `--max-registrations`.
pub const DEFAULT_MAX_REGISTRATIONS: usize = 10_000;

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            issuer: Url::parse(DEFAULT_ISSUER).expect("the default issuer is a URL"),
            tenant: Tenant::demo(),
            control: false,
            control_token: None,
            tls: None,
            data_dir: None,
            rotate_every: None,
            ca_file: None,
            limits: service_kit::ServerLimits::default(),
            max_registrations: DEFAULT_MAX_REGISTRATIONS,
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
    #[arg(long, env = "FAKE_AUTH0_LISTEN", default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Issuer URL written in tokens and discovery (the URL clients reach this server at).
    #[arg(long, env = "FAKE_AUTH0_ISSUER", default_value = DEFAULT_ISSUER)]
    pub issuer: Url,
    /// Tenant file (.yaml, .yml or .json); the embedded demo tenant when absent.
    #[arg(long, env = "FAKE_AUTH0_TENANT")]
    pub tenant: Option<PathBuf>,
    /// Serve the test control surface under /_control/ (reset, clock, mint), to loopback
    /// callers with the control token only. Never on a shared host.
    #[arg(long, env = "FAKE_AUTH0_CONTROL")]
    pub control: bool,
    /// The control token (`Authorization: Bearer <token>`); without it one is generated at
    /// start-up and written to a file only its owner can read, whose path is logged.
    #[arg(
        long,
        env = "FAKE_AUTH0_CONTROL_TOKEN",
        requires = "control",
        hide_env_values = true,
        value_parser = parse_control_token
    )]
    pub control_token: Option<ControlToken>,
    /// Serve HTTPS with a certificate from a local CA made once and kept in the data dir
    /// (or the user's cache dir); its certificate is written to ca.pem there for clients to trust.
    #[arg(long, env = "FAKE_AUTH0_TLS")]
    pub tls: bool,
    /// Directory for the durable state (an SQLite database): signing keys, registered
    /// clients, refresh tokens, Management API changes. In memory only when absent.
    #[arg(long, env = "FAKE_AUTH0_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Rotate the signing keys this often, e.g. `90s`, `15m`, `1h`, `1d` (a bare number is
    /// seconds). Off when absent.
    #[arg(long, env = "FAKE_AUTH0_ROTATE_EVERY", value_parser = parse_interval)]
    pub rotate_every: Option<Duration>,
    /// Extra CA certificates (PEM) to trust when fetching Client ID Metadata Documents,
    /// besides the system's (and the --tls CA).
    #[arg(long, env = "FAKE_AUTH0_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// The most clients dynamic registration (/oidc/register) creates; past it, registrations
    /// are refused with invalid_client_metadata until the data dir is reset.
    #[arg(long, env = "FAKE_AUTH0_MAX_REGISTRATIONS", default_value_t = DEFAULT_MAX_REGISTRATIONS)]
    pub max_registrations: usize,
    /// What clients are allowed (the same flags in every service).
    #[command(flatten)]
    pub limits: service_kit::ServerLimits,
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
    /// The issuer, with `https` when serving TLS: a served scheme and an advertised one that
    /// differ would break every client (so `--tls` alone gives `https://localhost:4000/`).
    fn issuer_for_scheme(&self) -> Url {
        let mut issuer = self.issuer.clone();
        if self.tls && issuer.scheme() == "http" {
            // http → https is always a valid change of scheme.
            let _ = issuer.set_scheme("https");
        }
        issuer
    }

    /// The configuration these flags describe; loads the tenant file.
    pub fn to_config(&self) -> Result<Config, TenantError> {
        let tenant = match &self.tenant {
            Some(path) => Tenant::from_file(path)?,
            None => Tenant::demo(),
        };
        Ok(Config {
            listen: self.listen,
            issuer: normalize_issuer(self.issuer_for_scheme()),
            tenant,
            control: self.control,
            control_token: self.control_token.clone(),
            data_dir: self.data_dir.clone(),
            rotate_every: self.rotate_every,
            ca_file: self.ca_file.clone(),
            limits: self.limits,
            max_registrations: self.max_registrations,
            tls: self
                .tls
                .then(|| crate::tls::TlsSettings::in_data_dir_or_cache(self.data_dir.as_deref())),
        })
    }
}

/// Where the binary writes a generated control token: `<data-dir>/control-token`, or
/// without a data dir `control-token-<port>` in the directory `--tls` keeps its CA in
/// without one (the user's cache dir), so that instances on different ports do not
/// overwrite each other's.
pub fn control_token_file(data_dir: Option<&std::path::Path>, port: u16) -> PathBuf {
    match data_dir {
        Some(dir) => dir.join("control-token"),
        None => crate::tls::TlsSettings::in_data_dir_or_cache(None)
            .dir
            .join(format!("control-token-{port}")),
    }
}

/// A control token given on the command line; an empty one would let anyone in.
fn parse_control_token(text: &str) -> Result<ControlToken, String> {
    if text.trim().is_empty() {
        return Err("the control token must not be empty".to_owned());
    }
    Ok(ControlToken::new(text.trim()))
}

/// Parses an interval: service-kit's duration syntax (`90s`, `15m`, `1h`, `1d`; seconds
/// when bare), at least one second.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = service_kit::parse_duration(text)?;
    if interval < Duration::from_secs(1) {
        return Err(format!("`{}` must be at least 1s", text.trim()));
    }
    Ok(interval)
}

#[cfg(test)]
mod interval_tests {
    use super::*;

    #[test]
    fn intervals_read_like_humans_write_them() {
        assert_eq!(parse_interval("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_interval("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("1w").is_err());
        assert!(parse_interval("h").is_err());
        assert!(parse_interval("500ms").is_err());
    }
}
