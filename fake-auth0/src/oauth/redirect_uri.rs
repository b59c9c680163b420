//! Redirect URIs: which ones a client may be sent back to at `/authorize`, and which ones a
//! client may register.
//!
//! A requested URI must equal a registered callback exactly, except that an `http`
//! callback on a loopback host matches on any port (RFC 8252 §7.3: native apps listen on
//! an ephemeral port). A URI with a fragment never matches (RFC 6749 §3.1.2).

use url::{Host, Url};

/// Whether a URL's host is a loopback address (`localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `requested` matches one of the `callbacks` a client registered.
pub(crate) fn matches_callback(callbacks: &[String], requested: &str) -> bool {
    let Ok(requested_url) = Url::parse(requested) else {
        return false;
    };
    if requested_url.fragment().is_some() {
        return false;
    }
    callbacks.iter().any(|callback| {
        if callback == requested {
            return true;
        }
        let Ok(registered) = Url::parse(callback) else {
            return false;
        };
        registered.scheme() == "http"
            && requested_url.scheme() == "http"
            && is_loopback(&registered)
            && registered.host_str() == requested_url.host_str()
            && registered.path() == requested_url.path()
            && registered.query() == requested_url.query()
    })
}

/// Whether a client may register `uri` as a redirect URI (RFC 7591 registrations and
/// Client ID Metadata Documents alike): absolute, no fragment, https or loopback http
/// (RFC 8252 §7.3). The error says what is wrong with it.
pub(crate) fn check_registrable(uri: &str) -> Result<(), String> {
    let parsed = Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URL"))?;
    if parsed.fragment().is_some() {
        return Err(format!("{uri} must not have a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        _ => Err(format!(
            "{uri} must use https, or http on a loopback address"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tenant;

    fn check(requested: &str, allowed: bool) {
        let tenant = Tenant::demo();
        let client = tenant
            .clients
            .iter()
            .find(|c| c.client_id == "demo-cli")
            .unwrap();
        assert_eq!(
            matches_callback(&client.callbacks, requested),
            allowed,
            "{requested}"
        );
    }

    #[test]
    fn loopback_callbacks_match_on_any_port_and_nothing_else() {
        check("http://localhost/callback", true);
        check("http://localhost:51234/callback", true);
        check("http://127.0.0.1:8080/callback", true);
        check("http://localhost:51234/other", false);
        check("https://localhost:51234/callback", false);
        check("http://evil.example/callback", false);
        check("http://localhost/callback#frag", false);
        check("http://localhost/callback?x=1", false);
    }
}
