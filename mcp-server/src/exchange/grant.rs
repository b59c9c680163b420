//! What a token exchange asks the IdP for, apart from the subject token and the client's
//! credentials: the mode, the audience and the scope, and the RFC 8693 form they make.
//!
//! Plain data, no HTTP: the exchanger sends the form this builds, and the cache keys its
//! entries by the same grant, so two grants can never share a token.

/// The grant type of RFC 8693 §2.1.
pub(crate) const TOKEN_EXCHANGE_GRANT_TYPE: &str =
    "urn:ietf:params:oauth:grant-type:token-exchange";

/// Which token exchange the IdP is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExchangeMode {
    /// Auth0's Custom Token Exchange: `subject_token_type` is the custom URI that selects the
    /// tenant's token exchange profile (whose Action validates the subject token), e.g.
    /// `urn:fastmcp:mcp` (MCP_AUTH0_SUBJECT_TOKEN_TYPE).
    CustomTokenExchange {
        /// RFC 8693 `subject_token_type`.
        subject_token_type: String,
    },
}

impl ExchangeMode {
    /// RFC 8693 `subject_token_type`.
    pub(crate) fn subject_token_type(&self) -> &str {
        match self {
            ExchangeMode::CustomTokenExchange { subject_token_type } => subject_token_type,
        }
    }

    /// A label naming the mode in the cache key; distinct for every mode and parameter.
    pub(crate) fn cache_label(&self) -> String {
        match self {
            ExchangeMode::CustomTokenExchange { subject_token_type } => {
                format!("custom-token-exchange {subject_token_type}")
            }
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
    pub(crate) fn without_empty_scope(mut self) -> ExchangeGrant {
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
            ("audience", self.audience.as_str()),
        ];
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
    fn an_empty_scope_is_not_sent() {
        for scope in [None, Some(String::new()), Some("  ".to_owned())] {
            let grant = ExchangeGrant::custom_token_exchange("urn:x", "aud", scope);
            assert_eq!(grant.scope, None);
            assert!(grant.form("t").iter().all(|(name, _)| *name != "scope"));
        }
    }
}
