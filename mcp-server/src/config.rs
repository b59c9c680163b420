//! Configuration: the quickstart's variable names (so its `.env` works unchanged), read from
//! the environment, a `.env` file or flags, with defaults that point at the local stack.
//!
//! The clap [`Cli`] is the outside world's view (strings); [`Config`] is the typed,
//! validated view the server runs on. Converting one into the other is where a bad value
//! stops start-up with a message naming the variable.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bearer_auth::Issuer;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::exchange::{ExchangeKind, ExchangeMode};
use crate::shared_state::RedisUrl;

pub use service_kit::LogFormat;

/// The MCP server's command line. Every flag can also be set through the environment
/// variable shown in `--help` (or a `.env` file in the working directory).
#[derive(Debug, clap::Parser)]
#[command(name = "mcp-server", version, about)]
pub struct Cli {
    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The Auth0 tenant (issuer): a bare host means `https://<host>/`.
    #[arg(long, env = "AUTH0_DOMAIN", default_value = contract::AUTH0_DOMAIN)]
    pub auth0_domain: String,
    /// This server's API identifier at Auth0: the audience inbound tokens must carry, and the
    /// protected resource's `resource` (a prefix of the MCP endpoint URL).
    #[arg(long, env = "AUTH0_AUDIENCE", default_value = contract::MCP_AUDIENCE)]
    pub auth0_audience: String,
    /// Address to listen on; containers use 0.0.0.0.
    #[arg(long, env = "MCP_BIND_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = contract::MCP_PORT)]
    pub port: u16,
    /// The public base URL of this server (the MCP endpoint is `<url>mcp`).
    #[arg(long, env = "MCP_SERVER_URL", default_value = contract::MCP_AUDIENCE)]
    pub mcp_server_url: String,
    /// Client id the server uses for the token exchange.
    #[arg(long, env = "MCP_AUTH0_CLIENT_ID", default_value = contract::MCP_SERVER_CLIENT_ID)]
    pub mcp_auth0_client_id: String,
    /// Client secret the server uses for the token exchange.
    #[arg(
        long,
        env = "MCP_AUTH0_CLIENT_SECRET",
        default_value = contract::MCP_SERVER_CLIENT_SECRET,
        hide_default_value = true,
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub mcp_auth0_client_secret: SecretString,
    /// Which token exchange to use: `obo` (Auth0's On-Behalf-Of) or `custom` (Custom Token
    /// Exchange). Unset: On-Behalf-Of unless MCP_AUTH0_SUBJECT_TOKEN_TYPE names a profile.
    /// The mode in force is logged at start-up ("effective configuration").
    #[arg(long, env = "MCP_AUTH0_EXCHANGE", value_enum)]
    pub mcp_auth0_exchange: Option<ExchangeKind>,
    /// The Custom Token Exchange profile's subject_token_type (e.g. urn:fastmcp:mcp, the CTE
    /// quickstart's). Unset, or the access-token type (the OBO quickstart's `.env`), selects
    /// On-Behalf-Of.
    #[arg(long, env = "MCP_AUTH0_SUBJECT_TOKEN_TYPE")]
    pub mcp_auth0_subject_token_type: Option<String>,
    /// Scope asked for in the exchange.
    #[arg(long, env = "MCP_AUTH0_EXCHANGE_SCOPE", default_value = contract::EXCHANGE_SCOPE)]
    pub mcp_auth0_exchange_scope: String,
    /// The upstream API's identifier (audience of the exchanged token).
    #[arg(
        long,
        env = "API_AUTH0_AUDIENCE",
        default_value = contract::UPSTREAM_AUDIENCE
    )]
    pub api_auth0_audience: String,
    /// Where the upstream API is reached.
    #[arg(long, env = "API_BASE_URL", default_value = contract::UPSTREAM_AUDIENCE)]
    pub api_base_url: String,
    /// Extra `Host` values accepted on /mcp besides MCP_SERVER_URL's (comma separated),
    /// e.g. the service name inside compose.
    #[arg(long, env = "MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call /mcp (CORS, and the Origin check), comma separated,
    /// e.g. `http://localhost:6274` for MCP Inspector.
    #[arg(long, env = "MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Serve without sessions, so several replicas can sit behind a load balancer.
    #[arg(long, env = "MCP_STATELESS")]
    pub stateless: bool,
    /// Token exchange connect timeout, in milliseconds.
    #[arg(long, env = "MCP_EXCHANGE_CONNECT_TIMEOUT_MS", default_value_t = 2_000)]
    pub exchange_connect_timeout_ms: u64,
    /// Token exchange total timeout, in milliseconds.
    #[arg(long, env = "MCP_EXCHANGE_TIMEOUT_MS", default_value_t = 5_000)]
    pub exchange_timeout_ms: u64,
    /// Upstream API call total timeout, in milliseconds.
    #[arg(long, env = "MCP_UPSTREAM_TIMEOUT_MS", default_value_t = 5_000)]
    pub upstream_timeout_ms: u64,
    /// Extra CA certificates (PEM) to trust for outbound HTTPS (the tenant's discovery, keys
    /// and token exchange, and the upstream API), besides the system's: e.g. the `ca.pem`
    /// of `fake-auth0 --tls`.
    #[arg(long, env = "AUTH0_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Live sessions this replica holds at most (2025-11-25 era); past it, `initialize`
    /// gets HTTP 503 with `Retry-After` and a JSON-RPC error.
    #[arg(long, env = "MCP_MAX_SESSIONS", default_value_t = SessionLimits::DEFAULT.max_sessions)]
    pub max_sessions: usize,
    /// Live sessions one user (`sub`) holds at most on this replica; past it, that user's
    /// `initialize` gets HTTP 429 with `Retry-After` and a JSON-RPC error. Nobody else's
    /// session is ever closed to make room.
    #[arg(
        long,
        env = "MCP_MAX_SESSIONS_PER_USER",
        default_value_t = SessionLimits::DEFAULT.max_sessions_per_user
    )]
    pub max_sessions_per_user: usize,
    /// A session unused for this long ends (also the Redis TTL of a shared session), in
    /// seconds.
    #[arg(
        long,
        env = "MCP_SESSION_IDLE_TIMEOUT_SECS",
        default_value_t = SessionLimits::DEFAULT.idle_timeout.as_secs()
    )]
    pub session_idle_timeout_secs: u64,
    /// An SSE stream (a session's GET stream or a streamed answer) is closed after this
    /// long, in seconds; clients reconnect.
    #[arg(
        long,
        env = "MCP_SSE_MAX_LIFETIME_SECS",
        default_value_t = SessionLimits::DEFAULT.max_stream_lifetime.as_secs()
    )]
    pub sse_max_lifetime_secs: u64,
    /// Redis shared by several replicas (`redis://host:port/db`, `rediss://…` or
    /// `redis+unix:///path/redis.sock`): sessions opened on one replica continue on another,
    /// and the exchanged-token cache gains a shared tier. Unset: everything stays in this
    /// process. While Redis is unreachable the server keeps serving from local state.
    #[arg(long, env = "MCP_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// What clients are allowed: timeouts, body size, connections (the same flags in every
    /// service).
    #[command(flatten)]
    pub limits: service_kit::ServerLimits,
}

impl Cli {
    /// The `--help` footer naming the token exchange the environment (and `.env`) selects,
    /// so a user can see the mode before starting.
    pub fn exchange_help_from_env() -> String {
        let explicit = std::env::var("MCP_AUTH0_EXCHANGE").ok();
        let kind = explicit
            .as_deref()
            .map(|value| <ExchangeKind as clap::ValueEnum>::from_str(value, true));
        let subject_token_type = std::env::var("MCP_AUTH0_SUBJECT_TOKEN_TYPE").ok();
        let mode = match kind {
            Some(Err(_)) => Err(format!(
                "MCP_AUTH0_EXCHANGE={explicit:?} is not obo or custom"
            )),
            Some(Ok(kind)) => ExchangeMode::select(Some(kind), subject_token_type.as_deref()),
            None => ExchangeMode::select(None, subject_token_type.as_deref()),
        };
        match mode {
            Ok(mode) => format!("Token exchange with the current environment: {mode}."),
            Err(message) => {
                format!("Token exchange with the current environment: invalid ({message}).")
            }
        }
    }
}

fn parse_secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Subcommands besides serving.
#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum Command {
    /// GET /health on the configured port (127.0.0.1 when listening on all addresses);
    /// exit 0 on 200. For container health checks, where there is no curl.
    Healthcheck,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable (or flag) at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// The bounds on sessions (2025-11-25 era), per replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Live sessions in this replica (`MCP_MAX_SESSIONS`).
    pub max_sessions: usize,
    /// Live sessions of one `sub` in this replica (`MCP_MAX_SESSIONS_PER_USER`).
    pub max_sessions_per_user: usize,
    /// A session unused this long ends (`MCP_SESSION_IDLE_TIMEOUT_SECS`).
    pub idle_timeout: Duration,
    /// An SSE stream is closed after this long (`MCP_SSE_MAX_LIFETIME_SECS`).
    pub max_stream_lifetime: Duration,
}

impl SessionLimits {
    /// The defaults: rmcp's own 5-minute idle timeout; caps far above one person's use and
    /// far below what exhausts the process.
    pub const DEFAULT: SessionLimits = SessionLimits {
        max_sessions: 10_000,
        max_sessions_per_user: 32,
        idle_timeout: Duration::from_secs(300),
        max_stream_lifetime: Duration::from_secs(3600),
    };
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The typed configuration the server runs on. `Default` is the local stack's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where [`App::build`](crate::App::build) binds ([`App::build_on`](crate::App::build_on)
    /// takes a bound listener instead).
    pub listen: SocketAddr,
    /// The authorization server (AUTH0_DOMAIN), always ending with '/'.
    pub issuer: Issuer,
    /// AUTH0_AUDIENCE: inbound tokens' audience and the protected resource identifier.
    pub audience: String,
    /// MCP_SERVER_URL, always ending with '/'.
    pub server_url: Url,
    /// MCP_AUTH0_CLIENT_ID.
    pub client_id: String,
    /// MCP_AUTH0_CLIENT_SECRET.
    pub client_secret: SecretString,
    /// The token exchange (MCP_AUTH0_EXCHANGE and MCP_AUTH0_SUBJECT_TOKEN_TYPE).
    pub exchange_mode: ExchangeMode,
    /// MCP_AUTH0_EXCHANGE_SCOPE (may be empty: no scope asked for).
    pub exchange_scope: String,
    /// API_AUTH0_AUDIENCE.
    pub api_audience: String,
    /// API_BASE_URL, as given (with or without a trailing '/').
    pub api_base_url: Url,
    /// Extra Host values accepted on /mcp.
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed on /mcp, as `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// No sessions (older protocol era served statelessly too).
    pub stateless: bool,
    /// Token exchange connect timeout.
    pub exchange_connect_timeout: Duration,
    /// Token exchange total timeout.
    pub exchange_timeout: Duration,
    /// Upstream API call total timeout.
    pub upstream_timeout: Duration,
    /// Bound on cached exchanged tokens.
    pub exchange_cache_capacity: u64,
    /// Extra root certificates (PEM file) for outbound HTTPS (`--ca-file`).
    pub ca_file: Option<std::path::PathBuf>,
    /// Caps on live sessions, their idle expiry and the SSE stream lifetime.
    pub session_limits: SessionLimits,
    /// MCP_REDIS_URL: the state shared between replicas (`None`: this process only).
    pub redis_url: Option<RedisUrl>,
    /// What clients are allowed: timeouts, body size, connections (service-kit's, as for
    /// every service).
    pub limits: service_kit::ServerLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: contract::MCP_LISTEN,
            issuer: Issuer::from_auth0_domain(contract::AUTH0_DOMAIN)
                .expect("the default issuer is valid"),
            audience: contract::MCP_AUDIENCE.to_owned(),
            server_url: Url::parse(contract::MCP_AUDIENCE).expect("valid default URL"),
            client_id: contract::MCP_SERVER_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(contract::MCP_SERVER_CLIENT_SECRET),
            // The demo stack's exchange: the CTE quickstart's profile. (The binary with no
            // MCP_AUTH0_SUBJECT_TOKEN_TYPE uses On-Behalf-Of: `ExchangeMode::select`.)
            exchange_mode: ExchangeMode::CustomTokenExchange {
                subject_token_type: contract::SUBJECT_TOKEN_TYPE.to_owned(),
            },
            exchange_scope: contract::EXCHANGE_SCOPE.to_owned(),
            api_audience: contract::UPSTREAM_AUDIENCE.to_owned(),
            api_base_url: Url::parse(contract::UPSTREAM_AUDIENCE).expect("valid default URL"),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            stateless: false,
            exchange_connect_timeout: Duration::from_secs(2),
            exchange_timeout: Duration::from_secs(5),
            upstream_timeout: Duration::from_secs(5),
            exchange_cache_capacity: 10_000,
            ca_file: None,
            session_limits: SessionLimits::DEFAULT,
            redis_url: None,
            limits: service_kit::ServerLimits::default(),
        }
    }
}

fn http_url(variable: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim())
        .map_err(|e| ConfigError::new(variable, format!("not a URL ({e}): {value:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            variable,
            format!("must be an http(s) URL with a host: {value:?}"),
        ));
    }
    Ok(url)
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn non_empty(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ConfigError::new(variable, "must not be empty"));
    }
    Ok(value.to_owned())
}

fn millis(variable: &'static str, value: u64) -> Result<Duration, ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(variable, "must be greater than zero"));
    }
    Ok(Duration::from_millis(value))
}

fn seconds(variable: &'static str, value: u64) -> Result<Duration, ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(variable, "must be greater than zero"));
    }
    Ok(Duration::from_secs(value))
}

fn at_least_one(variable: &'static str, value: usize) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(variable, "must be greater than zero"));
    }
    Ok(value)
}

/// Normalises a browser origin to `scheme://host[:port]` (default ports dropped), the
/// form an `Origin` header carries.
pub(crate) fn normalize_origin(value: &str) -> Option<String> {
    let value = value.trim();
    if value == "null" {
        return Some("null".to_owned());
    }
    let url = Url::parse(value).ok()?;
    url.host_str()?;
    Some(url.origin().ascii_serialization())
}

impl TryFrom<Cli> for Config {
    type Error = ConfigError;

    fn try_from(cli: Cli) -> Result<Self, Self::Error> {
        let issuer = Issuer::from_auth0_domain(cli.auth0_domain.trim())
            .map_err(|e| ConfigError::new("AUTH0_DOMAIN", e.to_string()))?;
        let audience = non_empty("AUTH0_AUDIENCE", &cli.auth0_audience)?;
        let server_url = with_trailing_slash(http_url("MCP_SERVER_URL", &cli.mcp_server_url)?);
        let client_secret = cli.mcp_auth0_client_secret;
        if client_secret.expose_secret().trim().is_empty() {
            return Err(ConfigError::new(
                "MCP_AUTH0_CLIENT_SECRET",
                "must not be empty",
            ));
        }
        let allowed_origins = cli
            .allowed_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| {
                normalize_origin(o).ok_or_else(|| {
                    ConfigError::new(
                        "MCP_ALLOWED_ORIGINS",
                        format!("not an origin (scheme://host[:port]): {o:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            listen: SocketAddr::new(cli.host, cli.port),
            issuer,
            audience,
            server_url,
            client_id: non_empty("MCP_AUTH0_CLIENT_ID", &cli.mcp_auth0_client_id)?,
            client_secret,
            exchange_mode: ExchangeMode::select(
                cli.mcp_auth0_exchange,
                cli.mcp_auth0_subject_token_type.as_deref(),
            )
            .map_err(|message| ConfigError::new("MCP_AUTH0_EXCHANGE", message))?,
            // Empty means "ask for no scope" (the exchange then omits the parameter).
            exchange_scope: cli.mcp_auth0_exchange_scope.trim().to_owned(),
            api_audience: non_empty("API_AUTH0_AUDIENCE", &cli.api_auth0_audience)?,
            api_base_url: http_url("API_BASE_URL", &cli.api_base_url)?,
            allowed_hosts: cli
                .allowed_hosts
                .into_iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
            allowed_origins,
            stateless: cli.stateless,
            exchange_connect_timeout: millis(
                "MCP_EXCHANGE_CONNECT_TIMEOUT_MS",
                cli.exchange_connect_timeout_ms,
            )?,
            exchange_timeout: millis("MCP_EXCHANGE_TIMEOUT_MS", cli.exchange_timeout_ms)?,
            upstream_timeout: millis("MCP_UPSTREAM_TIMEOUT_MS", cli.upstream_timeout_ms)?,
            exchange_cache_capacity: Config::default().exchange_cache_capacity,
            ca_file: cli.ca_file,
            session_limits: SessionLimits {
                max_sessions: at_least_one("MCP_MAX_SESSIONS", cli.max_sessions)?,
                max_sessions_per_user: at_least_one(
                    "MCP_MAX_SESSIONS_PER_USER",
                    cli.max_sessions_per_user,
                )?,
                idle_timeout: seconds(
                    "MCP_SESSION_IDLE_TIMEOUT_SECS",
                    cli.session_idle_timeout_secs,
                )?,
                max_stream_lifetime: seconds(
                    "MCP_SSE_MAX_LIFETIME_SECS",
                    cli.sse_max_lifetime_secs,
                )?,
            },
            redis_url: cli
                .redis_url
                .as_deref()
                .filter(|url| !url.trim().is_empty())
                .map(RedisUrl::parse)
                .transpose()
                .map_err(|message| ConfigError::new("MCP_REDIS_URL", message))?,
            limits: cli.limits,
        })
    }
}

/// RFC 9728 §3's well-known URI suffix, relative.
const WELL_KNOWN_PROTECTED_RESOURCE: &str = ".well-known/oauth-protected-resource";

impl Config {
    /// The MCP endpoint's public URL.
    pub(crate) fn mcp_endpoint(&self) -> Url {
        self.server_url.join("mcp").expect("a relative path joins")
    }

    /// The RFC 9728 metadata document of this resource (AUTH0_AUDIENCE), relative to
    /// MCP_SERVER_URL: `.well-known/oauth-protected-resource` followed by the audience's path
    /// below MCP_SERVER_URL (§3.1: the well-known segment goes between the host and the
    /// path, and a terminating `/` is dropped). So `http://localhost:3001/` has the root
    /// document and `http://localhost:3001/mcp` has `…/oauth-protected-resource/mcp`. An
    /// audience that is not under MCP_SERVER_URL (warned about at start) gets the root one.
    pub(crate) fn resource_metadata_path(&self) -> String {
        let suffix = self
            .audience
            .strip_prefix(self.server_url.as_str())
            .unwrap_or_default();
        if suffix.is_empty() {
            WELL_KNOWN_PROTECTED_RESOURCE.to_owned()
        } else {
            format!("{WELL_KNOWN_PROTECTED_RESOURCE}/{suffix}")
        }
    }

    /// The RFC 9728 metadata URL clients are pointed at from `WWW-Authenticate`: the one
    /// document this server serves, whose `resource` is AUTH0_AUDIENCE (§3.3).
    pub(crate) fn resource_metadata_url(&self) -> Url {
        self.server_url
            .join(&self.resource_metadata_path())
            .expect("a relative path joins")
    }

    /// The extra root certificates of `--ca-file` / AUTH0_CA_FILE (none without it), read
    /// now: the server reads them once at start for every outbound client. The error names
    /// the file.
    pub fn root_certificates(&self) -> std::io::Result<Vec<reqwest::Certificate>> {
        match &self.ca_file {
            Some(ca_file) => service_kit::read_ca_file(ca_file),
            None => Ok(Vec::new()),
        }
    }

    /// Logs the effective configuration; the client secret is never written.
    pub(crate) fn log_effective(&self) {
        tracing::info!(
            listen = %self.listen,
            issuer = self.issuer.as_str(),
            audience = %self.audience,
            server_url = %self.server_url,
            mcp_endpoint = %self.mcp_endpoint(),
            client_id = %self.client_id,
            client_secret = "[redacted]",
            exchange = %self.exchange_mode,
            exchange_scope = %self.exchange_scope,
            api_audience = %self.api_audience,
            api_base_url = %self.api_base_url,
            allowed_hosts = ?self.allowed_hosts,
            allowed_origins = ?self.allowed_origins,
            stateless = self.stateless,
            exchange_connect_timeout = ?self.exchange_connect_timeout,
            exchange_timeout = ?self.exchange_timeout,
            upstream_timeout = ?self.upstream_timeout,
            session_limits = ?self.session_limits,
            redis_url = ?self.redis_url,
            "effective configuration"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["mcp-server"];
        argv.extend_from_slice(args);
        Config::try_from(Cli::try_parse_from(argv).expect("flags parse"))
    }

    #[test]
    fn the_defaults_point_at_the_local_stack() {
        let config = parse(&[]).expect("defaults are valid");
        assert_eq!(config.issuer.as_str(), "http://localhost:4000/");
        assert_eq!(config.audience, "http://localhost:3001/");
        assert_eq!(config.mcp_endpoint().as_str(), "http://localhost:3001/mcp");
        assert_eq!(
            config.resource_metadata_url().as_str(),
            "http://localhost:3001/.well-known/oauth-protected-resource"
        );
        assert_eq!(config.exchange_connect_timeout, Duration::from_secs(2));
        assert_eq!(config.exchange_timeout, Duration::from_secs(5));
        assert_eq!(config.listen.port(), 3001);
    }

    #[test]
    fn the_metadata_document_is_where_rfc_9728_derives_it_from_the_audience() {
        let cases = [
            (
                "http://localhost:3001/",
                "http://localhost:3001/.well-known/oauth-protected-resource",
            ),
            (
                "http://localhost:3001/mcp",
                "http://localhost:3001/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "http://localhost:3001/mcp/",
                "http://localhost:3001/.well-known/oauth-protected-resource/mcp/",
            ),
            // Not under MCP_SERVER_URL: the root document (and a warning at start).
            (
                "https://api.example.com/",
                "http://localhost:3001/.well-known/oauth-protected-resource",
            ),
        ];
        for (audience, url) in cases {
            let config = parse(&["--auth0-audience", audience]).unwrap();
            assert_eq!(config.resource_metadata_url().as_str(), url, "{audience}");
        }
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = parse(&["--mcp-server-url", "not a url"]).unwrap_err();
        assert_eq!(err.variable, "MCP_SERVER_URL");
        let err = parse(&["--api-base-url", "ftp://x/"]).unwrap_err();
        assert_eq!(err.variable, "API_BASE_URL");
        let err = parse(&["--allowed-origins", "localhost"]).unwrap_err();
        assert_eq!(err.variable, "MCP_ALLOWED_ORIGINS");
        let err = parse(&["--max-sessions-per-user", "0"]).unwrap_err();
        assert_eq!(err.variable, "MCP_MAX_SESSIONS_PER_USER");
        let err = parse(&["--redis-url", "http://not-redis/"]).unwrap_err();
        assert_eq!(err.variable, "MCP_REDIS_URL");
    }

    #[test]
    fn server_url_gains_a_trailing_slash() {
        let config = parse(&["--mcp-server-url", "https://mcp.example.com/base"]).unwrap();
        assert_eq!(
            config.mcp_endpoint().as_str(),
            "https://mcp.example.com/base/mcp"
        );
    }

    #[test]
    fn a_ca_file_is_kept_as_a_path_and_read_at_start() {
        let config = parse(&["--ca-file", "/nonexistent/fake-auth0/ca.pem"]).unwrap();
        assert_eq!(
            config.ca_file.as_deref(),
            Some(std::path::Path::new("/nonexistent/fake-auth0/ca.pem"))
        );
    }

    #[test]
    fn session_bounds_and_redis_come_from_flags() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.session_limits, SessionLimits::DEFAULT);
        assert!(config.redis_url.is_none());
        let config = parse(&[
            "--max-sessions",
            "5",
            "--max-sessions-per-user",
            "2",
            "--session-idle-timeout-secs",
            "7",
            "--sse-max-lifetime-secs",
            "9",
            "--redis-url",
            "redis://:hunter2@127.0.0.1:6379/",
        ])
        .unwrap();
        assert_eq!(
            config.session_limits,
            SessionLimits {
                max_sessions: 5,
                max_sessions_per_user: 2,
                idle_timeout: Duration::from_secs(7),
                max_stream_lifetime: Duration::from_secs(9),
            }
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_redis_url_is_optional_checked_and_named_when_wrong() {
        assert!(parse(&[]).unwrap().redis_url.is_none());
        let config = parse(&["--redis-url", "redis://:pw-secret@127.0.0.1:6379/0"]).unwrap();
        assert!(config.redis_url.is_some());
        assert!(!format!("{config:?}").contains("pw-secret"));
        let err = parse(&["--redis-url", "http://127.0.0.1/"]).unwrap_err();
        assert_eq!(err.variable, "MCP_REDIS_URL");
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let config = Config::default();
        assert!(!format!("{config:?}").contains("mcp-server-secret"));
    }
}
