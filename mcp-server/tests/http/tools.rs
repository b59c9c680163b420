//! Which tools each demo user sees and what they answer.

use rmcp::model::CallToolRequestParams;
use serde_json::Value;

use crate::support::{ADMIN, Stack, tool_names};

/// What each demo user sees is a journey (e2e's `tools`); here, the one case the gate decides
/// alone: a tool the user has but this client was not granted is listed, because consenting
/// again (the step-up its call answers) makes it usable.
#[tokio::test]
async fn a_tool_the_client_was_not_granted_but_the_user_has_is_listed() {
    let stack = Stack::start().await;
    let token = stack.token_with_scope(ADMIN, "openid tool:whoami").await;
    let client = stack.legacy_client(&token).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(
        tool_names(&tools),
        ["get_current_time", "greet", "whoami"],
        "tools of a client granted only tool:whoami"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_carry_structured_content_and_output_schemas() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let client = stack.legacy_client(&token).await;

    let tools = client.list_all_tools().await.unwrap();
    for name in ["get_current_time", "whoami", "greet"] {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        assert!(tool.output_schema.is_some(), "{name} has an output schema");
    }

    let time = client
        .call_tool(CallToolRequestParams::new("get_current_time"))
        .await
        .unwrap();
    assert_ne!(time.is_error, Some(true));
    let utc = time.structured_content.as_ref().unwrap()["utc"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(utc.ends_with('Z'), "{utc}");
    time::OffsetDateTime::parse(&utc, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(
        !time.content.is_empty(),
        "a text copy for clients without structured content"
    );

    let me = client
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .unwrap();
    let me: &Value = me.structured_content.as_ref().unwrap();
    assert!(me["sub"].as_str().is_some_and(|s| !s.is_empty()), "{me}");
    assert_eq!(me["client_id"], "demo-cli");
    let granted: Vec<&str> = me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .chain(me["scopes"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        granted.contains(&"tool:whoami") && granted.contains(&"tool:greet"),
        "{me}"
    );
    assert_eq!(me["claims"]["iss"], stack.issuer.as_str());

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn greet_answers_through_the_upstream_api_for_the_caller() {
    let stack = Stack::start().await;
    let token = stack.token(ADMIN).await;
    let client = stack.legacy_client(&token).await;
    let me = client
        .call_tool(CallToolRequestParams::new("whoami"))
        .await
        .unwrap();
    let sub = me.structured_content.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut args = serde_json::Map::new();
    args.insert("name".to_owned(), Value::from("Ada"));
    let greet = client
        .call_tool(CallToolRequestParams::new("greet").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(greet.is_error, Some(true), "{greet:?}");
    let out = greet.structured_content.as_ref().unwrap();
    let message = out["message"].as_str().unwrap();
    assert_eq!(message, format!("Hello, Ada ({sub})!"), "{out}");
    // What a person reads is the greeting and, as in Auth0's sample, the upstream answer.
    let text = &greet.content[0].as_text().unwrap().text;
    let (greeting, upstream) = text.split_once('\n').expect("two lines");
    assert_eq!(greeting, message);
    let upstream = upstream
        .strip_prefix("Upstream API Response: ")
        .expect("the upstream answer is labelled as in Auth0's sample");
    assert_eq!(
        serde_json::from_str::<Value>(upstream).unwrap(),
        out["upstream"]
    );
    // The upstream API saw the caller (through the exchanged token), not the MCP server.
    assert_eq!(out["upstream"]["sub"], sub.as_str(), "{out}");
    client.cancel().await.unwrap();
}
