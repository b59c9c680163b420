//! The Management API over HTTP: the MCP quickstart's tenant setup, call by call as a user
//! runs it (see `quickstart-setup.sh`), then proof that it took effect at the token
//! endpoint; and the errors a caller can run into (no token, wrong scope, reserved
//! namespace, unimplemented route).

use fake_auth0::Tenant;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const MCP_API: &str = "http://localhost:3001/";
const UPSTREAM_API: &str = "http://localhost:8787/";
const SUBJECT_TOKEN_TYPE: &str = "urn:fastmcp:mcp";

/// The fresh tenant the quickstart starts from.
fn quickstart_tenant() -> Tenant {
    Tenant::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tenants/quickstart.yaml"
    ))
    .unwrap()
}

/// A Management API client: the app and a token.
struct Management<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Management<'a> {
    /// Gets a Management API token with `management-cli`'s client credentials, optionally
    /// asking for fewer scopes.
    async fn login(app: &'a TestApp, scope: Option<&str>) -> Management<'a> {
        let audience = app.url("api/v2/");
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", "management-cli"),
            ("client_secret", "management-secret"),
            ("audience", audience.as_str()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = app.post_token(&form).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        Management {
            app,
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(&format!("api/v2/{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A call that must answer `status`; returns the JSON body (`null` when empty).
    async fn call(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let response = self.send(method.clone(), path, body).await;
        let actual = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(actual, status, "{method} {path}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }
}

/// Asserts Auth0's Management error shape and returns the message.
async fn assert_management_error(response: Response, status: u16, error_code: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body["errorCode"], error_code, "{body}");
    body["message"].as_str().unwrap().to_owned()
}

fn as_str(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test]
async fn the_quickstart_setup_works_at_the_token_endpoint() {
    let app = spawn_app_with(quickstart_tenant()).await;
    let api = Management::login(&app, None).await;

    // Configure tenant settings: promote the database connection to domain level.
    let connections = api.call(Method::GET, "connections", None, 200).await;
    let connection = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["strategy"] == "auth0")
        .expect("a database connection");
    let connection_id = as_str(&connection["id"]);
    assert!(connection_id.starts_with("con_"), "{connection_id}");
    assert_eq!(connection["is_domain_connection"], false);
    let patched = api
        .call(
            Method::PATCH,
            &format!("connections/{connection_id}"),
            Some(json!({"is_domain_connection": true})),
            200,
        )
        .await;
    assert_eq!(patched["is_domain_connection"], true);

    // The two APIs, with the quickstart's own bodies.
    let mcp = api
        .call(
            Method::POST,
            "resource-servers",
            Some(json!({
                "identifier": MCP_API,
                "name": "MCP Tools API",
                "signing_alg": "RS256",
                "token_dialect": "rfc9068_profile_authz",
                "enforce_policies": true,
                "scopes": [
                    {"value": "tool:whoami", "description": "Access the WhoAmI tool"},
                    {"value": "tool:greet", "description": "Access the Greeting tool"}
                ]
            })),
            201,
        )
        .await;
    assert_eq!(mcp["identifier"], MCP_API);
    let upstream = api
        .call(
            Method::POST,
            "resource-servers",
            Some(json!({
                "identifier": UPSTREAM_API,
                "name": "Protected First Party API",
                "signing_alg": "RS256",
                "enforce_policies": true,
                "scopes": [{"value": "read:private", "description": "Private scope"}]
            })),
            201,
        )
        .await;
    assert_eq!(upstream["identifier"], UPSTREAM_API);
    let by_id = api
        .call(
            Method::GET,
            &format!("resource-servers/{}", as_str(&mcp["id"])),
            None,
            200,
        )
        .await;
    assert_eq!(by_id["name"], "MCP Tools API");
    let listed = api.call(Method::GET, "resource-servers", None, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // The MCP server's client; its secret is shown once.
    let client = api
        .call(
            Method::POST,
            "clients",
            Some(json!({
                "name": "MCP Server Client",
                "app_type": "non_interactive",
                "is_first_party": true,
                "grant_types": ["authorization_code"],
                "token_endpoint_auth_method": "client_secret_post",
                "oidc_conformant": true,
                "jwt_configuration": { "alg": "RS256" }
            })),
            201,
        )
        .await;
    let client_id = as_str(&client["client_id"]).to_owned();
    let client_secret = as_str(&client["client_secret"]).to_owned();
    assert!(client_id.len() >= 32 && client_secret.len() >= 32);
    let patched = api
        .call(
            Method::PATCH,
            &format!("clients/{client_id}"),
            Some(
                json!({"token_exchange": {"allow_any_profile_of_type": ["custom_authentication"]}}),
            ),
            200,
        )
        .await;
    assert_eq!(
        patched["token_exchange"]["allow_any_profile_of_type"],
        json!(["custom_authentication"])
    );
    let fetched = api
        .call(Method::GET, &format!("clients/{client_id}"), None, 200)
        .await;
    assert_eq!(fetched["name"], "MCP Server Client");

    // Roles, their permissions, and the admin found by email.
    let admin_role = api
        .call(
            Method::POST,
            "roles",
            Some(json!({"name": "Tool Administrator", "description": "Grants access to all MCP tools"})),
            200,
        )
        .await;
    let admin_role_id = as_str(&admin_role["id"]).to_owned();
    assert!(admin_role_id.starts_with("rol_"), "{admin_role_id}");
    let user_role = api
        .call(
            Method::POST,
            "roles",
            Some(json!({"name": "Tool User", "description": "Grants access to basic MCP tools"})),
            200,
        )
        .await;
    let permission =
        |api: &str, name: &str| json!({"resource_server_identifier": api, "permission_name": name});
    api.call(
        Method::POST,
        &format!("roles/{admin_role_id}/permissions"),
        Some(json!({"permissions": [
            permission(MCP_API, "tool:whoami"),
            permission(MCP_API, "tool:greet"),
            permission(UPSTREAM_API, "read:private"),
        ]})),
        201,
    )
    .await;
    api.call(
        Method::POST,
        &format!("roles/{}/permissions", as_str(&user_role["id"])),
        Some(json!({"permissions": [permission(MCP_API, "tool:whoami")]})),
        201,
    )
    .await;
    let roles = api.call(Method::GET, "roles", None, 200).await;
    assert_eq!(roles.as_array().unwrap().len(), 2);
    let found = api
        .call(
            Method::GET,
            "users?q=email%3A%22admin%40example.com%22&search_engine=v3",
            None,
            200,
        )
        .await;
    let users = found.as_array().unwrap();
    assert_eq!(users.len(), 1, "{found}");
    let user_id = as_str(&users[0]["user_id"]).to_owned();
    assert_eq!(user_id, "auth0|admin");
    // The auth0 CLI (go-auth0) asks with include_totals=true.
    let paged = api
        .call(
            Method::GET,
            "users?q=email%3A%22admin%40example.com%22&include_totals=true&per_page=10&page=0",
            None,
            200,
        )
        .await;
    assert_eq!(paged["total"], 1, "{paged}");
    assert_eq!(paged["users"][0]["user_id"], "auth0|admin");
    let by_email = api
        .call(
            Method::GET,
            "users-by-email?email=ADMIN%40example.com",
            None,
            200,
        )
        .await;
    assert_eq!(by_email[0]["user_id"], "auth0|admin");
    api.call(
        Method::POST,
        &format!("users/{}/roles", user_id.replace('|', "%7C")),
        Some(json!({"roles": [admin_role_id]})),
        204,
    )
    .await;

    // The on-behalf-of Action: find its id, give it its secrets, bind a profile to it.
    let actions = api.call(Method::GET, "actions/actions", None, 200).await;
    let action = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "On-behalf-of token exchange")
        .expect("the on-behalf-of action");
    let action_id = as_str(&action["id"]).to_owned();
    // Auth0's SDKs ask for the next page until one comes back empty.
    let next_page = api
        .call(Method::GET, "actions/actions?page=1&per_page=50", None, 200)
        .await;
    assert_eq!(next_page["actions"], json!([]), "{next_page}");
    assert!(action_id.starts_with("act_"), "{action_id}");
    assert_eq!(
        action["supported_triggers"][0]["id"],
        "custom-token-exchange"
    );
    let secret = |name: &str, value: String| json!({"name": name, "value": value});
    api.call(
        Method::PATCH,
        &format!("actions/actions/{action_id}"),
        Some(json!({"secrets": [
            secret("SUBJECT_TOKEN_AUDIENCE", MCP_API.to_owned()),
            secret("ALLOWED_CLIENT_IDS", json!([client_id]).to_string()),
            secret("ALLOWED_TARGET_AUDIENCES", json!([UPSTREAM_API]).to_string()),
            secret("ALLOWED_SCOPES", json!(["openid", "offline_access", "read:private"]).to_string()),
        ]})),
        200,
    )
    .await;
    let profile = api
        .call(
            Method::POST,
            "token-exchange-profiles",
            Some(json!({
                "name": "MCP Custom Token Exchange",
                "subject_token_type": SUBJECT_TOKEN_TYPE,
                "action_id": action_id,
                "type": "custom_authentication"
            })),
            201,
        )
        .await;
    assert!(as_str(&profile["id"]).starts_with("tep_"), "{profile}");
    assert_eq!(profile["action_id"], action_id.as_str());
    let profiles = api
        .call(Method::GET, "token-exchange-profiles", None, 200)
        .await;
    assert_eq!(profiles["token_exchange_profiles"][0]["id"], profile["id"]);
    assert!(!profiles.to_string().contains("SUBJECT_TOKEN_AUDIENCE"));

    // It works: the admin's token carries the new permissions…
    let user_token = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "openid")
        .await;
    let subject_token = as_str(&user_token["access_token"]).to_owned();
    let verified = app.verify(&subject_token, MCP_API).await;
    assert_eq!(verified.claims["sub"], "auth0|admin");
    assert_eq!(
        verified.claims["permissions"],
        json!(["tool:whoami", "tool:greet"])
    );
    assert_eq!(verified.typ.as_deref(), Some("at+jwt"));

    // …and the new client exchanges it for an upstream token with the new profile.
    let response = app
        .post_token(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", &client_id),
            ("client_secret", &client_secret),
            ("subject_token", &subject_token),
            ("subject_token_type", SUBJECT_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
            ("scope", "read:private"),
        ])
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let exchanged = app
        .verify(as_str(&body["access_token"]), UPSTREAM_API)
        .await;
    assert_eq!(exchanged.claims["sub"], "auth0|admin");
    assert_eq!(exchanged.claims["azp"], client_id.as_str());
    assert_eq!(exchanged.claims["scope"], "read:private");

    // Deleting the profile stops the exchange at once.
    api.call(
        Method::DELETE,
        &format!("token-exchange-profiles/{}", as_str(&profile["id"])),
        None,
        204,
    )
    .await;
    let response = app
        .post_token(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", &client_id),
            ("client_secret", &client_secret),
            ("subject_token", &subject_token),
            ("subject_token_type", SUBJECT_TOKEN_TYPE),
            ("audience", UPSTREAM_API),
        ])
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_created_client_with_a_client_grant_gets_machine_tokens_at_once() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    let client = api
        .call(
            Method::POST,
            "clients",
            Some(json!({"name": "Batch job", "app_type": "non_interactive", "grant_types": ["client_credentials"]})),
            201,
        )
        .await;
    let client_id = as_str(&client["client_id"]);
    let client_secret = as_str(&client["client_secret"]);
    api.call(
        Method::POST,
        "client-grants",
        Some(json!({"client_id": client_id, "audience": UPSTREAM_API, "scope": ["read:private"]})),
        201,
    )
    .await;
    let response = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("audience", UPSTREAM_API),
        ])
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let verified = app
        .verify(as_str(&body["access_token"]), UPSTREAM_API)
        .await;
    assert_eq!(verified.claims["sub"], format!("{client_id}@clients"));
    assert_eq!(verified.claims["scope"], "read:private");

    // The secret is not shown again without read:client_keys.
    let reader = Management::login(&app, Some("read:clients")).await;
    let fetched = reader
        .call(Method::GET, &format!("clients/{client_id}"), None, 200)
        .await;
    assert!(fetched.get("client_secret").is_none(), "{fetched}");
}

#[tokio::test]
async fn management_calls_need_a_management_token_with_the_routes_scope() {
    let app = spawn_app().await;

    let response = app.get("api/v2/resource-servers").await;
    let message = assert_management_error(response, 401, "invalid_token").await;
    assert_eq!(message, "Missing authentication");

    // A valid token of this tenant, but for another API.
    let user = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "")
        .await;
    let response = app
        .http
        .get(app.url("api/v2/resource-servers"))
        .bearer_auth(as_str(&user["access_token"]))
        .send()
        .await
        .unwrap();
    assert_management_error(response, 401, "invalid_token").await;

    // A user's token for the Management API (the demo API has no RBAC) is not enough:
    // Auth0 gives users no tenant-management scopes.
    let audience = app.url("api/v2/");
    let user = app
        .password_token("admin@example.com", "admin-pass", &audience, "read:roles")
        .await;
    let response = app
        .http
        .get(app.url("api/v2/roles"))
        .bearer_auth(as_str(&user["access_token"]))
        .send()
        .await
        .unwrap();
    assert_management_error(response, 403, "insufficient_scope").await;

    let reader = Management::login(&app, Some("read:roles")).await;
    let response = reader
        .send(Method::POST, "roles", Some(json!({"name": "Sneaky"})))
        .await;
    let message = assert_management_error(response, 403, "insufficient_scope").await;
    assert!(message.contains("create:roles"), "{message}");
    let roles = reader.call(Method::GET, "roles", None, 200).await;
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != "Sneaky"),
        "{roles}"
    );
}

#[tokio::test]
async fn profiles_in_reserved_namespaces_or_with_bad_names_are_refused() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    let create = |subject_token_type: &str, name: &str, action_id: &str| {
        json!({
            "name": name,
            "subject_token_type": subject_token_type,
            "action_id": action_id,
            "type": "custom_authentication"
        })
    };
    for reserved in [
        "urn:auth0:mine",
        "urn:ietf:params:x",
        "https://auth0.com/x",
        "http://okta.com",
    ] {
        let response = api
            .send(
                Method::POST,
                "token-exchange-profiles",
                Some(create(reserved, "Reserved", "act_demo_on_behalf_of")),
            )
            .await;
        let message = assert_management_error(response, 400, "invalid_body").await;
        assert!(message.contains("reserved namespace"), "{message}");
    }
    let response = api
        .send(
            Method::POST,
            "token-exchange-profiles",
            Some(create("urn:acme:x", "ab", "act_demo_on_behalf_of")),
        )
        .await;
    let message = assert_management_error(response, 400, "invalid_body").await;
    assert!(message.contains("3 to 50"), "{message}");
    let response = api
        .send(
            Method::POST,
            "token-exchange-profiles",
            Some(create("urn:acme:x", "Acme", "act_nope")),
        )
        .await;
    let message = assert_management_error(response, 400, "invalid_body").await;
    assert!(message.contains("act_nope"), "{message}");
    // The demo's profile owns urn:fastmcp:mcp already.
    let response = api
        .send(
            Method::POST,
            "token-exchange-profiles",
            Some(create(SUBJECT_TOKEN_TYPE, "Again", "act_demo_on_behalf_of")),
        )
        .await;
    assert_management_error(response, 409, "conflict").await;
    let profiles = api
        .call(Method::GET, "token-exchange-profiles", None, 200)
        .await;
    assert_eq!(
        profiles["token_exchange_profiles"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{profiles}"
    );
}

#[tokio::test]
async fn unimplemented_routes_answer_501_naming_the_route() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    for (method, path) in [
        (Method::GET, "organizations"),
        (Method::DELETE, "clients/demo-cli"),
        (Method::POST, "users"),
    ] {
        let response = api.send(method.clone(), path, None).await;
        let message = assert_management_error(response, 501, "not_implemented").await;
        assert_eq!(
            message,
            format!("{method} /api/v2/{path} is not implemented by fake-auth0")
        );
    }
    let response = api
        .send(Method::GET, "users?q=name%3A%22Ada%22", None)
        .await;
    let message = assert_management_error(response, 501, "not_implemented").await;
    assert!(message.contains("name:\"Ada\""), "{message}");
    let response = api
        .send(
            Method::PATCH,
            "connections/whatever",
            Some(json!({"options": {}})),
        )
        .await;
    let message = assert_management_error(response, 501, "not_implemented").await;
    assert!(message.contains("options"), "{message}");
}

#[tokio::test]
async fn bad_bodies_and_duplicates_are_refused_in_auth0s_format() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    let response = api
        .send(
            Method::POST,
            "resource-servers",
            Some(json!({"identifier": "https://x/", "colour": "blue"})),
        )
        .await;
    let message = assert_management_error(response, 400, "invalid_body").await;
    assert!(message.contains("colour"), "{message}");
    let response = api
        .send(
            Method::POST,
            "resource-servers",
            Some(json!({"identifier": MCP_API, "name": "again"})),
        )
        .await;
    assert_management_error(response, 409, "conflict").await;
    let response = api
        .send(
            Method::POST,
            "roles/rol_nope/permissions",
            Some(json!({"permissions": [{"resource_server_identifier": MCP_API, "permission_name": "tool:whoami"}]})),
        )
        .await;
    assert_management_error(response, 404, "inexistent_role").await;
    let roles = api.call(Method::GET, "roles", None, 200).await;
    let role_id = as_str(&roles[0]["id"]);
    let response = api
        .send(
            Method::POST,
            &format!("roles/{role_id}/permissions"),
            Some(json!({"permissions": [{"resource_server_identifier": MCP_API, "permission_name": "tool:fly"}]})),
        )
        .await;
    let message = assert_management_error(response, 400, "invalid_body").await;
    assert!(message.contains("tool:fly"), "{message}");
}

#[tokio::test]
async fn an_actions_new_secrets_reach_its_profile_at_once() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    let user = app
        .password_token("admin@example.com", "admin-pass", MCP_API, "")
        .await;
    let subject_token = as_str(&user["access_token"]).to_owned();
    let exchange = || async {
        let response = app
            .post_token(&[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("client_id", "mcp-server-client"),
                ("client_secret", "mcp-server-secret"),
                ("subject_token", &subject_token),
                ("subject_token_type", SUBJECT_TOKEN_TYPE),
                ("audience", UPSTREAM_API),
                ("scope", "read:private"),
            ])
            .await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body)
    };
    let (status, body) = exchange().await;
    assert_eq!(status, 200, "{body}");

    let action = "actions/actions/act_demo_on_behalf_of";
    // A secret that would break the bound profile is refused, and nothing changes.
    let response = api
        .send(
            Method::PATCH,
            action,
            Some(json!({"secrets": [{"name": "ALLOWED_SCOPES", "value": "read:private"}]})),
        )
        .await;
    let message = assert_management_error(response, 400, "invalid_body").await;
    assert!(message.contains("ALLOWED_SCOPES"), "{message}");
    assert_eq!(exchange().await.0, 200);

    // A valid change: the Action no longer allows read:private.
    api.call(
        Method::PATCH,
        action,
        Some(json!({"secrets": [{"name": "ALLOWED_SCOPES", "value": "[\"openid\"]"}]})),
        200,
    )
    .await;
    let (status, body) = exchange().await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_scope", "{body}");
    let fetched = api.call(Method::GET, action, None, 200).await;
    assert!(
        !fetched.to_string().contains("openid"),
        "secret values stay hidden: {fetched}"
    );
}

/// A Management API body over the size limit is refused in Auth0's error shape, not as
/// plain text.
#[tokio::test]
async fn an_oversized_management_body_is_refused_in_the_management_error_shape() {
    let app = spawn_app().await;
    let api = Management::login(&app, None).await;
    let response = api
        .send(
            Method::POST,
            "roles",
            Some(json!({ "name": "big", "description": "x".repeat(200 * 1024) })),
        )
        .await;
    let message = assert_management_error(response, 413, "invalid_body").await;
    assert!(message.contains("maximum allowed"), "{message}");
}
