//! Extra root certificates for outbound HTTPS (`--ca-file`), e.g. the local CA of
//! `fake-auth0 --tls`, read once at start so a wrong file is reported before any request.

use std::{io, path::Path};

/// Reads a PEM file of one or more CA certificates to trust for outbound HTTPS in addition
/// to the system's roots (add them with `reqwest::ClientBuilder::tls_certs_merge`).
///
/// The error names the file, so a wrong `--ca-file` is reported at start, not as a TLS
/// failure on the first request.
pub fn read_ca_file(path: &Path) -> io::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|error| {
        io::Error::new(error.kind(), format!("CA file {}: {error}", path.display()))
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CA file {}: not PEM certificates: {error}", path.display()),
        )
    })?;
    if certificates.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CA file {}: no certificate in it", path.display()),
        ));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_its_name() {
        let path = std::env::temp_dir().join(format!("service-kit-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let error = read_ca_file(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        let missing = read_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );
    }
}
