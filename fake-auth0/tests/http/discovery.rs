//! Discovery documents, the JWK set and CORS.

use crate::helpers::spawn_app;

#[tokio::test]
async fn both_metadata_documents_describe_the_same_server() {
    let app = spawn_app().await;
    let oidc = app.discovery(".well-known/openid-configuration").await;
    let oauth = app
        .discovery(".well-known/oauth-authorization-server")
        .await;
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], app.issuer);
    assert_eq!(oidc["token_endpoint"], app.url("oauth/token"));
    assert_eq!(oidc["authorization_endpoint"], app.url("authorize"));
    assert_eq!(oidc["registration_endpoint"], app.url("oidc/register"));
    assert_eq!(oidc["jwks_uri"], app.url(".well-known/jwks.json"));
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(oidc["client_id_metadata_document_supported"], true);
    let grants = oidc["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&"urn:ietf:params:oauth:grant-type:token-exchange".into()));
}

#[tokio::test]
async fn the_jwks_holds_the_current_and_next_public_rs256_keys_named_by_their_thumbprints() {
    let app = spawn_app().await;
    let jwks: serde_json::Value = app.get(".well-known/jwks.json").await.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    // The current key, and the next one published ahead of its turn, as Auth0 does.
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private member");
        let kid = fake_auth0::keys::rsa_thumbprint(
            key["n"].as_str().unwrap(),
            key["e"].as_str().unwrap(),
        );
        assert_eq!(key["kid"], kid);
    }
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
}

#[tokio::test]
async fn discovery_allows_cross_origin_reads() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url(".well-known/openid-configuration"))
        .header("origin", "http://localhost:6274")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "*"
    );
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("oauth/token"))
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-methods")
    );
}
