//! `IssuerMetadata::fetch`, the one discovery fetch of the workspace, against a real (tiny)
//! issuer: what it returns, and each way it refuses a document.

use std::time::Duration;

use bearer_auth::discovery::{DiscoveryError, FetchLimits, IssuerMetadata, MetadataDocument};
use serde_json::Value;

use crate::server_with_key;

#[tokio::test]
async fn the_metadata_is_typed_and_the_document_kept_as_sent() {
    // Arrange
    let (server, _key) = server_with_key("key-a").await;
    let http = reqwest::Client::new();

    // Act
    let metadata = IssuerMetadata::fetch(&http, server.issuer()).await.unwrap();

    // Assert
    assert_eq!(metadata.issuer(), server.issuer());
    assert_eq!(
        metadata.jwks_uri().unwrap().as_str(),
        format!("{}jwks.json", server.issuer())
    );
    // This issuer publishes no token endpoint; a caller that needs one is told so.
    assert_eq!(
        metadata.token_endpoint().unwrap_err(),
        DiscoveryError::MissingEndpoint {
            issuer: server.issuer().to_string(),
            field: "token_endpoint",
        }
    );
    let document: Value = serde_json::from_slice(metadata.document()).unwrap();
    assert_eq!(document["issuer"], server.issuer().as_str());
    assert_eq!(server.discovery_fetches(), 1);
}

#[tokio::test]
async fn a_document_naming_another_issuer_is_refused() {
    let (server, _key) = server_with_key("key-a").await;
    server.set_discovery_issuer("https://evil.example/");

    let error = IssuerMetadata::fetch(&reqwest::Client::new(), server.issuer())
        .await
        .unwrap_err();

    assert_eq!(
        error,
        DiscoveryError::IssuerMismatch {
            url: format!("{}.well-known/openid-configuration", server.issuer()),
            found: Some("https://evil.example/".to_owned()),
            expected: server.issuer().to_string(),
        }
    );
}

#[tokio::test]
async fn an_answer_other_than_200_is_refused_with_its_status() {
    let (server, _key) = server_with_key("key-a").await;
    server.set_down(true);

    let error = IssuerMetadata::fetch(&reqwest::Client::new(), server.issuer())
        .await
        .unwrap_err();

    assert!(
        matches!(error, DiscoveryError::Status { status: 503, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_document_over_the_size_cap_is_refused() {
    let (server, _key) = server_with_key("key-a").await;
    let limits = FetchLimits {
        max_bytes: 16,
        ..FetchLimits::default()
    };

    let error = IssuerMetadata::fetch_document(
        &reqwest::Client::new(),
        server.issuer(),
        MetadataDocument::OpenIdConfiguration,
        limits,
    )
    .await
    .unwrap_err();

    assert!(
        matches!(error, DiscoveryError::TooLarge { limit: 16, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_issuer_that_never_answers_times_out() {
    let (server, _key) = server_with_key("key-a").await;
    server.set_hanging(true);
    let limits = FetchLimits {
        timeout: Duration::from_millis(200),
        ..FetchLimits::default()
    };

    let error = IssuerMetadata::fetch_document(
        &reqwest::Client::new(),
        server.issuer(),
        MetadataDocument::OpenIdConfiguration,
        limits,
    )
    .await
    .unwrap_err();

    assert!(matches!(error, DiscoveryError::Timeout { .. }), "{error:?}");
}
