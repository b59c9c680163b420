//! The MCP gate's peek at a `/mcp` POST body: the step-up decision for `tools/call`, the
//! JSON-RPC `id` of a refused request, and the `protocolVersion` of an `initialize`.
#![no_main]

use bearer_auth::VerifiedToken;
use libfuzzer_sys::fuzz_target;
use mcp_server::fuzzing::{initialize_version, request_id, step_up_needed};

fn token(scope: &[&str], permissions: &[&str]) -> VerifiedToken {
    let owned = |items: &[&str]| items.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    VerifiedToken {
        subject: "auth0|fuzz".to_owned(),
        scopes: owned(scope),
        permissions: Some(owned(permissions)),
        client_id: None,
        expires_at: 0,
        claims: serde_json::Map::new(),
    }
}

fuzz_target!(|body: &[u8]| {
    // The admin through a client granted only whoami: greet needs a step-up.
    let narrowed = token(&["tool:whoami"], &["tool:whoami", "tool:greet"]);
    // A user without greet: asking again cannot help, so never a step-up.
    let user = token(&["tool:whoami"], &["tool:whoami"]);
    let step_up = step_up_needed(body, &narrowed);
    assert_eq!(
        step_up_needed(body, &user),
        None,
        "a step-up that cannot help"
    );
    let is_batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if let Some((scope, id)) = step_up {
        assert_eq!(scope, "tool:greet", "a step-up for a permission in scope");
        if is_batch {
            assert_eq!(id, None, "a batch has no one id");
        } else {
            assert_eq!(
                id,
                request_id(body),
                "the 403 and the peek disagree on the id"
            );
        }
    }
    let _ = initialize_version(body);
});
