//! The parameters of one Custom Token Exchange (RFC 8693 §2.1), checked for presence and
//! consistency before the client's permissions are looked at, as Auth0 does.

use super::action::SecretToken;
use crate::grants::audience::{AudienceConflict, requested_audience};
use crate::model::AudienceResourceConflict;
use crate::oauth::{ACCESS_TOKEN_TYPE, FormParams, OAuthError};

/// One exchange request. The tokens are wrapped so that they cannot reach a log line.
pub(crate) struct ExchangeRequest<'a> {
    pub subject_token: SecretToken,
    pub subject_token_type: &'a str,
    /// `audience`, or `resource` as the same thing.
    pub audience: Option<&'a str>,
    pub scopes: Vec<String>,
    pub organization: Option<&'a str>,
    /// `actor_token` with its `actor_token_type`.
    pub actor: Option<(SecretToken, &'a str)>,
}

impl<'a> ExchangeRequest<'a> {
    pub(crate) fn parse(
        params: &'a FormParams,
        conflict: AudienceResourceConflict,
    ) -> Result<Self, OAuthError> {
        let subject_token = params.require("subject_token")?;
        let subject_token_type = params.require("subject_token_type")?;
        let audience = requested_audience(params, conflict).map_err(|AudienceConflict| {
            OAuthError::invalid_request("audience and resource must not differ")
        })?;
        let actor = match (params.get("actor_token"), params.get("actor_token_type")) {
            (Some(token), Some(token_type)) => {
                Some((SecretToken::new(token.to_owned()), token_type))
            }
            (None, None) => None,
            _ => {
                return Err(OAuthError::invalid_request(
                    "actor_token and actor_token_type must be sent together",
                ));
            }
        };
        if let Some(requested) = params.get("requested_token_type")
            && requested != ACCESS_TOKEN_TYPE
        {
            return Err(OAuthError::invalid_request(
                "Invalid subject_token_type and requested_token_type combination.",
            ));
        }
        Ok(Self {
            subject_token: SecretToken::new(subject_token.to_owned()),
            subject_token_type,
            audience,
            scopes: params.scopes(),
            organization: params.get("organization"),
            actor,
        })
    }
}
