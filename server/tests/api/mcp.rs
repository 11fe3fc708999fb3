//! The MCP endpoint (`/mcp`, streamable HTTP with JSON answers) as an agent uses it: an agent's
//! key for one user lists that user's connections, makes a connect link and calls a provider
//! through the hub, and no token ever appears in what it reads. The official TypeScript
//! client drives the same endpoint in end2end/tests/mcp.spec.ts.

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use server::domain::api_keys::{self, KeyError};
use server::domain::users::Actor;

/// An agent's key (scope `mcp`) bound to `user_id`.
async fn agent_key(app: &TestApp, user_id: &str) -> String {
    use secrecy::ExposeSecret;
    let (_, key) = api_keys::create(
        &app.db,
        "agent",
        &["mcp".into()],
        Some(user_id),
        &Actor::cli(),
    )
    .await
    .expect("agent key");
    key.expose_secret().to_string()
}

/// One JSON-RPC request to /mcp; its status and body.
async fn rpc(app: &TestApp, key: Option<&str>, method: &str, params: Value) -> (StatusCode, Value) {
    let mut request = Client::new()
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("mcp");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A tool's text result, and whether it is an error.
async fn tool(app: &TestApp, key: &str, name: &str, arguments: Value) -> (String, bool) {
    let (status, body) = rpc(
        app,
        Some(key),
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["result"];
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    (text.to_string(), result["isError"] == true)
}

#[tokio::test]
async fn an_agent_lists_links_and_calls_without_ever_seeing_a_token() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let user = app.user_id("alice").await;
    app.connect("github", "sandbox-user").await;
    let key = agent_key(&app, &user).await;

    let (status, init) = rpc(
        &app,
        Some(&key),
        "initialize",
        json!({
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": { "name": "test-agent", "version": "1" },
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "atom-connect");
    let (_, listed) = rpc(&app, Some(&key), "tools/list", json!({})).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for name in ["list_connections", "connect_link", "call_provider"] {
        assert!(names.contains(&name), "{names:?}");
    }

    let (connections, failed) = tool(&app, &key, "list_connections", json!({})).await;
    assert!(!failed);
    let connections: Value = serde_json::from_str(&connections).expect("json");
    let github = connections["connections"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["service"] == "github")
        .expect("github");
    assert_eq!(github["status"], "connected");
    assert_eq!(github["account"]["name"], "sandbox-user");

    let (link, failed) = tool(&app, &key, "connect_link", json!({ "service": "gmail" })).await;
    assert!(!failed, "{link}");
    let url = link
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a link")
        .to_string();
    assert!(url.starts_with(&app.url("/connect/")), "{url}");
    // The link is for alice: opened in a fresh browser it starts Gmail's consent.
    let opened = browser().get(&url).send().await.expect("open");
    assert_eq!(opened.status(), StatusCode::OK, "the confirmation page");

    let (answer, failed) = tool(
        &app,
        &key,
        "call_provider",
        json!({ "service": "github", "path": "user" }),
    )
    .await;
    assert!(!failed, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"]["login"], "sandbox-user");
    let (refused, failed) = tool(
        &app,
        &key,
        "call_provider",
        json!({ "service": "slack", "path": "auth.test", "method": "POST" }),
    )
    .await;
    assert!(failed);
    assert!(refused.starts_with("not_connected"), "{refused}");

    let (_, everything) = rpc(
        &app,
        Some(&key),
        "tools/call",
        json!({ "name": "list_connections", "arguments": {} }),
    )
    .await;
    for token in app.sandbox.issued_access_tokens() {
        for seen in [&everything.to_string(), &answer.to_string(), &link] {
            assert!(!seen.contains(&token), "a token reached the agent");
        }
    }
    let kinds = app.audit_kinds().await;
    assert!(kinds.iter().any(|(k, _, r)| k == "api.proxy_call"
        && r.as_deref().is_some_and(|r| r.starts_with("GET /user 200"))));
    assert!(kinds
        .iter()
        .any(|(k, _, _)| k == "api.connect_link_created"));
}

#[tokio::test]
async fn only_an_agents_key_for_an_enabled_user_gets_in() {
    let app = spawn_app().await;
    app.signed_in("bob").await;
    let user = app.user_id("bob").await;
    let init = json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } });

    let response = Client::new()
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init }))
        .send()
        .await
        .expect("mcp");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .starts_with("Bearer"));

    let backend = app.api_key(&["tokens:read", "proxy:*"]).await;
    let (status, body) = rpc(&app, Some(&backend), "initialize", init.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "insufficient_scope");

    // An agent's key names its user and holds nothing else; no other key names a user.
    let cli = Actor::cli();
    let unbound = api_keys::create(&app.db, "agent", &["mcp".into()], None, &cli).await;
    assert!(matches!(unbound, Err(KeyError::AgentKey)));
    let wide = api_keys::create(
        &app.db,
        "agent",
        &["mcp".into(), "tokens:read".into()],
        Some(&user),
        &cli,
    )
    .await;
    assert!(matches!(wide, Err(KeyError::AgentKey)));

    let key = agent_key(&app, &user).await;
    let (status, _) = rpc(&app, Some(&key), "initialize", init.clone()).await;
    assert_eq!(status, StatusCode::OK);
    server::domain::users::disable(&app.db, "bob")
        .await
        .expect("disable");
    let (status, body) = rpc(&app, Some(&key), "initialize", init).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "user_disabled");
}
