//! A provider that misbehaves: HTML, garbage, an empty token, an error with HTTP 200, a 500,
//! a redirect, silence. The flow fails with a fixed message, nothing partial is stored, the
//! audit log says why, and nothing of the provider's answer reaches the page.

use crate::helpers::*;
use reqwest::StatusCode;
use server::sandbox::Fault;
use std::time::Duration;

const TOKEN_PATH: &str = "/github/login/oauth/access_token";

async fn failed_connect(app: &TestApp, path: &str, fault: Fault) -> String {
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "faulty", "allow").await;
    app.sandbox.inject(path, fault);
    let response = app.client.get(callback).send().await.expect("callback");
    location(&response)
}

#[tokio::test]
async fn a_misbehaving_token_endpoint_fails_the_flow_cleanly() {
    let app = spawn_app().await;
    app.signed_in("rita").await;
    let faults = [
        Fault::Html,
        Fault::Garbage,
        Fault::EmptyToken,
        Fault::ErrorWith200,
        Fault::ServerError,
        Fault::Redirect,
    ];
    for fault in faults {
        let target = failed_connect(&app, TOKEN_PATH, fault).await;
        assert_eq!(
            target, "/connections?error=exchange_failed&service=github",
            "{fault:?}"
        );
        assert_eq!(
            app.count("connections").await,
            0,
            "{fault:?}: nothing stored"
        );
    }
    let page = app
        .get("/connections?error=exchange_failed&service=github")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("GitHub did not accept the sign-in. Nothing was stored"));
    assert!(
        !page.contains("<script>x") && !page.contains("Oops"),
        "no provider text"
    );
    let failures = app
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(k, _, r)| {
            k == "connection.connect_failed" && r.as_deref() == Some("exchange_failed")
        })
        .count();
    assert_eq!(failures, faults.len());
    assert!(
        !logs().contains("<script>x"),
        "the provider's text is not logged either"
    );
}

#[tokio::test]
async fn a_failing_identity_call_stores_nothing() {
    let app = spawn_app().await;
    app.signed_in("sam").await;
    let target = failed_connect(&app, "/github/user", Fault::ServerError).await;
    assert_eq!(target, "/connections?error=identity_failed&service=github");
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn a_silent_token_endpoint_times_out_instead_of_hanging() {
    let app = spawn_app().await;
    app.signed_in("tess").await;
    let started = std::time::Instant::now();
    let target = failed_connect(&app, TOKEN_PATH, Fault::Slow(Duration::from_secs(30))).await;
    assert_eq!(target, "/connections?error=exchange_failed&service=github");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the client's timeout ended it"
    );
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn invalid_client_on_refresh_is_the_providers_problem_not_the_users() {
    let app = spawn_app().await;
    app.signed_in("ines").await;
    app.connect("outlook", "sandbox-user").await;
    let ines = app.user_id("ines").await;
    let key = app.api_key(&["tokens:read"]).await;
    let url = app.url(&format!("/api/v1/users/{ines}/connections/outlook/token"));
    let fetch = || async {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .expect("api")
            .status()
    };
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    app.sandbox
        .inject("/microsoft/common/oauth2/v2.0/token", Fault::InvalidClient);
    assert_eq!(fetch().await, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    assert_eq!(
        status["status"], "expired",
        "expired, not needs_reauth: the user's grant is not blamed"
    );
    let (_, health) = app.get_json("/api/outlook/health").await;
    assert_eq!(health["status"], "client_rejected", "{health}");
    assert!(health["client_rejected_at"].is_string());
    let (_, other) = app.get_json("/api/gmail/health").await;
    assert_ne!(other["status"], "client_rejected", "only that provider");
    // Credentials fixed: once the backoff has passed, the next refresh works and the alert
    // clears.
    app.clock.advance(std::time::Duration::from_secs(120));
    assert_eq!(fetch().await, reqwest::StatusCode::OK);
    let (_, health) = app.get_json("/api/outlook/health").await;
    assert_eq!(health["status"], "ok");
    assert!(health["client_rejected_at"].is_null());
}

/// A token request whose answer is lost after the provider did the work (issued, rotated):
/// the hub cannot know, so it is transient (503, old tokens kept); what happens next is the
/// provider's rule about the old refresh token. Returns the next answer's status.
async fn after_a_lost_answer(service: &str, token_path: &str) -> (TestApp, reqwest::StatusCode) {
    let app = spawn_app().await;
    app.signed_in("lou").await;
    app.connect(service, "sandbox-user").await;
    let lou = app.user_id("lou").await;
    let key = app.api_key(&["tokens:read"]).await;
    let url = app.url(&format!("/api/v1/users/{lou}/connections/{service}/token"));
    let fetch = || async {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .expect("api")
            .status()
    };
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    app.sandbox.inject(token_path, Fault::LoseAnswer);
    assert_eq!(fetch().await, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let (_, status) = app.get_json(&format!("/api/auth/{service}/status")).await;
    assert_eq!(status["status"], "expired", "not given up on");
    // The next try, once the backoff has passed.
    app.clock.advance(std::time::Duration::from_secs(120));
    let next = fetch().await;
    (app, next)
}

#[tokio::test]
async fn an_answer_lost_after_microsoft_rotated_loses_nothing() {
    // Microsoft keeps an old refresh token valid after issuing a new one.
    let (app, next) = after_a_lost_answer("outlook", "/microsoft/common/oauth2/v2.0/token").await;
    assert_eq!(
        next,
        reqwest::StatusCode::OK,
        "the kept refresh token still works"
    );
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    assert_eq!(status["status"], "connected");
}

#[tokio::test]
async fn an_answer_lost_after_notion_rotated_asks_the_user_to_reconnect() {
    // Notion spends the old refresh token: its verdict is final, and said plainly.
    let (app, next) = after_a_lost_answer("notion", "/notion/v1/oauth/token").await;
    assert_eq!(next, reqwest::StatusCode::CONFLICT);
    let (_, status) = app.get_json("/api/auth/notion/status").await;
    assert_eq!(status["status"], "needs_reauth");
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(kind, _, reason)| kind == "connection.needs_reauth"
            && reason.as_deref() == Some("invalid_grant")));
}

#[tokio::test]
async fn the_callback_says_how_long_the_provider_took() {
    // W3C Server Timing (https://www.w3.org/TR/server-timing/): `provider;dur=<ms>`, so the
    // hub's own share of a slow connect is told apart from the provider's, and `hub;dur=<ms>`
    // on the authorize and the callback, the hub's whole time on each (issue 19).
    let app = spawn_app().await;
    app.signed_in("tom").await;
    let sent = std::time::Instant::now();
    let start = app
        .client
        .get(app.url("/api/auth/github/authorize"))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("authorize");
    let start_took = sent.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(start.status(), StatusCode::OK);
    let start_hub = server_timing(&start, "hub").expect("the authorize's hub;dur");
    assert!(
        (0.0..start_took).contains(&start_hub),
        "within the authorize's {start_took} ms"
    );
    assert_eq!(server_timing(&start, "provider"), None, "no provider asked");
    let body: serde_json::Value = start.json().await.expect("json");
    let authorize = body["authorization_url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("url");
    let callback = app.consent(&authorize, "tom-gh", "allow").await;
    app.sandbox
        .inject(TOKEN_PATH, Fault::Slow(Duration::from_millis(400)));
    let sent = std::time::Instant::now();
    let response = app.client.get(callback).send().await.expect("callback");
    let took = sent.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(location(&response), "/connections?connected=github");
    let provider = server_timing(&response, "provider").expect("provider;dur");
    let hub = server_timing(&response, "hub").expect("hub;dur");
    assert!(
        400.0 <= provider && provider <= hub && hub < took,
        "the provider's 400 ms wait ({provider} ms) within the hub's {hub} ms, within the \
         callback's {took} ms"
    );
}

/// A `Server-Timing` metric's duration, from any of the answer's `Server-Timing` headers.
fn server_timing(response: &reqwest::Response, name: &str) -> Option<f64> {
    let prefix = format!("{name};dur=");
    response
        .headers()
        .get_all("server-timing")
        .iter()
        .flat_map(|value| value.to_str().expect("text").split(','))
        .find_map(|metric| metric.trim().strip_prefix(&prefix)?.parse().ok())
}
