//! What a token exchange asks the IdP for, apart from the subject token and the client's
//! credentials: the mode, the audience and the scope, and the RFC 8693 form they make.
//!
//! Two modes, chosen by configuration ([`ExchangeMode::select`], the one rule): Auth0's
//! On-Behalf-Of exchange (its MCP quickstart since 2026-04-30: both token types the
//! access-token type) and Auth0's Custom Token Exchange (a profile's custom
//! `subject_token_type`). Each mode also says what to fix when the IdP refuses it.
//!
//! Plain data, no HTTP: the exchanger sends the form this builds, and the cache keys its
//! entries by the same grant, so two grants can never share a token.

/// The grant type of RFC 8693 §2.1.
pub(crate) const TOKEN_EXCHANGE_GRANT_TYPE: &str =
    "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §3: the token type of an OAuth access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The exchange a configuration asks for explicitly (MCP_AUTH0_EXCHANGE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExchangeKind {
    /// Auth0's On-Behalf-Of token exchange.
    Obo,
    /// Auth0's Custom Token Exchange (needs MCP_AUTH0_SUBJECT_TOKEN_TYPE).
    Custom,
}

/// Which token exchange the IdP is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExchangeMode {
    /// Auth0's On-Behalf-Of token exchange: `subject_token_type` and
    /// `requested_token_type` are both the access-token type; the client must be a Custom
    /// API client for AUTH0_AUDIENCE with a user-delegated grant for the audience.
    OnBehalfOf,
    /// Auth0's Custom Token Exchange: `subject_token_type` is the custom URI that selects the
    /// tenant's token exchange profile (whose Action validates the subject token), e.g.
    /// `urn:fastmcp:mcp` (MCP_AUTH0_SUBJECT_TOKEN_TYPE).
    CustomTokenExchange {
        /// RFC 8693 `subject_token_type`.
        subject_token_type: String,
    },
}

impl std::fmt::Display for ExchangeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeMode::OnBehalfOf => f.write_str("on-behalf-of"),
            ExchangeMode::CustomTokenExchange { subject_token_type } => {
                write!(f, "custom token exchange ({subject_token_type})")
            }
        }
    }
}

impl ExchangeMode {
    /// The mode a configuration selects: `explicit` (MCP_AUTH0_EXCHANGE) wins; otherwise
    /// On-Behalf-Of when `subject_token_type` (MCP_AUTH0_SUBJECT_TOKEN_TYPE) is unset or the
    /// access-token type, as in the OBO quickstart's `.env`, and Custom Token Exchange with
    /// that profile type otherwise. The error says which variable to change.
    pub fn select(
        explicit: Option<ExchangeKind>,
        subject_token_type: Option<&str>,
    ) -> Result<ExchangeMode, String> {
        let custom = subject_token_type
            .map(str::trim)
            .filter(|t| !t.is_empty() && *t != ACCESS_TOKEN_TYPE);
        match (explicit, custom) {
            (Some(ExchangeKind::Obo) | None, None) => Ok(ExchangeMode::OnBehalfOf),
            (Some(ExchangeKind::Obo), Some(t)) => Err(format!(
                "MCP_AUTH0_EXCHANGE=obo, but MCP_AUTH0_SUBJECT_TOKEN_TYPE names a Custom Token \
                 Exchange profile ({t:?}): unset it or use MCP_AUTH0_EXCHANGE=custom"
            )),
            (Some(ExchangeKind::Custom), None) => Err(
                "MCP_AUTH0_EXCHANGE=custom needs MCP_AUTH0_SUBJECT_TOKEN_TYPE: the \
                 subject_token_type of the tenant's token exchange profile"
                    .to_owned(),
            ),
            (Some(ExchangeKind::Custom) | None, Some(t)) => Ok(ExchangeMode::CustomTokenExchange {
                subject_token_type: t.to_owned(),
            }),
        }
    }

    /// RFC 8693 `subject_token_type`.
    pub(crate) fn subject_token_type(&self) -> &str {
        match self {
            ExchangeMode::OnBehalfOf => ACCESS_TOKEN_TYPE,
            ExchangeMode::CustomTokenExchange { subject_token_type } => subject_token_type,
        }
    }

    /// A label naming the mode in the cache key; distinct for every mode and parameter.
    pub(crate) fn cache_label(&self) -> String {
        match self {
            ExchangeMode::OnBehalfOf => "on-behalf-of".to_owned(),
            ExchangeMode::CustomTokenExchange { subject_token_type } => {
                format!("custom-token-exchange {subject_token_type}")
            }
        }
    }

    /// What to fix when the IdP refuses an exchange of this mode with `status` and `error`
    /// (RFC 6749 §5.2), for the tool's error text; `None` when there is nothing specific.
    /// On-Behalf-Of: Auth0 documents the statuses (400, 401, 403), so they decide; the
    /// description only tells the depth limit and the missing grant apart.
    pub(crate) fn refusal_hint(
        &self,
        status: u16,
        error: &str,
        description: Option<&str>,
    ) -> Option<&'static str> {
        let description = description.unwrap_or_default().to_ascii_lowercase();
        match (self, status, error) {
            (ExchangeMode::OnBehalfOf, 400, _) if description.contains("depth") => Some(
                "the caller's token already carries the longest delegation chain Auth0 allows \
                 (4 nested act claims); sign in directly instead of through another service",
            ),
            (ExchangeMode::OnBehalfOf, 401, "invalid_client") => {
                Some("check MCP_AUTH0_CLIENT_ID and MCP_AUTH0_CLIENT_SECRET")
            }
            (ExchangeMode::OnBehalfOf, 401, _) => Some(
                "the caller's token was refused as subject token: AUTH0_AUDIENCE must be the \
                 resource_server_identifier of the MCP_AUTH0_CLIENT_ID client",
            ),
            (ExchangeMode::OnBehalfOf, 403, "unauthorized_client") => Some(
                "MCP_AUTH0_CLIENT_ID must be a Custom API client (app_type resource_server, \
                 resource_server_identifier = AUTH0_AUDIENCE) whose token_exchange \
                 allow_any_profile_of_type lists on_behalf_of_token_exchange",
            ),
            (ExchangeMode::OnBehalfOf, 403, _) if description.contains("grant") => Some(
                "give the MCP_AUTH0_CLIENT_ID client user-delegated access to \
                 API_AUTH0_AUDIENCE (a client grant with subject_type user and \
                 MCP_AUTH0_EXCHANGE_SCOPE)",
            ),
            (ExchangeMode::OnBehalfOf, 403, _) => Some(
                "the user lacks MCP_AUTH0_EXCHANGE_SCOPE on API_AUTH0_AUDIENCE (assign it \
                 through a role), or the client's user-delegated grant does not include it",
            ),
            _ => None,
        }
    }
}

/// What one exchange asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExchangeGrant {
    /// The flavour of token exchange.
    pub mode: ExchangeMode,
    /// RFC 8693 `audience`: the upstream API the issued token is for (API_AUTH0_AUDIENCE).
    pub audience: String,
    /// RFC 8693 `scope` (MCP_AUTH0_EXCHANGE_SCOPE); `None` or empty sends no `scope`.
    pub scope: Option<String>,
}

impl ExchangeGrant {
    /// Auth0's On-Behalf-Of exchange for `audience`.
    pub fn on_behalf_of(audience: impl Into<String>, scope: Option<String>) -> ExchangeGrant {
        ExchangeGrant {
            mode: ExchangeMode::OnBehalfOf,
            audience: audience.into(),
            scope,
        }
        .without_empty_scope()
    }

    /// Auth0's Custom Token Exchange for `audience` with the profile `subject_token_type`.
    pub fn custom_token_exchange(
        subject_token_type: impl Into<String>,
        audience: impl Into<String>,
        scope: Option<String>,
    ) -> ExchangeGrant {
        ExchangeGrant {
            mode: ExchangeMode::CustomTokenExchange {
                subject_token_type: subject_token_type.into(),
            },
            audience: audience.into(),
            scope,
        }
        .without_empty_scope()
    }

    /// The grant with an empty or blank `scope` made `None`, so it is not sent.
    pub fn without_empty_scope(mut self) -> ExchangeGrant {
        if self.scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
            self.scope = None;
        }
        self
    }

    /// The RFC 8693 §2.1 parameters for `subject_token`, in the order Auth0's SDK sends
    /// them; the client's credentials are appended by the exchanger.
    pub(crate) fn form<'a>(&'a self, subject_token: &'a str) -> Vec<(&'static str, &'a str)> {
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
            ("subject_token", subject_token),
            ("subject_token_type", self.mode.subject_token_type()),
        ];
        if self.mode == ExchangeMode::OnBehalfOf {
            form.push(("requested_token_type", ACCESS_TOKEN_TYPE));
        }
        form.push(("audience", self.audience.as_str()));
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        form
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_rfc_8693_with_the_profiles_subject_token_type() {
        let grant = ExchangeGrant::custom_token_exchange(
            "urn:fastmcp:mcp",
            "http://localhost:8787/",
            Some("read:private".to_owned()),
        );
        assert_eq!(
            grant.form("the-subject-token"),
            vec![
                ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
                ("subject_token", "the-subject-token"),
                ("subject_token_type", "urn:fastmcp:mcp"),
                ("audience", "http://localhost:8787/"),
                ("scope", "read:private"),
            ]
        );
    }

    #[test]
    fn on_behalf_of_sends_both_token_types_as_auth0_documents() {
        let grant = ExchangeGrant::on_behalf_of("http://localhost:8787/", None);
        assert_eq!(
            grant.form("the-subject-token"),
            vec![
                ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
                ("subject_token", "the-subject-token"),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("requested_token_type", ACCESS_TOKEN_TYPE),
                ("audience", "http://localhost:8787/"),
            ]
        );
    }

    #[test]
    fn the_mode_follows_the_quickstarts_env_files_and_the_explicit_choice() {
        let obo = Ok(ExchangeMode::OnBehalfOf);
        let custom = Ok(ExchangeMode::CustomTokenExchange {
            subject_token_type: "urn:fastmcp:mcp".to_owned(),
        });
        assert_eq!(ExchangeMode::select(None, None), obo);
        assert_eq!(ExchangeMode::select(None, Some("")), obo);
        assert_eq!(ExchangeMode::select(None, Some(ACCESS_TOKEN_TYPE)), obo);
        assert_eq!(ExchangeMode::select(None, Some("urn:fastmcp:mcp")), custom);
        let explicit = Some(ExchangeKind::Custom);
        assert_eq!(
            ExchangeMode::select(explicit, Some("urn:fastmcp:mcp")),
            custom
        );
        assert_eq!(ExchangeMode::select(Some(ExchangeKind::Obo), None), obo);
        let conflict = ExchangeMode::select(Some(ExchangeKind::Obo), Some("urn:fastmcp:mcp"));
        assert!(
            conflict
                .unwrap_err()
                .contains("MCP_AUTH0_SUBJECT_TOKEN_TYPE")
        );
        let missing = ExchangeMode::select(explicit, None);
        assert!(
            missing
                .unwrap_err()
                .contains("MCP_AUTH0_SUBJECT_TOKEN_TYPE")
        );
        assert!(ExchangeMode::select(explicit, Some(ACCESS_TOKEN_TYPE)).is_err());
    }

    #[test]
    fn every_documented_obo_refusal_says_what_to_fix() {
        let hint = |status, error, description| {
            ExchangeMode::OnBehalfOf.refusal_hint(status, error, Some(description))
        };
        let cases = [
            (
                400,
                "invalid_request",
                "Delegation chain (`act` claim) depth exceeds the maximum allowed limit of 4",
                "delegation chain",
            ),
            (
                401,
                "invalid_grant",
                "Invalid subject token",
                "resource_server_identifier",
            ),
            (
                401,
                "invalid_client",
                "Client authentication failed",
                "MCP_AUTH0_CLIENT_SECRET",
            ),
            (
                403,
                "unauthorized_client",
                "not a Custom API client",
                "Custom API client",
            ),
            (
                403,
                "access_denied",
                "no user-delegated client grant",
                "subject_type user",
            ),
            (
                403,
                "access_denied",
                "The user does not hold: read:private",
                "lacks MCP_AUTH0_EXCHANGE_SCOPE",
            ),
        ];
        for (status, error, description, expected) in cases {
            let got = hint(status, error, description).unwrap_or_default();
            assert!(got.contains(expected), "{status} {error}: {got}");
        }
        let custom = ExchangeMode::CustomTokenExchange {
            subject_token_type: "urn:x".to_owned(),
        };
        assert_eq!(custom.refusal_hint(403, "unauthorized_client", None), None);
    }

    #[test]
    fn an_empty_scope_is_not_sent() {
        for scope in [None, Some(String::new()), Some("  ".to_owned())] {
            let grant = ExchangeGrant::custom_token_exchange("urn:x", "aud", scope);
            assert_eq!(grant.scope, None);
            assert!(grant.form("t").iter().all(|(name, _)| *name != "scope"));
        }
    }
}
