//! Request parameters parsed once, with the checks RFC 6749 asks of every endpoint.
//!
//! RFC 6749 §3.1 and §3.2: parameters must not be repeated, and a parameter sent with an
//! empty value is treated as if it were omitted. Both rules are applied here, so the
//! grants only see single, non-empty values.

use std::collections::HashMap;

use crate::oauth::error::OAuthError;

/// The parameters of one request (query string or form body).
#[derive(Debug, Clone, Default)]
pub struct FormParams {
    values: HashMap<String, String>,
}

impl FormParams {
    /// Parses `application/x-www-form-urlencoded` text, rejecting repeated parameters.
    pub fn parse_urlencoded(text: &[u8]) -> Result<FormParams, OAuthError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(text)
            .map_err(|_| OAuthError::invalid_request("The request body is not a valid form"))?;
        Self::from_pairs(pairs)
    }

    /// Builds parameters from a JSON object whose members are strings (Auth0 accepts JSON at
    /// `/oauth/token`); numbers and booleans are taken as their text.
    pub fn from_json(text: &[u8]) -> Result<FormParams, OAuthError> {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(text)
            .map_err(|_| OAuthError::invalid_request("The request body is not a JSON object"))?;
        let mut pairs = Vec::with_capacity(object.len());
        for (name, value) in object {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "Parameter {name} must be a string"
                    )));
                }
            };
            pairs.push((name, value));
        }
        Self::from_pairs(pairs)
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Result<FormParams, OAuthError> {
        let mut values = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if values.contains_key(&name) {
                return Err(OAuthError::invalid_request(format!(
                    "Parameter {name} must not be repeated"
                )));
            }
            // Empty values are kept until every name is seen, so a later duplicate of an
            // empty parameter is still caught.
            values.insert(name, value);
        }
        values.retain(|_, value| !value.is_empty());
        Ok(FormParams { values })
    }

    /// The value of a parameter, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of a required parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("Missing required parameter: {name}"))
        })
    }

    /// Every parameter, for extension grants that hand the whole request body on (Actions
    /// see it as `event.request.body`).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The space-separated `scope` parameter as a list (RFC 6749 §3.3), duplicates removed.
    pub fn scopes(&self) -> Vec<String> {
        split_scope(self.get("scope").unwrap_or_default())
    }
}

/// Splits a space-separated scope string, keeping the first of duplicates.
pub fn split_scope(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_rejected() {
        let error = FormParams::parse_urlencoded(b"grant_type=a&grant_type=b").unwrap_err();
        assert_eq!(
            error.description,
            "Parameter grant_type must not be repeated"
        );
        let error = FormParams::parse_urlencoded(b"scope=&scope=x").unwrap_err();
        assert_eq!(error.description, "Parameter scope must not be repeated");
    }

    #[test]
    fn empty_values_count_as_absent() {
        let params = FormParams::parse_urlencoded(b"scope=&audience=x%20y").unwrap();
        assert_eq!(params.get("scope"), None);
        assert_eq!(params.get("audience"), Some("x y"));
    }

    #[test]
    fn json_bodies_are_accepted() {
        let params = FormParams::from_json(br#"{"grant_type":"password","n":1}"#).unwrap();
        assert_eq!(params.get("grant_type"), Some("password"));
        assert_eq!(params.get("n"), Some("1"));
        assert!(FormParams::from_json(br#"{"scope":["a"]}"#).is_err());
        assert!(FormParams::from_json(b"[").is_err());
    }
}

/// Properties: a body as clients encode it (serde_urlencoded, which reqwest's `.form` uses;
/// or JSON) parses back into the parameters they sent.
#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn parsed(params: &FormParams) -> BTreeMap<String, String> {
        params
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    proptest! {
        #[test]
        fn a_form_body_parses_back_into_its_non_empty_parameters(
            sent in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..8),
        ) {
            let body = serde_urlencoded::to_string(&sent).expect("strings encode");
            let params = FormParams::parse_urlencoded(body.as_bytes()).expect("a valid form");
            let expected: BTreeMap<String, String> =
                sent.into_iter().filter(|(_, value)| !value.is_empty()).collect();
            prop_assert_eq!(parsed(&params), expected);
        }

        #[test]
        fn a_json_body_parses_back_into_the_same_parameters_as_the_form(
            sent in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..8),
        ) {
            let form = serde_urlencoded::to_string(&sent).expect("strings encode");
            let json = serde_json::to_vec(&sent).expect("strings encode");
            let from_form = FormParams::parse_urlencoded(form.as_bytes()).expect("a valid form");
            let from_json = FormParams::from_json(&json).expect("a JSON object of strings");
            prop_assert_eq!(parsed(&from_form), parsed(&from_json));
        }

        #[test]
        fn a_parameter_sent_twice_is_refused_whatever_its_values(
            name in any::<String>(),
            first in any::<String>(),
            second in any::<String>(),
        ) {
            let body = serde_urlencoded::to_string([(&name, &first), (&name, &second)])
                .expect("strings encode");
            let error = FormParams::parse_urlencoded(body.as_bytes()).unwrap_err();
            prop_assert_eq!(error.description, format!("Parameter {name} must not be repeated"));
        }

        #[test]
        fn a_scope_splits_into_its_distinct_words_in_order(
            words in proptest::collection::vec("[!#-\\[\\]-~]{1,8}", 0..8),
        ) {
            let scope = words.join(" ");
            let mut distinct: Vec<String> = Vec::new();
            for word in words {
                if !distinct.contains(&word) {
                    distinct.push(word);
                }
            }
            prop_assert_eq!(split_scope(&scope), distinct);
        }
    }
}
