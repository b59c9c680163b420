//! The exchange cache: one exchange per subject token, shared by concurrent callers,
//! never reused past the subject token's expiry, failures not kept.

use std::future::{Future, poll_fn};
use std::pin::pin;

use axum::http::StatusCode;
use mcp_server::exchange::ExchangeError;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::support::{Idp, IdpAnswer, exchanged_token, exchanger, in_secs};

const HOUR: IdpAnswer = IdpAnswer::Issue { expires_in: 3600 };

#[tokio::test]
async fn fifty_calls_by_one_user_make_one_exchange() {
    // Arrange
    let idp = Idp::start(HOUR).await;
    let (exchanger, metrics) = exchanger(&idp.issuer);

    // Act
    let mut tokens = Vec::new();
    for _ in 0..50 {
        tokens.push(
            exchanger
                .exchange("alice-token", in_secs(3600))
                .await
                .unwrap(),
        );
    }

    // Assert
    assert_eq!(idp.exchanges(), 1);
    assert_eq!(idp.discoveries(), 1);
    assert!(
        tokens
            .iter()
            .all(|t| t.access_token.secret() == exchanged_token("alice-token", 1))
    );
    let text = metrics.render();
    assert!(
        text.contains(r#"mcp_exchange_cache_requests_total{result="hit"} 49"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_exchange_cache_requests_total{result="miss"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_token_exchanges_total{outcome="ok"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn two_users_make_two_exchanges_and_get_their_own_tokens() {
    let idp = Idp::start(HOUR).await;
    let (exchanger, _) = exchanger(&idp.issuer);

    for _ in 0..10 {
        let alice = exchanger
            .exchange("alice-token", in_secs(3600))
            .await
            .unwrap();
        let bob = exchanger
            .exchange("bob-token", in_secs(3600))
            .await
            .unwrap();
        assert!(alice.access_token.secret().ends_with("-for-alice-token"));
        assert!(bob.access_token.secret().ends_with("-for-bob-token"));
    }

    assert_eq!(idp.exchanges(), 2);
    // Discovery happens once for the exchanger's lifetime.
    assert_eq!(idp.discoveries(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_calls_share_one_exchange_while_the_idp_answers() {
    // Arrange: the IdP holds its answer until every caller is waiting for a token.
    const CALLERS: usize = 20;
    let idp = Idp::start(HOUR).await;
    idp.hold_answers();
    let (exchanger, _) = exchanger(&idp.issuer);
    let waiting = watch::Sender::new(0_usize);

    // Act: CALLERS first calls for one subject token, each counted as waiting once its
    // exchange can make no more progress on its own.
    let mut calls = JoinSet::new();
    for _ in 0..CALLERS {
        let call = exchanger.clone();
        let waiting = waiting.clone();
        calls.spawn(counted_as_waiting(
            async move { call.exchange("carol-token", in_secs(3600)).await },
            waiting,
        ));
    }
    idp.wait_for_exchanges(1).await;
    let mut all_waiting = waiting.subscribe();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        all_waiting.wait_for(|n| *n == CALLERS),
    )
    .await
    .expect("every caller waits within 10 s")
    .unwrap();
    idp.release();
    let results = calls.join_all().await;

    // Assert: without single flight, every caller that missed the cache would have sent
    // its own exchange once released; with it, one reached the IdP and all share its token.
    assert_eq!(idp.exchanges(), 1);
    assert!(results.iter().all(|r| r.as_ref().unwrap().access_token.secret()
        == exchanged_token("carol-token", 1)));
}

/// Runs `call`, adding one to `waiting` the first time it returns `Pending`: from then on it
/// waits on something else (the IdP's answer, or another caller's exchange).
async fn counted_as_waiting<F: Future>(call: F, waiting: watch::Sender<usize>) -> F::Output {
    let mut call = pin!(call);
    let mut counted = false;
    poll_fn(|cx| {
        let poll = call.as_mut().poll(cx);
        if poll.is_pending() && !counted {
            counted = true;
            waiting.send_modify(|n| *n += 1);
        }
        poll
    })
    .await
}

#[tokio::test]
async fn a_subject_token_near_expiry_gets_a_fresh_exchange_each_time() {
    let idp = Idp::start(HOUR).await;
    let (exchanger, _) = exchanger(&idp.issuer);

    // Expiring within the 30 s safety margin: the exchanged token must not be reused.
    let first = exchanger.exchange("dave-token", in_secs(10)).await.unwrap();
    let second = exchanger.exchange("dave-token", in_secs(10)).await.unwrap();

    assert_eq!(idp.exchanges(), 2);
    assert_ne!(first.access_token, second.access_token);
}

#[tokio::test]
async fn an_issued_token_shorter_lived_than_the_margin_is_not_reused() {
    let idp = Idp::start(IdpAnswer::Issue { expires_in: 20 }).await;
    let (exchanger, _) = exchanger(&idp.issuer);

    exchanger
        .exchange("erin-token", in_secs(3600))
        .await
        .unwrap();
    exchanger
        .exchange("erin-token", in_secs(3600))
        .await
        .unwrap();

    assert_eq!(idp.exchanges(), 2);
}

#[tokio::test]
async fn a_failed_exchange_is_not_cached() {
    let idp = Idp::start(IdpAnswer::Refuse {
        status: StatusCode::FORBIDDEN,
        error: "invalid_grant",
        description: "Subject token validation failed.",
    })
    .await;
    let (exchanger, metrics) = exchanger(&idp.issuer);

    let err = exchanger
        .exchange("frank-token", in_secs(3600))
        .await
        .unwrap_err();
    idp.answer(HOUR);
    let token = exchanger
        .exchange("frank-token", in_secs(3600))
        .await
        .unwrap();

    assert_eq!(
        err,
        ExchangeError::Refused {
            status: 403,
            error: "invalid_grant".to_owned(),
            description: Some("Subject token validation failed.".to_owned()),
            hint: None,
        }
    );
    assert_eq!(
        token.access_token.secret(),
        exchanged_token("frank-token", 2)
    );
    assert_eq!(idp.exchanges(), 2);
    let text = metrics.render();
    assert!(
        text.contains(r#"mcp_token_exchanges_total{outcome="refused"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcp_token_exchanges_total{outcome="ok"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn concurrent_callers_share_a_failure_and_the_next_call_retries() {
    let idp = Idp::start(IdpAnswer::Refuse {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "The subject token has expired",
    })
    .await;
    let (exchanger, _) = exchanger(&idp.issuer);

    let mut calls = JoinSet::new();
    for _ in 0..5 {
        let exchanger = exchanger.clone();
        calls.spawn(async move { exchanger.exchange("gina-token", in_secs(3600)).await });
    }
    let results = calls.join_all().await;
    idp.answer(HOUR);
    exchanger
        .exchange("gina-token", in_secs(3600))
        .await
        .unwrap();

    assert!(results.iter().all(|r| matches!(
        r,
        Err(ExchangeError::Refused { error, .. }) if error == "invalid_request"
    )));
    assert_eq!(idp.exchanges(), 2);
}

#[tokio::test]
async fn the_exchange_request_is_what_auth0_expects() {
    let idp = Idp::start(HOUR).await;
    let (exchanger, _) = exchanger(&idp.issuer);

    let token = exchanger
        .exchange("hank-token", in_secs(3600))
        .await
        .unwrap();

    let form = &idp.forms()[0];
    let field = |name: &str| form.get(name).map(String::as_str);
    assert_eq!(
        field("grant_type"),
        Some("urn:ietf:params:oauth:grant-type:token-exchange")
    );
    assert_eq!(field("subject_token"), Some("hank-token"));
    assert_eq!(field("subject_token_type"), Some("urn:fastmcp:mcp"));
    assert_eq!(field("audience"), Some("http://localhost:8787/"));
    assert_eq!(field("scope"), Some("read:private"));
    assert_eq!(field("client_id"), Some("mcp-server-client"));
    assert_eq!(field("client_secret"), Some("mcp-server-secret"));
    assert_eq!(form.len(), 7, "{:?}", form.keys());
    assert_eq!(token.token_type, "bearer");
    assert_eq!(token.scope.as_deref(), Some("read:private"));
}

#[tokio::test]
async fn an_empty_scope_is_not_sent() {
    let idp = Idp::start(HOUR).await;
    let mut config = crate::support::exchange_config(&idp.issuer);
    config.grant.scope = Some(String::new());
    let exchanger =
        mcp_server::exchange::TokenExchanger::new(config, mcp_server::metrics::Metrics::new())
            .unwrap();

    exchanger
        .exchange("ivy-token", in_secs(3600))
        .await
        .unwrap();

    assert!(!idp.forms()[0].contains_key("scope"));
}
