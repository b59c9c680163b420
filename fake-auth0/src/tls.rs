//! HTTPS for `--tls`: a local certificate authority, the server certificate it signs, and a
//! TLS listener for axum's own `serve`.
//!
//! Auth0's SDKs build `https://<domain>/` URLs and refuse plain HTTP, so a fake tenant they
//! can talk to must speak TLS with a certificate they trust. fake-auth0 makes a CA once and
//! keeps it (`ca-key.pem`, private, and `ca.pem`, the certificate clients are told to trust,
//! e.g. with `SSL_CERT_FILE`), so trusting it once survives restarts. The server certificate
//! is signed afresh at every start, for `localhost`, `127.0.0.1`, `::1` and the issuer's host.
//!
//! The listener accepts TCP and runs TLS handshakes in their own tasks, so a slow or silent
//! client never holds up the next connection; axum sees finished TLS streams and the peer's
//! address (which the control surface needs).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use url::{Host, Url};

/// The file clients trust: the CA certificate, PEM.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA's private key followed by its certificate, PEM; readable by the owner only.
const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA's subject; the same every time, so a kept key and certificate always match.
const CA_COMMON_NAME: &str = "fake-auth0 local development CA";
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for axum to pick them up.
const ACCEPT_QUEUE: usize = 64;

/// Where `--tls` keeps its CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The directory holding `ca.pem` and `ca-key.pem` (created if missing).
    pub dir: PathBuf,
}

impl TlsSettings {
    /// The CA directory: `<data-dir>/` when there is a data dir, otherwise
    /// `$XDG_CACHE_HOME/fake-auth0/`, `$HOME/.cache/fake-auth0/`, or
    /// `<temp dir>/fake-auth0/`, the first that can be named.
    pub fn in_data_dir_or_cache(data_dir: Option<&Path>) -> TlsSettings {
        let dir = match data_dir {
            Some(dir) => dir.to_path_buf(),
            None => std::env::var_os("XDG_CACHE_HOME")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|value| !value.is_empty())
                        .map(|home| PathBuf::from(home).join(".cache"))
                })
                .unwrap_or_else(std::env::temp_dir)
                .join("fake-auth0"),
        };
        TlsSettings { dir }
    }

    /// The CA certificate file clients should trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join(CA_CERT_FILE)
    }

    /// Makes the CA if this directory has none yet, and (re)writes `ca.pem`. Returns the
    /// path of `ca.pem`. Safe to call from several processes at once: exactly one CA wins.
    pub fn ensure_ca(&self) -> anyhow::Result<PathBuf> {
        self.load_or_create_ca().map(|_| self.ca_file())
    }

    fn load_or_create_ca(&self) -> anyhow::Result<LocalCa> {
        std::fs::create_dir_all(&self.dir).map_err(|error| {
            anyhow::anyhow!(
                "cannot create the TLS directory {}: {error}",
                self.dir.display()
            )
        })?;
        let key_path = self.dir.join(CA_KEY_FILE);
        if !key_path.exists() {
            let fresh = LocalCa::generate()?;
            // Written under a private name and then linked into place: the link fails if
            // another process got there first, and then its CA is the one used.
            let temporary = self
                .dir
                .join(format!(".{CA_KEY_FILE}.{}", std::process::id()));
            write_private(&temporary, &fresh.key_and_cert_pem())?;
            let linked = std::fs::hard_link(&temporary, &key_path);
            let _ = std::fs::remove_file(&temporary);
            if let Err(error) = linked
                && error.kind() != std::io::ErrorKind::AlreadyExists
            {
                return Err(anyhow::anyhow!(
                    "cannot write {}: {error}",
                    key_path.display()
                ));
            }
        }
        let pem = std::fs::read_to_string(&key_path)
            .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", key_path.display()))?;
        let ca = LocalCa::parse(&pem).map_err(|error| {
            anyhow::anyhow!(
                "{} is not a fake-auth0 CA ({error}); delete it to make a new one",
                key_path.display()
            )
        })?;
        let ca_file = self.ca_file();
        let temporary = self
            .dir
            .join(format!(".{CA_CERT_FILE}.{}", std::process::id()));
        std::fs::write(&temporary, &ca.cert_pem)
            .and_then(|()| std::fs::rename(&temporary, &ca_file))
            .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", ca_file.display()))?;
        Ok(ca)
    }

    /// Loads (or makes) the CA and signs a server certificate for the issuer's host.
    pub fn server(&self, issuer: &Url) -> anyhow::Result<TlsServer> {
        let ca = self.load_or_create_ca()?;
        let config = ca.server_config(issuer)?;
        Ok(TlsServer {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_file: self.ca_file(),
        })
    }
}

/// The CA: its key and its certificate as written in `ca.pem`.
struct LocalCa {
    key: KeyPair,
    cert_pem: String,
}

impl LocalCa {
    /// The CA's parameters. Everything an [`Issuer`] needs (subject, key usages, key
    /// identifier method) is fixed here, so a kept key signs exactly as the new one did.
    fn params() -> CertificateParams {
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, CA_COMMON_NAME);
        name.push(
            DnType::OrganizationName,
            "fake-auth0 (development and tests only)",
        );
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params
    }

    fn generate() -> anyhow::Result<LocalCa> {
        let key = KeyPair::generate()?;
        let mut params = Self::params();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(10 * 365);
        let cert = params.self_signed(&key)?;
        Ok(LocalCa {
            key,
            cert_pem: cert.pem(),
        })
    }

    fn key_and_cert_pem(&self) -> String {
        format!("{}{}", self.key.serialize_pem(), self.cert_pem)
    }

    fn parse(pem: &str) -> anyhow::Result<LocalCa> {
        let key = KeyPair::from_pem(pem)?;
        CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| anyhow::anyhow!("no certificate: {error}"))?;
        let begin = pem
            .find("-----BEGIN CERTIFICATE-----")
            .ok_or_else(|| anyhow::anyhow!("no certificate"))?;
        Ok(LocalCa {
            key,
            cert_pem: pem[begin..].to_owned(),
        })
    }

    /// A rustls server configuration with a fresh server certificate signed by this CA.
    fn server_config(&self, issuer: &Url) -> anyhow::Result<rustls::ServerConfig> {
        let server_key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.subject_alt_names = server_names(issuer)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        // Some clients refuse server certificates valid for more than about a year.
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(365);
        let issuer = Issuer::new(Self::params(), &self.key);
        let cert = params.signed_by(&server_key, &issuer)?;
        let chain = vec![cert.der().clone()];
        let key = PrivateKeyDer::try_from(server_key.serialize_der())
            .map_err(|error| anyhow::anyhow!("server key: {error}"))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        // HTTP/1.1 only, as over plain HTTP: service-kit's serving loop bounds every
        // HTTP/1.1 connection by its header read timeout, and hyper has no such timer for an
        // HTTP/2 connection that sits open with no stream.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Subject alternative names: loopback by name and address, and the issuer's host.
fn server_names(issuer: &Url) -> anyhow::Result<Vec<SanType>> {
    let mut names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
    ];
    let extra = match issuer.host() {
        Some(Host::Domain(domain)) => Some(SanType::DnsName(domain.try_into()?)),
        Some(Host::Ipv4(address)) => Some(SanType::IpAddress(address.into())),
        Some(Host::Ipv6(address)) => Some(SanType::IpAddress(address.into())),
        None => None,
    };
    if let Some(extra) = extra
        && !names.contains(&extra)
    {
        names.push(extra);
    }
    Ok(names)
}

/// Writes a file only its owner can read.
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
    file.write_all(contents.as_bytes())
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
    Ok(())
}

/// A server certificate ready to serve, and the CA file that makes clients trust it.
pub struct TlsServer {
    acceptor: TlsAcceptor,
    ca_file: PathBuf,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl TlsServer {
    /// The CA certificate clients should trust (`SSL_CERT_FILE`, `--ca-file`).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Serves `app` over HTTPS on `listener` with the default limits until `shutdown`
    /// resolves (for test servers of documents); see [`TlsServer::serve_within`].
    pub async fn serve(
        self,
        listener: TcpListener,
        app: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_within(
            listener,
            app,
            service_kit::ServerLimits::default(),
            shutdown,
        )
        .await
    }

    /// Serves `app` over HTTPS on `listener` within `limits` until `shutdown` resolves, then
    /// drains open connections (service-kit's serving loop, as with plain HTTP). Requests
    /// carry `ConnectInfo<SocketAddr>`, as with plain HTTP.
    pub async fn serve_within(
        self,
        listener: TcpListener,
        app: Router,
        limits: service_kit::ServerLimits,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let listener = TlsListener::new(listener, self.acceptor)?;
        service_kit::serve_on(listener, app, limits, shutdown).await
    }
}

/// Aborts the accept loop when the listener is dropped (at shutdown).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// TLS connections whose handshake has finished.
struct TlsListener {
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    _accept_loop: AbortOnDrop,
}

impl TlsListener {
    fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (sender, handshaken) = mpsc::channel(ACCEPT_QUEUE);
        let accept_loop = tokio::spawn(accept_loop(listener, acceptor, sender));
        Ok(TlsListener {
            handshaken,
            local_addr,
            _accept_loop: AbortOnDrop(accept_loop),
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // See service_kit::serve: Nagle's algorithm adds ~40 ms to streamed replies.
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    // The server is shutting down when nobody receives.
                    let _ = sender.send((stream, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when the listener is dropped; never reached.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("fake-auth0-tls-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let settings = TlsSettings { dir: dir.clone() };
        let first = settings.ensure_ca().unwrap();
        let pem = std::fs::read_to_string(&first).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        settings
            .server(&Url::parse("https://auth.example.test:4000/").unwrap())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(settings.ensure_ca().unwrap()).unwrap(),
            pem
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn server_names_cover_loopback_and_the_issuer_host() {
        let names = server_names(&Url::parse("https://auth.example.test/").unwrap()).unwrap();
        assert_eq!(names.len(), 4);
        let names = server_names(&Url::parse("https://localhost:4000/").unwrap()).unwrap();
        assert_eq!(names.len(), 3);
    }
}
