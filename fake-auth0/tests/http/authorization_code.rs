//! The authorization code flow: login and consent pages, PKCE, single-use codes, redirect rules.

use crate::helpers::{
    CHALLENGE, DEMO_CALLBACK, MCP_API, VERIFIER, assert_oauth_error, demo_authorize_query,
    hidden_input, location, query_param, spawn_app,
};

async fn exchange(app: &crate::helpers::TestApp, code: &str, verifier: &str) -> reqwest::Response {
    app.post_token(&[
        ("grant_type", "authorization_code"),
        ("client_id", "demo-cli"),
        ("code", code),
        ("redirect_uri", DEMO_CALLBACK),
        ("code_verifier", verifier),
    ])
    .await
}

/// The login page of a demo-cli authorization request for the MCP API.
async fn demo_login_page(app: &crate::helpers::TestApp) -> String {
    app.authorize(&demo_authorize_query("openid", MCP_API))
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_login_page_follows_the_html_contract() {
    let app = spawn_app().await;
    let response = app
        .authorize(&demo_authorize_query("openid", MCP_API))
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(
        html.matches(r#"<form method="post" action="/u/login">"#)
            .count(),
        1
    );
    assert!(html.contains(r#"<input name="username">"#));
    assert!(html.contains(r#"<input name="password" type="password">"#));
    assert!(!hidden_input(&html, "transaction").is_empty());
    assert!(!html.contains("<script"), "self-contained page");
}

#[tokio::test]
async fn a_first_party_login_redirects_with_a_code_state_and_iss() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid offline_access", MCP_API),
            "admin@example.com",
            "admin-pass",
        )
        .await;

    // Assert
    assert!(redirect.as_str().starts_with(DEMO_CALLBACK));
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("xyz"));
    assert_eq!(query_param(&redirect, "iss"), Some(app.issuer.clone()));
    let code = query_param(&redirect, "code").unwrap();
    let response = exchange(&app, &code, VERIFIER).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
    let access = app
        .verify(body["access_token"].as_str().unwrap(), MCP_API)
        .await;
    assert_eq!(
        access.claims["permissions"],
        serde_json::json!(["tool:whoami", "tool:greet"])
    );
    let id = app
        .verify(body["id_token"].as_str().unwrap(), "demo-cli")
        .await;
    assert_eq!(id.claims["nonce"], "n-0S6_WzA2Mj");
}

#[tokio::test]
async fn a_code_works_once() {
    let app = spawn_app().await;
    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid", MCP_API),
            "user@example.com",
            "user-pass",
        )
        .await;
    let code = query_param(&redirect, "code").unwrap();
    assert_eq!(exchange(&app, &code, VERIFIER).await.status(), 200);
    assert_oauth_error(exchange(&app, &code, VERIFIER).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_rejected_and_spends_the_code() {
    let app = spawn_app().await;
    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid", MCP_API),
            "user@example.com",
            "user-pass",
        )
        .await;
    let code = query_param(&redirect, "code").unwrap();
    let wrong = "x".repeat(43);
    assert_oauth_error(exchange(&app, &code, &wrong).await, 400, "invalid_grant").await;
    assert_oauth_error(exchange(&app, &code, VERIFIER).await, 400, "invalid_grant").await;

    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid", MCP_API),
            "user@example.com",
            "user-pass",
        )
        .await;
    let code = query_param(&redirect, "code").unwrap();
    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-cli"),
            ("code", &code),
            ("redirect_uri", DEMO_CALLBACK),
        ])
        .await;
    assert_oauth_error(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_different_redirect_uri_at_the_token_endpoint_is_rejected() {
    let app = spawn_app().await;
    let redirect = app
        .code_flow_redirect(
            &demo_authorize_query("openid", MCP_API),
            "user@example.com",
            "user-pass",
        )
        .await;
    let code = query_param(&redirect, "code").unwrap();
    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-cli"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/callback"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_oauth_error(response, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_an_error() {
    let app = spawn_app().await;
    let html = demo_login_page(&app).await;
    let transaction = hidden_input(&html, "transaction");
    let response = app
        .post_login(&transaction, "admin@example.com", "wrong")
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Wrong email or password."));
    assert_eq!(hidden_input(&html, "transaction"), transaction);
    // What the user typed is shown back escaped.
    let response = app
        .post_login(&transaction, "\"><script>alert(1)</script>", "wrong")
        .await;
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    // The same transaction still works with the right password.
    let response = app
        .post_login(&transaction, "admin@example.com", "admin-pass")
        .await;
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn pkce_is_required_and_must_be_s256() {
    let app = spawn_app().await;
    let cases: [(&str, Option<&str>, Option<&str>); 3] = [
        ("no challenge", None, None),
        ("plain", Some(CHALLENGE), Some("plain")),
        ("no method", Some(CHALLENGE), None),
    ];
    for (name, challenge, method) in cases {
        let mut query: Vec<(&str, &str)> = demo_authorize_query("openid", MCP_API)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("code_challenge"))
            .collect();
        if let Some(challenge) = challenge {
            query.push(("code_challenge", challenge));
        }
        if let Some(method) = method {
            query.push(("code_challenge_method", method));
        }
        let response = app.authorize(&query).await;
        assert_eq!(response.status(), 302, "{name}");
        let redirect = location(&response);
        assert_eq!(
            query_param(&redirect, "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
        assert_eq!(query_param(&redirect, "state").as_deref(), Some("xyz"));
        assert_eq!(query_param(&redirect, "iss"), Some(app.issuer.clone()));
    }
}

#[tokio::test]
async fn an_unknown_client_or_bad_redirect_uri_is_an_error_page_not_a_redirect() {
    let app = spawn_app().await;
    let swap = |name: &'static str, value: &'static str| {
        demo_authorize_query("openid", MCP_API)
            .into_iter()
            .map(move |(k, v)| if k == name { (k, value) } else { (k, v) })
            .collect::<Vec<_>>()
    };
    for query in [
        swap("client_id", "nobody"),
        swap("redirect_uri", "https://evil.example/callback"),
        swap("redirect_uri", "http://127.0.0.1:5000/other"),
    ] {
        let response = app.authorize(&query).await;
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("<html"));
    }
}

#[tokio::test]
async fn an_unknown_audience_redirects_with_service_not_found() {
    let app = spawn_app().await;
    let response = app
        .authorize(&demo_authorize_query("openid", "https://nowhere.example/"))
        .await;
    let redirect = location(&response);
    assert_eq!(
        query_param(&redirect, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(&redirect, "error_description").as_deref(),
        Some("Service not found: https://nowhere.example/")
    );
}

#[tokio::test]
async fn a_registered_client_gets_a_consent_step() {
    let app = spawn_app().await;
    let registered: serde_json::Value = app
        .register(&serde_json::json!({
            "client_name": "Some MCP client",
            "redirect_uris": ["http://127.0.0.1:33418/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"]
        }))
        .await
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", "http://127.0.0.1:33418/cb"),
        ("scope", "openid tool:whoami"),
        ("resource", MCP_API),
        ("state", "s1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];

    for (action, expect_code) in [("deny", false), ("accept", true)] {
        let html = app.authorize(&query).await.text().await.unwrap();
        let transaction = hidden_input(&html, "transaction");
        let consent = app
            .post_login(&transaction, "user@example.com", "user-pass")
            .await;
        assert_eq!(consent.status(), 200);
        let html = consent.text().await.unwrap();
        assert_eq!(
            html.matches(r#"<form method="post" action="/u/consent">"#)
                .count(),
            1
        );
        assert!(html.contains(r#"<button type="submit" name="action" value="accept">"#));
        assert!(html.contains(r#"<button type="submit" name="action" value="deny">"#));
        let transaction = hidden_input(&html, "transaction");
        let response = app.post_consent(&transaction, action).await;
        assert_eq!(response.status(), 302);
        let redirect = location(&response);
        assert_eq!(query_param(&redirect, "state").as_deref(), Some("s1"));
        if expect_code {
            let code = query_param(&redirect, "code").unwrap();
            let response = app
                .post_token(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id),
                    ("code", &code),
                    ("redirect_uri", "http://127.0.0.1:33418/cb"),
                    ("code_verifier", VERIFIER),
                ])
                .await;
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            let token = app
                .verify(body["access_token"].as_str().unwrap(), MCP_API)
                .await;
            assert_eq!(token.claims["scope"], "openid tool:whoami");
        } else {
            assert_eq!(
                query_param(&redirect, "error").as_deref(),
                Some("access_denied")
            );
        }
    }
}

/// The scopes a consent page lists, each `<li><code>scope</code>…`, in page order.
fn listed_scopes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|item| {
            item.split_once("</code>")
                .map(|(scope, _)| scope.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn consent_lists_exactly_the_scopes_the_token_will_carry() {
    // Arrange: a third-party client asks for the upstream API with only `openid`; naming no
    // API scope gets every permission the user holds there (read:private for admin).
    let app = spawn_app().await;
    let registered: serde_json::Value = app
        .register(&serde_json::json!({
            "client_name": "Consent checker",
            "redirect_uris": ["http://127.0.0.1:33419/cb"],
            "token_endpoint_auth_method": "none"
        }))
        .await
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let upstream = "http://localhost:8787/";
    let query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", "http://127.0.0.1:33419/cb"),
        ("scope", "openid"),
        ("audience", upstream),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let html = app.authorize(&query).await.text().await.unwrap();
    let transaction = hidden_input(&html, "transaction");

    // Act
    let consent = app
        .post_login(&transaction, "admin@example.com", "admin-pass")
        .await
        .text()
        .await
        .unwrap();
    let transaction = hidden_input(&consent, "transaction");
    let redirect = location(&app.post_consent(&transaction, "accept").await);
    let code = query_param(&redirect, "code").unwrap();
    let body: serde_json::Value = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:33419/cb"),
            ("code_verifier", VERIFIER),
        ])
        .await
        .json()
        .await
        .unwrap();

    // Assert: the page lists what the token holds, per API, with the tenant's descriptions.
    let token = app
        .verify(body["access_token"].as_str().unwrap(), upstream)
        .await;
    let granted: Vec<String> = token.claims["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert_eq!(granted, ["openid", "read:private"]);
    assert_eq!(listed_scopes(&consent), granted, "{consent}");
    assert!(
        consent.contains("<h2>Protected First Party API</h2>"),
        "{consent}"
    );
    assert!(
        consent.contains("<code>read:private</code>: Read the private endpoint"),
        "{consent}"
    );
}

/// An attribute value as a browser reads it (askama writes `&` as `&#38;`).
fn unescape(value: &str) -> String {
    value.replace("&#38;", "&").replace("&amp;", "&")
}

/// The value of the input named `name` (`<input name="…" … value="…">`), if it has one.
fn input_value(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!(r#"<input name="{name}""#))?;
    let tag = &html[start..start + html[start..].find('>')?];
    let value = tag.split_once(r#"value=""#)?.1;
    Some(unescape(&value[..value.find('"')?]))
}

#[tokio::test]
async fn the_demo_tenants_login_page_lists_its_users_and_a_link_fills_the_form() {
    // Arrange
    let app = spawn_app().await;
    let html = demo_login_page(&app).await;

    // Act: follow the plain link listed for user@example.com (no JavaScript involved).
    let href = html
        .split(r#"<a href=""#)
        .skip(1)
        .filter_map(|link| link.split_once('"').map(|(href, _)| unescape(href)))
        .find(|href| href.contains("user%40example.com"))
        .unwrap_or_else(|| panic!("no link for user@example.com in {html}"));
    let filled = app
        .get(href.trim_start_matches('/'))
        .await
        .text()
        .await
        .unwrap();

    // Assert: every user is listed with their roles; the form is filled in and logs in.
    assert!(
        html.contains(">admin@example.com</a> · Tool Administrator"),
        "{html}"
    );
    assert!(html.contains(">user@example.com</a> · Tool User"), "{html}");
    assert!(html.contains(">guest@example.com</a> · no role"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(
        input_value(&filled, "username").as_deref(),
        Some("user@example.com"),
        "{filled}"
    );
    assert_eq!(
        input_value(&filled, "password").as_deref(),
        Some("user-pass")
    );
    let transaction = hidden_input(&filled, "transaction");
    let response = app
        .post_login(&transaction, "user@example.com", "user-pass")
        .await;
    assert_eq!(response.status(), 302);
    assert!(query_param(&location(&response), "code").is_some());
}

#[tokio::test]
async fn a_tenant_that_does_not_list_its_users_shows_no_one_and_fills_nothing() {
    let mut tenant = fake_auth0::Tenant::demo();
    tenant.settings.login_page_lists_users = false;
    let app = crate::helpers::spawn_app_with(tenant).await;
    let html = demo_login_page(&app).await;
    assert!(!html.contains("admin@example.com"), "{html}");
    let transaction = hidden_input(&html, "transaction");
    let filled = app
        .get(&format!(
            "u/login?transaction={transaction}&user=admin%40example.com"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(input_value(&filled, "password"), None, "{filled}");
}
