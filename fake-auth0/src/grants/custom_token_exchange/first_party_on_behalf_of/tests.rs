//! Unit tests of the first-party on-behalf-of template's decisions, one per branch of the
//! template.

use std::sync::OnceLock;

use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaEncoding};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};

use super::FirstPartyOnBehalfOf;
use crate::grants::custom_token_exchange::action::{
    CustomTokenExchangeAction, Decision, Event, SecretToken, TenantView,
};
use crate::model::FirstPartyOnBehalfOfSecrets;
use crate::oauth::ErrorCode;

const ISSUER: &str = "http://localhost:4000/";
const MCP: &str = "http://localhost:3001/";
const UPSTREAM: &str = "http://localhost:8787/";
const CLIENT: &str = "mcp-server-client";

/// A test signing key, so these tests can also sign PS256 and with a foreign key.
struct TestKey {
    key_pair: KeyPair,
    kid: String,
}

impl TestKey {
    fn generate(kid: &str) -> Self {
        Self {
            key_pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
            kid: kid.to_owned(),
        }
    }

    fn decoding_key(&self) -> DecodingKey {
        let components: PublicKeyComponents<Vec<u8>> = self.key_pair.public_key().into();
        DecodingKey::from_rsa_raw_components(&components.n, &components.e)
    }

    fn sign(&self, alg: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": alg, "typ": "at+jwt"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims).unwrap(), &mut token);
        let padding: &'static dyn RsaEncoding = match alg {
            "PS256" => &RSA_PSS_SHA256,
            _ => &RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                padding,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .unwrap();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        token
    }

    fn sign_rs256(&self, claims: &Value) -> String {
        self.sign("RS256", Some(&self.kid), claims)
    }
}

fn tenant_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate("tenant-key"))
}

/// Another key under the tenant key's `kid`, so only the signature check can tell.
fn foreign_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate("tenant-key"))
}

fn tenant_keys() -> &'static Vec<(String, DecodingKey)> {
    static KEYS: OnceLock<Vec<(String, DecodingKey)>> = OnceLock::new();
    KEYS.get_or_init(|| vec![(tenant_key().kid.clone(), tenant_key().decoding_key())])
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// The claims of a valid MCP access token of admin.
fn subject_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "auth0|admin",
        "aud": MCP,
        "iat": now(),
        "exp": now() + 600,
        "scope": "tool:greet",
        "client_id": "demo-cli",
    })
}

fn config() -> FirstPartyOnBehalfOfSecrets {
    FirstPartyOnBehalfOfSecrets {
        subject_token_audience: MCP.to_owned(),
        allowed_client_ids: vec![CLIENT.to_owned()],
        allowed_target_audiences: vec![UPSTREAM.to_owned()],
        allowed_scopes: vec!["read:private".to_owned(), "offline_access".to_owned()],
    }
}

/// A request as the MCP server sends it; each test changes one thing.
struct Request {
    client_id: &'static str,
    audience: Option<&'static str>,
    scopes: Vec<String>,
    subject_token: String,
}

impl Request {
    fn valid() -> Self {
        Self {
            client_id: CLIENT,
            audience: Some(UPSTREAM),
            scopes: vec!["read:private".to_owned()],
            subject_token: tenant_key().sign_rs256(&subject_claims()),
        }
    }

    fn with_claims(claims: &Value) -> Self {
        Self {
            subject_token: tenant_key().sign_rs256(claims),
            ..Self::valid()
        }
    }

    fn decide(&self) -> Decision {
        let subject_token = SecretToken::new(self.subject_token.clone());
        let event = Event {
            client_id: self.client_id,
            client_name: "MCP Server Client",
            resource_server: self.audience,
            requested_scopes: &self.scopes,
            subject_token: &subject_token,
            subject_token_type: "urn:fastmcp:mcp",
            actor_token: None,
            actor_token_type: None,
            organization: None,
            request_body: &[],
        };
        let tenant = TenantView {
            issuer: ISSUER,
            keys: tenant_keys(),
            now: now(),
        };
        FirstPartyOnBehalfOf::new(&config()).execute(&event, &tenant)
    }
}

fn rejected(reason: &str) -> Decision {
    Decision::reject_invalid_subject_token(reason)
}

#[test]
fn a_valid_subject_token_sets_its_subject_as_the_user() {
    assert_eq!(
        Request::valid().decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
}

#[test]
fn a_ps256_subject_token_is_accepted() {
    let request = Request {
        subject_token: tenant_key().sign("PS256", Some("tenant-key"), &subject_claims()),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
}

#[test]
fn no_requested_scope_is_fine() {
    let request = Request {
        scopes: Vec::new(),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
}

#[test]
fn an_empty_subject_token_is_denied_first() {
    let request = Request {
        subject_token: String::new(),
        client_id: "someone-else",
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::deny(ErrorCode::InvalidRequest, "subject_token is required")
    );
}

#[test]
fn a_client_not_in_the_allow_list_is_unauthorized_before_the_token_is_looked_at() {
    let request = Request {
        client_id: "demo-cli",
        subject_token: "garbage".to_owned(),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::deny(
            ErrorCode::UnauthorizedClient,
            "This client is not authorized to perform token exchange"
        )
    );
}

#[test]
fn a_missing_audience_is_an_invalid_request() {
    let request = Request {
        audience: None,
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::deny(ErrorCode::InvalidRequest, "No target audience specified")
    );
}

#[test]
fn an_audience_not_in_the_allow_list_is_an_invalid_target() {
    let request = Request {
        audience: Some(MCP),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::deny(
            ErrorCode::InvalidTarget,
            "The requested audience is not permitted"
        )
    );
}

#[test]
fn an_expired_subject_token_is_rejected() {
    let mut claims = subject_claims();
    claims["exp"] = json!(now() - 60);
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("The subject token has expired")
    );
}

#[test]
fn expiry_has_five_seconds_of_leeway() {
    let mut claims = subject_claims();
    claims["exp"] = json!(now() - 2);
    assert_eq!(
        Request::with_claims(&claims).decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
    claims["exp"] = json!(now() - 10);
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("The subject token has expired")
    );
}

#[test]
fn a_token_signed_by_another_key_fails_signature_verification() {
    let request = Request {
        subject_token: foreign_key().sign_rs256(&subject_claims()),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        rejected("Token signature verification failed")
    );
}

#[test]
fn an_unknown_kid_finds_no_key() {
    let request = Request {
        subject_token: tenant_key().sign("RS256", Some("rotated-away"), &subject_claims()),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        rejected("No matching signing key found for token")
    );
}

#[test]
fn a_token_without_kid_uses_the_only_key() {
    let request = Request {
        subject_token: tenant_key().sign("RS256", None, &subject_claims()),
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
}

#[test]
fn wrong_issuer_and_audience_fail_claim_validation() {
    let mut claims = subject_claims();
    claims["iss"] = json!("https://evil.example/");
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("Token claim 'iss' validation failed")
    );

    // A token for the upstream API itself is not a token for the MCP server.
    let mut claims = subject_claims();
    claims["aud"] = json!(UPSTREAM);
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("Token claim 'aud' validation failed")
    );

    let mut claims = subject_claims();
    claims["aud"] = json!([MCP, format!("{ISSUER}userinfo")]);
    assert_eq!(
        Request::with_claims(&claims).decide(),
        Decision::SetUser("auth0|admin".to_owned())
    );
}

#[test]
fn a_token_without_exp_is_rejected() {
    let mut claims = subject_claims();
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("Token claim 'exp' validation failed")
    );
}

#[test]
fn malformed_tokens_and_other_algorithms_are_invalid() {
    let hs256 = {
        let key = jsonwebtoken::EncodingKey::from_secret(b"secret").unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &subject_claims(), &key).unwrap()
    };
    let unsigned = {
        let valid = Request::valid().subject_token;
        let (rest, _) = valid.rsplit_once('.').unwrap();
        let (_, claims) = rest.split_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        format!("{header}.{claims}.")
    };
    for token in ["garbage", "a.b.c", &hs256, &unsigned] {
        let request = Request {
            subject_token: token.to_owned(),
            ..Request::valid()
        };
        assert_eq!(
            request.decide(),
            rejected("The subject token is invalid"),
            "{token}"
        );
    }
}

#[test]
fn a_subject_that_is_not_a_string_is_rejected() {
    for sub in [json!(42), json!(""), Value::Null] {
        let mut claims = subject_claims();
        claims["sub"] = sub;
        assert_eq!(
            Request::with_claims(&claims).decide(),
            rejected("Token missing valid subject claim")
        );
    }
}

#[test]
fn a_sender_constrained_token_is_not_eligible() {
    let mut claims = subject_claims();
    claims["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
    assert_eq!(
        Request::with_claims(&claims).decide(),
        rejected("Sender-constrained token not eligible for exchange")
    );
}

#[test]
fn scopes_outside_the_allow_list_are_named() {
    let request = Request {
        scopes: vec![
            "read:private".to_owned(),
            "write:private".to_owned(),
            "tool:greet".to_owned(),
        ],
        ..Request::valid()
    };
    assert_eq!(
        request.decide(),
        Decision::deny(
            ErrorCode::InvalidScope,
            "Unauthorized scopes requested: write:private, tool:greet"
        )
    );
}

#[test]
fn secret_tokens_are_redacted_in_debug_output() {
    let token = SecretToken::new("eyJhbGciOi.secret.part".to_owned());
    let debug = format!("{token:?}");
    assert!(!debug.contains("eyJhbGciOi"), "{debug}");
}
