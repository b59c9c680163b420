//! The exchange at the IdP: the token endpoint from discovery, then an RFC 8693 form POST
//! with `client_secret_post` client authentication.
//!
//! The HTTP adapter around the grant (`grant`) and the answer's checks (`response`). Its
//! client carries the inbound token, so it is [`crate::outbound`]'s: bounded timeouts, the
//! tenant's extra CA certificates, no redirects.

use std::time::Duration;

use bearer_auth::Issuer;
use bearer_auth::discovery::{FetchLimits, IssuerMetadata, MetadataDocument};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::config::ExchangeConfig;
use super::error::{ExchangeError, Stage};
use super::grant::ExchangeGrant;
use super::response::process_token_response;
use super::source::TokenSource;
use super::token::ExchangedToken;
use crate::metrics::Metrics;
use crate::outbound::{self, ReadError};

/// The most of an IdP answer we read: a token response or a discovery document is a few
/// kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Exchanges subject tokens at the IdP's token endpoint.
pub(crate) struct IdpExchanger {
    issuer: Issuer,
    client_id: String,
    client_secret: SecretString,
    grant: ExchangeGrant,
    timeout: Duration,
    http: reqwest::Client,
    /// The token endpoint from discovery; set once, on the first exchange that needs it.
    token_endpoint: tokio::sync::OnceCell<Url>,
    metrics: Metrics,
}

impl IdpExchanger {
    /// Builds the exchanger and its HTTP client; makes no request yet.
    pub(crate) fn new(config: ExchangeConfig, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let http = outbound::token_carrying_client(
            config.connect_timeout,
            config.timeout,
            &config.root_certificates,
        )?;
        Ok(Self {
            issuer: config.issuer,
            client_id: config.client_id,
            client_secret: config.client_secret,
            grant: config.grant.without_empty_scope(),
            timeout: config.timeout,
            http,
            token_endpoint: tokio::sync::OnceCell::new(),
            metrics,
        })
    }

    /// The issuer exchanges go to.
    pub(crate) fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    async fn post_exchange(&self, subject_token: &str) -> Result<ExchangedToken, ExchangeError> {
        let endpoint = self.token_endpoint().await?;
        let mut form = self.grant.form(subject_token);
        form.push(("client_id", &self.client_id));
        form.push(("client_secret", self.client_secret.expose_secret()));
        let stage = Stage::TokenEndpoint;
        let response = self
            .http
            .post(endpoint.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ExchangeError::transport(stage, &e))?;
        let status = response.status().as_u16();
        let is_json = outbound::is_json(&response);
        let body = outbound::read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::Transport(e) => ExchangeError::transport(stage, &e),
                ReadError::TooLarge => ExchangeError::Malformed {
                    stage,
                    detail: "the answer is too large",
                },
            })?;
        process_token_response(status, is_json, &body).map_err(|e| e.with_hint(&self.grant.mode))
    }

    /// The token endpoint, from the issuer's discovery document on first use.
    async fn token_endpoint(&self) -> Result<&Url, ExchangeError> {
        self.token_endpoint
            .get_or_try_init(|| async {
                let limits = FetchLimits {
                    timeout: self.timeout,
                    max_bytes: MAX_BODY_BYTES,
                };
                let metadata = IssuerMetadata::fetch_document(
                    &self.http,
                    &self.issuer,
                    MetadataDocument::OpenIdConfiguration,
                    limits,
                )
                .await
                .map_err(|e| ExchangeError::discovery(&e))?;
                let endpoint = metadata
                    .token_endpoint()
                    .map_err(|e| ExchangeError::discovery(&e))?
                    .clone();
                tracing::info!(token_endpoint = %endpoint, "discovered the token endpoint");
                Ok(endpoint)
            })
            .await
    }
}

impl TokenSource for IdpExchanger {
    fn grant(&self) -> &ExchangeGrant {
        &self.grant
    }

    async fn exchange(
        &self,
        subject_token: &str,
        _subject_expires_at: u64,
    ) -> Result<ExchangedToken, ExchangeError> {
        let result = self.post_exchange(subject_token).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.outcome(),
        };
        self.metrics.token_exchange(outcome);
        if let Err(err) = &result {
            tracing::warn!(error = %err, "token exchange failed");
        }
        result
    }
}
