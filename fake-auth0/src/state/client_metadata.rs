//! Fetching and caching Client ID Metadata Documents, safely: the HTTP client has connect
//! and total timeouts, a body cap and no redirects, and its DNS resolver drops every
//! special-use address before a connection is made, so the address checked is the
//! address connected to.
//!
//! Only valid documents are cached, for as long as their `Cache-Control` says within
//! fixed bounds; a refusal leaves nothing behind. The document rules themselves are
//! `oauth::client_metadata`'s.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::special_use;
use crate::model::Client;
use crate::oauth::client_metadata::{ClientIdUrl, MAX_DOCUMENT_BYTES, client_from_document};

/// Connecting may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The whole fetch, headers and body, may take this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a document without cache headers is kept (FastMCP's default).
const DEFAULT_TTL_SECONDS: u64 = 3600;
/// The longest a document is kept whatever it says (SEP-991's 24 hours).
const MAX_TTL_SECONDS: u64 = 24 * 3600;
/// How many documents are kept at most.
const CACHE_CAPACITY: u64 = 1024;

/// A validated document's client and until when (on the tenant's clock) it may be used.
#[derive(Debug, Clone)]
struct Cached {
    client: Arc<Client>,
    expires_at: u64,
}

/// Counts of what the fetcher did, for `/_control/stats`.
#[derive(Debug, Default)]
pub(crate) struct MetadataCounters {
    pub fetches: AtomicU64,
    pub cache_hits: AtomicU64,
    pub refusals: AtomicU64,
}

/// The fetcher and its cache.
pub(crate) struct ClientMetadataFetcher {
    http: reqwest::Client,
    cache: moka::sync::Cache<String, Cached>,
    own_loopback: Option<IpAddr>,
    pub counters: MetadataCounters,
}

impl std::fmt::Debug for ClientMetadataFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMetadataFetcher")
            .field("cached", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl ClientMetadataFetcher {
    /// `own_loopback`: the loopback address fake-auth0 listens on, if it does (the one
    /// special-use address documents may be fetched from). `roots`: certificates trusted
    /// besides the system's (the `--tls` CA, `--ca-file`).
    pub(crate) fn new(
        own_loopback: Option<IpAddr>,
        roots: Vec<reqwest::Certificate>,
    ) -> anyhow::Result<ClientMetadataFetcher> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .https_only(true)
            .tls_certs_merge(roots)
            .dns_resolver(GuardedResolver { own_loopback })
            .build()?;
        Ok(ClientMetadataFetcher {
            http,
            cache: moka::sync::Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(Duration::from_secs(MAX_TTL_SECONDS))
                .build(),
            own_loopback,
            counters: MetadataCounters::default(),
        })
    }

    /// The cached client for this URL, if its entry is still fresh at `now`.
    pub(crate) fn cached(&self, client_id: &str, now: u64) -> Option<Arc<Client>> {
        let entry = self.cache.get(client_id)?;
        if entry.expires_at <= now {
            self.cache.invalidate(client_id);
            return None;
        }
        Some(entry.client)
    }

    /// Forgets a document that stopped fitting a request, so the next use re-fetches it.
    pub(crate) fn forget(&self, client_id: &str) {
        self.cache.invalidate(client_id);
    }

    /// The client a URL stands for: from the cache, or fetched, validated and cached.
    /// The error is the `invalid_client` description.
    pub(crate) async fn resolve(&self, url: &ClientIdUrl, now: u64) -> Result<Arc<Client>, String> {
        if let Some(client) = self.cached(url.as_str(), now) {
            self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(client);
        }
        match self.fetch(url).await {
            Ok((client, ttl)) => {
                let client = Arc::new(client);
                if ttl > 0 {
                    self.cache.insert(
                        url.as_str().to_owned(),
                        Cached {
                            client: Arc::clone(&client),
                            expires_at: now + ttl,
                        },
                    );
                }
                Ok(client)
            }
            Err(reason) => {
                self.counters.refusals.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    client_id = url.as_str(),
                    reason,
                    "client metadata document refused"
                );
                Err(reason)
            }
        }
    }

    /// One GET and the draft's validation; returns the client and how many seconds it
    /// may be cached.
    async fn fetch(&self, url: &ClientIdUrl) -> Result<(Client, u64), String> {
        let (body, ttl) = self.download(url).await?;
        Ok((client_from_document(url, &body)?, ttl))
    }

    /// The document's bytes, bypassing the cache (the Management API's import reads the
    /// document afresh): 200 only, JSON, at most [`MAX_DOCUMENT_BYTES`]; with how many
    /// seconds it may be cached. The error says why it could not be retrieved.
    pub(crate) async fn download(&self, url: &ClientIdUrl) -> Result<(Vec<u8>, u64), String> {
        // An IP literal never reaches the resolver, so it is checked here by the same rule.
        if let Some(address) = literal_address(url)
            && !special_use::may_connect(address, self.own_loopback)
        {
            return Err(refused_address(url.host()));
        }
        self.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let mut response = self
            .http
            .get(url.url().clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| describe_send_error(url, &error))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!(
                "The client metadata document URL answered {status}, a redirect, which is not followed"
            ));
        }
        if status != reqwest::StatusCode::OK {
            return Err(format!(
                "The client metadata document URL answered {status}, not 200"
            ));
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !is_json_media_type(&content_type) {
            return Err(format!(
                "The client metadata document is served as {content_type:?}, not application/json"
            ));
        }
        let ttl = ttl_from_cache_control(
            response
                .headers()
                .get(http::header::CACHE_CONTROL)
                .and_then(|value| value.to_str().ok()),
        );
        let too_big =
            || format!("The client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes");
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| format!("The client metadata document could not be read: {error}"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, ttl))
    }

    /// Whether fake-auth0 listens on loopback (documents on its own loopback address can
    /// then be fetched).
    pub(crate) fn serves_loopback(&self) -> bool {
        self.own_loopback.is_some()
    }
}

/// The host of a URL when it is an IP address.
fn literal_address(url: &ClientIdUrl) -> Option<IpAddr> {
    match url.url().host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

fn refused_address(host: &str) -> String {
    format!(
        "The client metadata document host {host} resolves only to private or special-use addresses, which are not fetched"
    )
}

/// The description of a failed request: the resolver's refusal said as such, a timeout
/// as a timeout, the rest as "could not be fetched".
fn describe_send_error(url: &ClientIdUrl, error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<RefusedAddress>().is_some() {
            return refused_address(url.host());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return "Fetching the client metadata document timed out".to_owned();
    }
    format!(
        "The client metadata document could not be fetched from {}",
        url.host()
    )
}

/// `application/json` or `application/<x>+json`, with any parameters.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Seconds to keep a document (RFC 9111 §5.2.2): `no-store` and `no-cache` keep it for
/// this request only, `max-age` is honoured up to [`MAX_TTL_SECONDS`], no header means
/// [`DEFAULT_TTL_SECONDS`].
fn ttl_from_cache_control(header: Option<&str>) -> u64 {
    let Some(header) = header else {
        return DEFAULT_TTL_SECONDS;
    };
    let mut ttl = DEFAULT_TTL_SECONDS;
    for directive in header.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return 0;
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            ttl = seconds.trim_matches('"').parse().unwrap_or(0);
        }
    }
    ttl.min(MAX_TTL_SECONDS)
}

/// The resolver's refusal, recognised in the error chain by [`describe_send_error`].
#[derive(Debug, thiserror::Error)]
#[error("every address of the host is special-use")]
struct RefusedAddress;

/// Resolves with the system resolver, then keeps only the addresses a fetch may reach;
/// reqwest connects to what this returns, so nothing else is ever connected to.
struct GuardedResolver {
    own_loopback: Option<IpAddr>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let own_loopback = self.own_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved
                .filter(|address| special_use::may_connect(address.ip(), own_loopback))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lifetimes_follow_cache_control_within_bounds() {
        assert_eq!(ttl_from_cache_control(None), DEFAULT_TTL_SECONDS);
        assert_eq!(ttl_from_cache_control(Some("public, max-age=600")), 600);
        assert_eq!(
            ttl_from_cache_control(Some("max-age=99999999")),
            MAX_TTL_SECONDS
        );
        assert_eq!(ttl_from_cache_control(Some("no-store")), 0);
        assert_eq!(ttl_from_cache_control(Some("max-age=60, no-cache")), 0);
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/oauth-client+json"));
        assert!(!is_json_media_type("text/html"));
        assert!(!is_json_media_type(""));
    }
}
