//! Custom Token Exchange over HTTP against an in-process fake-auth0 on an ephemeral port:
//! the MCP server's on-behalf-of exchange, and every rejection a client can run into.
//! Issued tokens are verified independently, against the JWKS the fake serves.

use fake_auth0::model::Client;

use crate::helpers::with_changes;
use fake_auth0::{App, Config, Tenant, TokenExchangeProfile};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::oneshot;

const MCP_API: &str = "http://localhost:3001/";
const UPSTREAM_API: &str = "http://localhost:8787/";
const SUBJECT_TOKEN_TYPE: &str = "urn:fastmcp:mcp";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A running fake-auth0; stops when dropped.
struct Fake {
    issuer: String,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

impl Fake {
    /// The demo tenant plus a few clients and profiles the error cases need.
    async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}/", listener.local_addr().unwrap());
        let config = Config {
            issuer: issuer.parse().unwrap(),
            tenant: test_tenant(&issuer),
            ..Config::default()
        };
        let app = App::build_on(config, listener).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Fake {
            issuer,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}oauth/token", self.issuer))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// A user's access token from the password grant of `demo-cli`.
    async fn user_token(&self, email: &str, password: &str, audience: &str, scope: &str) -> String {
        let (status, body) = self
            .token(&[
                ("grant_type", "password"),
                ("client_id", "demo-cli"),
                ("username", email),
                ("password", password),
                ("audience", audience),
                ("scope", scope),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// admin's token for the MCP server, as the MCP server receives it.
    async fn admin_mcp_token(&self) -> String {
        self.user_token("admin@example.com", "admin-pass", MCP_API, "tool:greet")
            .await
    }

    /// A machine token (sub `management-cli@clients`) for the Management API.
    async fn machine_token(&self) -> String {
        let audience = format!("{}api/v2/", self.issuer);
        let (status, body) = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", "management-cli"),
                ("client_secret", "management-secret"),
                ("audience", &audience),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The MCP server's exchange request, with `changes` applied (an empty value removes the
    /// parameter).
    async fn exchange(&self, subject_token: &str, changes: &[(&str, &str)]) -> (u16, Value) {
        let form = vec![
            ("grant_type", EXCHANGE),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
            ("subject_token", subject_token),
            ("subject_token_type", SUBJECT_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
            ("scope", "read:private"),
        ];
        self.token(&with_changes(form, changes)).await
    }

    /// Verifies a token against the served JWKS, issuer and `audience`, as a resource server
    /// would; returns the header `typ` and the claims.
    async fn verify(&self, token: &str, audience: &str) -> (Option<String>, Map<String, Value>) {
        let jwks: JwkSet = self
            .http
            .get(format!("{}.well-known/jwks.json", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .unwrap();
        (data.header.typ, data.claims)
    }
}

/// The demo tenant, plus:
/// - `basic-exchanger`: allowed to exchange, authenticating with HTTP Basic;
/// - `unlisted-exchanger`: enabled for token exchange but not in the Action's allow list;
/// - `third-party-exchanger`: enabled but third party, which Auth0 does not support;
/// - a profile `urn:test:machine` whose subject tokens are Management API tokens (so a
///   valid subject token can name no user);
/// - a profile `https://example.com/upstream` exchanging upstream tokens for MCP API tokens
///   (RFC 9068 dialect, refresh tokens allowed; `mcp-server-client` may refresh).
fn test_tenant(issuer: &str) -> Tenant {
    let mut tenant = Tenant::demo();
    let client = |yaml: &str| serde_yaml_ng::from_str::<Client>(yaml).unwrap();
    tenant.clients.push(client(
        "client_id: basic-exchanger\nclient_secret: basic-secret\nname: Basic Exchanger\n\
         token_endpoint_auth_method: client_secret_basic\n\
         token_exchange: {allow_any_profile_of_type: [custom_authentication]}\n",
    ));
    tenant.clients.push(client(
        "client_id: unlisted-exchanger\nclient_secret: unlisted-secret\nname: Unlisted\n\
         token_exchange: {allow_any_profile_of_type: [custom_authentication]}\n",
    ));
    tenant.clients.push(client(
        "client_id: third-party-exchanger\nclient_secret: third-secret\nname: Third\n\
         is_first_party: false\n\
         token_exchange: {allow_any_profile_of_type: [custom_authentication]}\n",
    ));
    let exchanger = tenant
        .clients
        .iter_mut()
        .find(|c| c.client_id == "mcp-server-client")
        .unwrap();
    exchanger
        .grant_types
        .push(serde_yaml_ng::from_str("refresh_token").unwrap());
    let profile = |yaml: &str| serde_yaml_ng::from_str::<TokenExchangeProfile>(yaml).unwrap();
    let first = &mut tenant.token_exchange_profiles[0];
    let mut value = serde_json::to_value(&*first).unwrap();
    value["action"]["secrets"]["ALLOWED_CLIENT_IDS"] =
        serde_json::json!(["mcp-server-client", "basic-exchanger"]);
    *first = serde_json::from_value(value).unwrap();
    tenant.token_exchange_profiles.push(profile(&format!(
        "id: tep_machine\nname: Machine tokens\nsubject_token_type: urn:test:machine\n\
         action:\n  template: first-party-on-behalf-of\n  secrets:\n\
         \x20   SUBJECT_TOKEN_AUDIENCE: {issuer}api/v2/\n\
         \x20   ALLOWED_CLIENT_IDS: [mcp-server-client]\n\
         \x20   ALLOWED_TARGET_AUDIENCES: [\"{UPSTREAM_API}\"]\n\
         \x20   ALLOWED_SCOPES: [read:private]\n"
    )));
    tenant.token_exchange_profiles.push(profile(&format!(
        "id: tep_to_mcp\nname: Upstream to MCP\nsubject_token_type: https://example.com/upstream\n\
         action:\n  template: first-party-on-behalf-of\n  secrets:\n\
         \x20   SUBJECT_TOKEN_AUDIENCE: \"{UPSTREAM_API}\"\n\
         \x20   ALLOWED_CLIENT_IDS: [mcp-server-client]\n\
         \x20   ALLOWED_TARGET_AUDIENCES: [\"{MCP_API}\"]\n\
         \x20   ALLOWED_SCOPES: [openid, offline_access, tool:whoami, tool:greet]\n"
    )));
    tenant
}

/// Asserts an OAuth error response: status, `error`, `error_description`, and that the
/// body does not echo the subject token.
#[track_caller]
fn assert_error(response: &(u16, Value), status: u16, error: &str, description: &str) {
    let (actual_status, body) = response;
    assert_eq!(
        (
            *actual_status,
            body["error"].as_str(),
            body["error_description"].as_str()
        ),
        (status, Some(error), Some(description)),
        "{body}"
    );
}

#[tokio::test]
async fn admin_token_for_the_mcp_server_is_exchanged_for_an_upstream_token() {
    // Arrange
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    // Act
    let (status, body) = fake.exchange(&subject, &[]).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read:private");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body.get("refresh_token").is_none(), "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_ne!(token, subject);
    let (typ, claims) = fake.verify(token, UPSTREAM_API).await;
    assert_eq!(
        typ.as_deref(),
        Some("JWT"),
        "the upstream API uses Auth0's dialect"
    );
    assert_eq!(claims["aud"], UPSTREAM_API);
    assert_eq!(claims["sub"], "auth0|admin");
    assert_eq!(claims["scope"], "read:private");
    assert_eq!(claims["azp"], "mcp-server-client");
    assert!(claims.get("act").is_none());
}

#[tokio::test]
async fn resource_works_as_audience_and_basic_authentication_is_accepted() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    let (status, body) = fake
        .exchange(&subject, &[("audience", ""), ("resource", UPSTREAM_API)])
        .await;
    assert_eq!(status, 200, "{body}");
    // Both sent and different: `audience` wins, as in Auth0's compatibility profile.
    let (status, body) = fake.exchange(&subject, &[("resource", MCP_API)]).await;
    assert_eq!(status, 200, "{body}");
    fake.verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;

    let response = fake
        .http
        .post(format!("{}oauth/token", fake.issuer))
        .basic_auth("basic-exchanger", Some("basic-secret"))
        .form(&[
            ("grant_type", EXCHANGE),
            ("subject_token", &subject),
            ("subject_token_type", SUBJECT_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
            ("scope", "read:private"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let (_, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(claims["azp"], "basic-exchanger");
}

#[tokio::test]
async fn rbac_filters_the_granted_scope_to_the_users_permissions() {
    let fake = Fake::start().await;
    let subject = fake
        .user_token("user@example.com", "user-pass", MCP_API, "tool:whoami")
        .await;

    let (status, body) = fake.exchange(&subject, &[]).await;

    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("scope").is_none(),
        "user has no read:private: {body}"
    );
    let (_, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(claims["sub"], "auth0|user");
    assert!(claims.get("scope").is_none());
}

#[tokio::test]
async fn an_rfc9068_api_gets_an_at_jwt_with_client_id_and_permissions() {
    let fake = Fake::start().await;
    let subject = fake
        .user_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;

    let (status, body) = fake
        .exchange(
            &subject,
            &[
                ("subject_token_type", "https://example.com/upstream"),
                ("audience", MCP_API),
                ("scope", "tool:greet"),
            ],
        )
        .await;

    assert_eq!(status, 200, "{body}");
    let (typ, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["client_id"], "mcp-server-client");
    assert_eq!(claims["scope"], "tool:greet");
    assert_eq!(
        claims["permissions"],
        serde_json::json!(["tool:whoami", "tool:greet"])
    );
    assert!(claims.get("jti").is_some());
}

#[tokio::test]
async fn an_actor_token_adds_an_act_claim_and_no_refresh_token() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;
    let actor = fake.machine_token().await;

    let (status, body) = fake
        .exchange(
            &subject,
            &[
                ("actor_token", &actor),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ],
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let (_, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(claims["sub"], "auth0|admin");
    assert_eq!(
        claims["act"],
        serde_json::json!({"sub": "management-cli@clients"})
    );
}

#[tokio::test]
async fn malformed_requests_are_invalid_requests() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("subject_token", "")],
            "Missing required parameter: subject_token",
        ),
        (
            &[("subject_token_type", "")],
            "Missing required parameter: subject_token_type",
        ),
        (
            &[("actor_token", "x")],
            "actor_token and actor_token_type must be sent together",
        ),
        (
            &[("actor_token_type", ACCESS_TOKEN_TYPE)],
            "actor_token and actor_token_type must be sent together",
        ),
        (
            &[("subject_token_type", "urn:acme:unknown")],
            "Invalid subject_token_type",
        ),
        // The access-token type selects On-Behalf-Of, which requires requested_token_type.
        (
            &[("subject_token_type", ACCESS_TOKEN_TYPE)],
            "Missing required parameter: requested_token_type",
        ),
        (
            &[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            )],
            "Invalid subject_token_type and requested_token_type combination.",
        ),
        (
            &[("actor_token", "x"), ("actor_token_type", "urn:acme:actor")],
            "Unsupported actor_token_type",
        ),
        (
            &[
                ("actor_token", "garbage"),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ],
            "Invalid actor_token",
        ),
        (&[("audience", "")], "No target audience specified"),
    ];
    for (changes, description) in cases {
        let response = fake.exchange(&subject, changes).await;
        assert_error(&response, 400, "invalid_request", description);
        assert!(!response.1.to_string().contains(&subject));
    }
}

#[tokio::test]
async fn clients_that_may_not_exchange_are_refused() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    let wrong_secret = fake
        .exchange(&subject, &[("client_secret", "not-the-secret")])
        .await;
    assert_eq!(wrong_secret.0, 401);
    assert_eq!(wrong_secret.1["error"], "invalid_client");

    for (client_id, secret) in [
        ("management-cli", "management-secret"),
        ("third-party-exchanger", "third-secret"),
    ] {
        let response = fake
            .exchange(
                &subject,
                &[("client_id", client_id), ("client_secret", secret)],
            )
            .await;
        assert_error(
            &response,
            403,
            "unauthorized_client",
            "The client is not authorized to use Custom Token Exchange",
        );
    }

    let public = fake
        .exchange(
            &subject,
            &[("client_id", "demo-cli"), ("client_secret", "")],
        )
        .await;
    assert_error(
        &public,
        403,
        "unauthorized_client",
        "The client is not authorized to use Custom Token Exchange",
    );

    // Enabled for token exchange, but not in the Action's ALLOWED_CLIENT_IDS.
    let unlisted = fake
        .exchange(
            &subject,
            &[
                ("client_id", "unlisted-exchanger"),
                ("client_secret", "unlisted-secret"),
            ],
        )
        .await;
    assert_error(
        &unlisted,
        400,
        "unauthorized_client",
        "This client is not authorized to perform token exchange",
    );
}

#[tokio::test]
async fn audiences_other_than_the_allowed_ones_are_refused() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    let mcp = fake
        .exchange(&subject, &[("audience", MCP_API), ("scope", "")])
        .await;
    assert_error(
        &mcp,
        400,
        "invalid_target",
        "The requested audience is not permitted",
    );

    let unknown = fake
        .exchange(&subject, &[("audience", "https://nowhere.example/")])
        .await;
    assert_error(
        &unknown,
        403,
        "access_denied",
        "Service not found: https://nowhere.example/",
    );
}

#[tokio::test]
async fn invalid_subject_tokens_are_rejected_with_the_templates_messages() {
    let fake = Fake::start().await;
    let upstream_token = fake
        .user_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;
    let other_fake = Fake::start().await;
    let foreign_token = other_fake.admin_mcp_token().await;
    let admin = fake.admin_mcp_token().await;
    let tampered = {
        let (rest, signature) = admin.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        format!("{rest}.{flipped}{}", &signature[1..])
    };

    let cases = [
        ("garbage", "The subject token is invalid"),
        (
            upstream_token.as_str(),
            "Token claim 'aud' validation failed",
        ),
        (
            foreign_token.as_str(),
            "No matching signing key found for token",
        ),
        (tampered.as_str(), "Token signature verification failed"),
    ];
    for (token, description) in cases {
        let response = fake.exchange(token, &[]).await;
        assert_error(&response, 400, "invalid_request", description);
        assert!(!response.1.to_string().contains(token));
    }
}

#[tokio::test]
async fn scopes_outside_the_actions_allow_list_are_invalid() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    let response = fake
        .exchange(&subject, &[("scope", "read:private tool:greet profile")])
        .await;

    assert_error(
        &response,
        400,
        "invalid_scope",
        "Unauthorized scopes requested: tool:greet, profile",
    );
}

#[tokio::test]
async fn the_quickstarts_exchange_scope_works_with_basic_authentication_of_the_demo_client() {
    // Arrange: the quickstart's MCP_AUTH0_EXCHANGE_SCOPE, sent as auth0-api-python's
    // get_token_by_exchange_profile sends it: HTTP Basic for a client_secret_post client.
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    // Act
    let response = fake
        .http
        .post(format!("{}oauth/token", fake.issuer))
        .basic_auth("mcp-server-client", Some("mcp-server-secret"))
        .form(&[
            ("grant_type", EXCHANGE),
            ("subject_token", &subject),
            ("subject_token_type", SUBJECT_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
            ("scope", "openid offline_access read:private"),
        ])
        .send()
        .await
        .unwrap();

    // Assert: the Action allows all three; the token carries what was granted: openid (with
    // an ID token) and read:private. No refresh token: the upstream API does not allow
    // offline access, so offline_access is not granted either.
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "openid read:private", "{body}");
    assert!(body["id_token"].is_string(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let (_, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), UPSTREAM_API)
        .await;
    assert_eq!(claims["scope"], "openid read:private");
    assert_eq!(claims["sub"], "auth0|admin");
}

#[tokio::test]
async fn a_subject_that_is_no_user_of_the_tenant_is_refused() {
    let fake = Fake::start().await;
    let machine = fake.machine_token().await;

    let response = fake
        .exchange(&machine, &[("subject_token_type", "urn:test:machine")])
        .await;

    assert_error(&response, 400, "invalid_request", "User does not exist");
}

#[tokio::test]
async fn discovery_advertises_the_token_exchange_grant() {
    let fake = Fake::start().await;
    let metadata: Value = fake
        .http
        .get(format!("{}.well-known/openid-configuration", fake.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == EXCHANGE), "{metadata}");
}

#[tokio::test]
async fn openid_adds_an_id_token_and_the_userinfo_audience() {
    let fake = Fake::start().await;
    let subject = fake
        .user_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;

    let (status, body) = fake
        .exchange(
            &subject,
            &[
                ("subject_token_type", "https://example.com/upstream"),
                ("audience", MCP_API),
                ("scope", "openid tool:whoami"),
            ],
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid tool:whoami");
    let (_, claims) = fake
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    let userinfo = format!("{}userinfo", fake.issuer);
    assert_eq!(claims["aud"], serde_json::json!([MCP_API, userinfo]));
    let (_, id_claims) = fake
        .verify(body["id_token"].as_str().unwrap(), "mcp-server-client")
        .await;
    assert_eq!(id_claims["sub"], "auth0|admin");
}

#[test]
fn a_tenant_file_with_a_reserved_subject_token_type_does_not_load() {
    let yaml = "token_exchange_profiles:\n  - id: tep_bad\n    name: Reserved\n\
                \x20   subject_token_type: urn:auth0:params:oauth:token-type:thing\n\
                \x20   action:\n      template: first-party-on-behalf-of\n      secrets:\n\
                \x20       SUBJECT_TOKEN_AUDIENCE: https://api.example.com/\n\
                \x20       ALLOWED_CLIENT_IDS: [a]\n\
                \x20       ALLOWED_TARGET_AUDIENCES: [https://other.example.com/]\n\
                \x20       ALLOWED_SCOPES: [read]\n";

    let error = Tenant::from_yaml_str(yaml, "tenant.yaml")
        .unwrap_err()
        .to_string();

    assert!(error.contains("tenant.yaml"), "{error}");
    assert!(error.contains("reserved namespace `urn:auth0`"), "{error}");
}

#[tokio::test]
async fn a_json_body_is_accepted_as_auth0_does() {
    let fake = Fake::start().await;
    let subject = fake.admin_mcp_token().await;

    let response = fake
        .http
        .post(format!("{}oauth/token", fake.issuer))
        .json(&serde_json::json!({
            "grant_type": EXCHANGE,
            "client_id": "mcp-server-client",
            "client_secret": "mcp-server-secret",
            "subject_token": subject,
            "subject_token_type": SUBJECT_TOKEN_TYPE,
            "audience": UPSTREAM_API,
            "scope": "read:private",
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
}

#[tokio::test]
async fn offline_access_gives_a_refresh_token_unless_an_actor_is_set() {
    let fake = Fake::start().await;
    let subject = fake
        .user_token(
            "admin@example.com",
            "admin-pass",
            UPSTREAM_API,
            "read:private",
        )
        .await;
    let to_mcp = [
        ("subject_token_type", "https://example.com/upstream"),
        ("audience", MCP_API),
        ("scope", "tool:whoami offline_access"),
    ];

    let (status, body) = fake.exchange(&subject, &to_mcp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "tool:whoami offline_access");
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let (status, refreshed) = fake
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "mcp-server-client"),
            ("client_secret", "mcp-server-secret"),
            ("refresh_token", refresh_token),
        ])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let (_, claims) = fake
        .verify(refreshed["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(claims["sub"], "auth0|admin");

    let actor = fake.machine_token().await;
    let mut with_actor = to_mcp.to_vec();
    with_actor.extend([
        ("actor_token", actor.as_str()),
        ("actor_token_type", ACCESS_TOKEN_TYPE),
    ]);
    let (status, body) = fake.exchange(&subject, &with_actor).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "tool:whoami", "offline_access is stripped");
}
