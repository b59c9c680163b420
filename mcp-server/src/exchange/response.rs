//! The checks of the token endpoint's answer, as oauth4webapi's
//! `processGenericAccessTokenResponse` makes them (see the module docs of `exchange`).
//!
//! No HTTP here: the exchanger hands in the status, whether the body is JSON and the body.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{ExchangeError, Stage};
use super::token::{AccessToken, ExchangedToken};

/// The most of an IdP's `error_description` we keep: it ends up in a tool's error text.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Checks a token endpoint answer as oauth4webapi's `processGenericAccessTokenResponse`
/// does (see the module documentation).
pub(crate) fn process_token_response(
    status: u16,
    is_json: bool,
    body: &[u8],
) -> Result<ExchangedToken, ExchangeError> {
    let stage = Stage::TokenEndpoint;
    if status != 200 {
        return Err(oauth_error(status, body));
    }
    let json = json_object(stage, is_json, body)?;
    let malformed = |detail| ExchangeError::Malformed { stage, detail };
    let non_empty = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let access_token = non_empty("access_token")
        .ok_or(malformed("access_token is missing or not a string"))?
        .to_owned();
    let token_type = non_empty("token_type")
        .ok_or(malformed("token_type is missing or not a string"))?
        .to_ascii_lowercase();
    if token_type != "bearer" {
        // oauth4webapi also allows `dpop`, which needs a proof key this client does not have.
        return Err(malformed("token_type is not bearer"));
    }
    let expires_in = match json.get("expires_in") {
        None => None,
        Some(value) => Some(
            parse_expires_in(value).ok_or(malformed("expires_in is not a non-negative number"))?,
        ),
    };
    let optional_string = |name: &'static str, detail| match json.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(detail)),
    };
    let scope = optional_string("scope", "scope is not a string")?;
    let issued_token_type =
        optional_string("issued_token_type", "issued_token_type is not a string")?;
    // An ID or refresh token is never used here; oauth4webapi only checks their types.
    optional_string("id_token", "id_token is not a string")?;
    optional_string("refresh_token", "refresh_token is not a string")?;
    Ok(ExchangedToken {
        access_token: AccessToken::new(access_token),
        token_type,
        expires_in,
        scope,
        issued_token_type,
    })
}

/// `expires_in` as a number, or a numeric string as oauth4webapi's `parseFloat` accepts.
fn parse_expires_in(value: &Value) -> Option<Duration> {
    let seconds = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// A non-200 answer: an RFC 6749 §5.2 error if the body is one, else the bare status.
fn oauth_error(status: u16, body: &[u8]) -> ExchangeError {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return ExchangeError::UnexpectedStatus {
            stage: Stage::TokenEndpoint,
            status,
        };
    };
    let Some(error) = json.get("error").and_then(Value::as_str) else {
        return ExchangeError::UnexpectedStatus {
            stage: Stage::TokenEndpoint,
            status,
        };
    };
    ExchangeError::Refused {
        status,
        error: shorten(error),
        description: json
            .get("error_description")
            .and_then(Value::as_str)
            .map(shorten),
        hint: None,
    }
}

/// Keeps IdP-provided text short and printable: it ends up in logs and tool results.
fn shorten(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        out.push('…');
    }
    out
}

fn json_object(
    stage: Stage,
    is_json: bool,
    body: &[u8],
) -> Result<Map<String, Value>, ExchangeError> {
    if !is_json {
        return Err(ExchangeError::Malformed {
            stage,
            detail: "the answer is not application/json",
        });
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ExchangeError::Malformed {
            stage,
            detail: "the answer is not a JSON object",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_response(body: &str) -> Result<ExchangedToken, ExchangeError> {
        process_token_response(200, true, body.as_bytes())
    }

    fn malformed(detail: &'static str) -> ExchangeError {
        ExchangeError::Malformed {
            stage: Stage::TokenEndpoint,
            detail,
        }
    }

    #[test]
    fn a_token_response_like_auth0s_is_accepted() {
        let token = token_response(
            r#"{"access_token":"at","expires_in":86400,"token_type":"Bearer",
               "issued_token_type":"urn:ietf:params:oauth:token-type:access_token","scope":"read:private"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token.secret(), "at");
        assert_eq!(token.token_type, "bearer");
        assert_eq!(token.expires_in, Some(Duration::from_secs(86400)));
        assert_eq!(token.scope.as_deref(), Some("read:private"));
        assert_eq!(
            token.issued_token_type.as_deref(),
            Some("urn:ietf:params:oauth:token-type:access_token")
        );
    }

    #[test]
    fn token_responses_that_break_the_rules_are_malformed() {
        let check = |body: &str, expected: &'static str| {
            assert_eq!(
                token_response(body).unwrap_err(),
                malformed(expected),
                "{body}"
            );
        };
        check("[]", "the answer is not a JSON object");
        check("not json", "the answer is not a JSON object");
        check(
            r#"{"token_type":"bearer","expires_in":1}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":"","token_type":"bearer"}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":1,"token_type":"bearer"}"#,
            "access_token is missing or not a string",
        );
        check(
            r#"{"access_token":"a"}"#,
            "token_type is missing or not a string",
        );
        check(
            r#"{"access_token":"a","token_type":"mac"}"#,
            "token_type is not bearer",
        );
        check(
            r#"{"access_token":"a","token_type":"DPoP"}"#,
            "token_type is not bearer",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","expires_in":"soon"}"#,
            "expires_in is not a non-negative number",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","expires_in":-1}"#,
            "expires_in is not a non-negative number",
        );
        check(
            r#"{"access_token":"a","token_type":"bearer","scope":["read"]}"#,
            "scope is not a string",
        );
    }

    #[test]
    fn a_token_response_that_is_not_json_is_malformed() {
        let err =
            process_token_response(200, false, br#"{"access_token":"a","token_type":"bearer"}"#)
                .unwrap_err();
        assert_eq!(err, malformed("the answer is not application/json"));
    }

    #[test]
    fn expires_in_may_be_a_numeric_string_as_oauth4webapi_allows() {
        let token =
            token_response(r#"{"access_token":"a","token_type":"bearer","expires_in":"60"}"#)
                .unwrap();
        assert_eq!(token.expires_in, Some(Duration::from_secs(60)));
    }

    #[test]
    fn an_oauth_error_answer_carries_its_code_and_a_short_description() {
        let long = "x".repeat(500);
        let body = format!(r#"{{"error":"invalid_grant","error_description":"{long}"}}"#);
        let err = process_token_response(403, true, body.as_bytes()).unwrap_err();
        let ExchangeError::Refused {
            status,
            error,
            description,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((*status, error.as_str()), (403, "invalid_grant"));
        assert_eq!(
            description.as_ref().unwrap().chars().count(),
            MAX_DESCRIPTION_CHARS + 1
        );
        assert!(
            err.to_string().starts_with(
                "the identity provider refused the token exchange: invalid_grant (xxx"
            )
        );
    }

    #[test]
    fn a_non_200_answer_without_an_oauth_error_names_the_status() {
        for (status, body) in [
            (502, "<html>bad gateway</html>"),
            (201, r#"{"access_token":"a"}"#),
        ] {
            let err = process_token_response(status, true, body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                ExchangeError::UnexpectedStatus {
                    stage: Stage::TokenEndpoint,
                    status
                }
            );
        }
    }
}
