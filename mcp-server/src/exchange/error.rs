//! Why an exchange failed, as one closed set: the tool's error text and the metrics' outcome
//! label both come from it.

use std::fmt;

use bearer_auth::discovery::DiscoveryError;

/// Which request to the IdP failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `GET {issuer}.well-known/openid-configuration`.
    Discovery,
    /// `POST {token_endpoint}`.
    TokenEndpoint,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Discovery => "discovery",
            Stage::TokenEndpoint => "token endpoint",
        })
    }
}

/// Why an exchange failed. The messages are fit for a tool's error text: they never hold
/// a token or a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// No connection to the IdP (refused, DNS, TLS, reset).
    #[error("the identity provider could not be reached ({stage})")]
    Unreachable { stage: Stage },
    /// The IdP did not answer within the configured time.
    #[error("the identity provider did not answer in time ({stage})")]
    Timeout { stage: Stage },
    /// The IdP refused the exchange with an RFC 6749 §5.2 error response.
    #[error(
        "the identity provider refused the token exchange: {error}{}{}",
        describe(.description),
        to_fix(.hint)
    )]
    Refused {
        /// The HTTP status of the answer.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_grant`.
        error: String,
        /// The IdP's `error_description`, shortened.
        description: Option<String>,
        /// What to change so the exchange succeeds, when the mode knows
        /// (`ExchangeMode::refusal_hint`).
        hint: Option<&'static str>,
    },
    /// A status other than the expected one, without an OAuth error body.
    #[error("the identity provider answered HTTP {status} ({stage})")]
    UnexpectedStatus { stage: Stage, status: u16 },
    /// An answer that does not follow the protocol.
    #[error("the identity provider's answer was malformed ({stage}): {detail}")]
    Malformed { stage: Stage, detail: &'static str },
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

fn to_fix(hint: &Option<&'static str>) -> String {
    hint.map(|h| format!("; to fix: {h}")).unwrap_or_default()
}

impl ExchangeError {
    /// The error with what to fix for a refusal of an exchange of `mode`.
    pub(crate) fn with_hint(mut self, mode: &super::ExchangeMode) -> Self {
        if let ExchangeError::Refused {
            status,
            error,
            description,
            hint,
        } = &mut self
        {
            *hint = mode.refusal_hint(*status, error, description.as_deref());
        }
        self
    }

    /// The metric label of this failure (`mcp_token_exchanges_total{outcome}`).
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            ExchangeError::Unreachable { .. } => "unreachable",
            ExchangeError::Timeout { .. } => "timeout",
            ExchangeError::Refused { .. } => "refused",
            ExchangeError::UnexpectedStatus { .. } => "unexpected_status",
            ExchangeError::Malformed { .. } => "malformed",
        }
    }

    /// A failed request: the cause goes to the log, not to the caller (reqwest's message
    /// names only the URL anyway).
    pub(crate) fn transport(stage: Stage, err: &reqwest::Error) -> Self {
        tracing::warn!(%stage, error = %err, "token exchange request failed");
        if err.is_timeout() {
            ExchangeError::Timeout { stage }
        } else {
            ExchangeError::Unreachable { stage }
        }
    }

    /// The token endpoint's discovery failed; the full cause is logged here.
    pub(crate) fn discovery(err: &DiscoveryError) -> Self {
        tracing::warn!(error = %err, "discovering the token endpoint failed");
        let stage = Stage::Discovery;
        let malformed = |detail| ExchangeError::Malformed { stage, detail };
        match err {
            DiscoveryError::Timeout { .. } => ExchangeError::Timeout { stage },
            DiscoveryError::Status { status, .. } => ExchangeError::UnexpectedStatus {
                stage,
                status: *status,
            },
            DiscoveryError::TooLarge { .. } => malformed("the answer is too large"),
            DiscoveryError::NotJson { .. } => malformed("the answer is not application/json"),
            DiscoveryError::NotAnObject { .. } => malformed("the answer is not a JSON object"),
            DiscoveryError::IssuerMismatch { .. } => {
                malformed("the discovery document names another issuer")
            }
            DiscoveryError::MissingEndpoint { .. } => {
                malformed("the discovery document has no valid token_endpoint")
            }
            // Unreachable, and whatever bearer-auth adds later: no usable answer came.
            _ => ExchangeError::Unreachable { stage },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_failures_keep_their_meaning_for_the_caller() {
        let url = "https://tenant.example/.well-known/openid-configuration".to_owned();
        let malformed = |detail| ExchangeError::Malformed {
            stage: Stage::Discovery,
            detail,
        };
        for (failure, expected) in [
            (
                DiscoveryError::Unreachable {
                    url: url.clone(),
                    cause: "connection refused".to_owned(),
                },
                ExchangeError::Unreachable {
                    stage: Stage::Discovery,
                },
            ),
            (
                DiscoveryError::Timeout { url: url.clone() },
                ExchangeError::Timeout {
                    stage: Stage::Discovery,
                },
            ),
            (
                DiscoveryError::Status {
                    url: url.clone(),
                    status: 404,
                },
                ExchangeError::UnexpectedStatus {
                    stage: Stage::Discovery,
                    status: 404,
                },
            ),
            (
                DiscoveryError::IssuerMismatch {
                    url: url.clone(),
                    found: Some("https://tenant.example".to_owned()),
                    expected: "https://tenant.example/".to_owned(),
                },
                malformed("the discovery document names another issuer"),
            ),
            (
                DiscoveryError::MissingEndpoint {
                    issuer: "https://tenant.example/".to_owned(),
                    field: "token_endpoint",
                },
                malformed("the discovery document has no valid token_endpoint"),
            ),
            (
                DiscoveryError::NotJson { url },
                malformed("the answer is not application/json"),
            ),
        ] {
            assert_eq!(ExchangeError::discovery(&failure), expected, "{failure}");
        }
    }
}
