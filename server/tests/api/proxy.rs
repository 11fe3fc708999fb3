//! Calls through the hub (`/api/v1/proxy/{service}/{*path}`) against the sandbox's strict
//! emulations: the credentials each provider expects, one refresh on a 401, a pause the
//! provider asks for held by every instance, redirects not followed, headers of one hop and
//! credentials dropped both ways, bodies bounded, every call audited, nothing secret logged.

use crate::helpers::*;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use server::sandbox::Fault;

/// A request through the proxy for `user`, with `key`.
fn through(app: &TestApp, key: &str, user: &str, method: Method, path: &str) -> RequestBuilder {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .request(method, app.url(&format!("/api/v1/proxy/{path}")))
        .bearer_auth(key)
        .header("x-atom-user", user)
}

async fn json(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

/// The Authorization header the sandbox received last on `path`.
fn credential_seen(app: &TestApp, path: &str) -> String {
    let seen = app.sandbox.requests_to(path);
    let last = seen
        .last()
        .unwrap_or_else(|| panic!("no request to {path}"));
    last.get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_provider_is_called_with_the_credentials_it_expects() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let user = app.user_id("alice").await;
    let key = app.api_key(&["proxy:*"]).await;
    // (service, method, path under the API, sandbox path, where the account's name is)
    let cases: [(&str, Method, &str, &str, &str); 10] = [
        (
            "gmail",
            Method::GET,
            "gmail/v1/users/me/profile",
            "/google/gmail/v1/users/me/profile",
            "/emailAddress",
        ),
        (
            "gdrive",
            Method::GET,
            "drive/v3/about?fields=user",
            "/google/drive/v3/about",
            "/user/displayName",
        ),
        (
            "slack",
            Method::POST,
            "auth.test",
            "/slack/api/auth.test",
            "/user",
        ),
        (
            "trello",
            Method::GET,
            "members/me?fields=fullName,username",
            "/trello/1/members/me",
            "/fullName",
        ),
        (
            "asana",
            Method::GET,
            "users/me",
            "/asana/api/1.0/users/me",
            "/data/name",
        ),
        (
            "notion",
            Method::GET,
            "users/me",
            "/notion/v1/users/me",
            "/bot/owner/user/name",
        ),
        (
            "dropbox",
            Method::POST,
            "users/get_current_account",
            "/dropbox/2/users/get_current_account",
            "/name/display_name",
        ),
        (
            "outlook",
            Method::GET,
            "me",
            "/microsoft/v1.0/me",
            "/displayName",
        ),
        (
            "teams",
            Method::GET,
            "me",
            "/microsoft/v1.0/me",
            "/displayName",
        ),
        ("github", Method::GET, "user", "/github/user", "/login"),
    ];
    for (service, method, path, sandbox_path, name_at) in cases {
        app.connect(service, "sandbox-user").await;
        let response = through(
            &app,
            &key,
            &user,
            method.clone(),
            &format!("{service}/{path}"),
        )
        .header("accept", "application/json")
        .send()
        .await
        .expect("proxy");
        assert_eq!(response.status(), StatusCode::OK, "{service}");
        let body = json(response).await;
        let name = body
            .pointer(name_at)
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(
            name.contains("Sandbox User") || name.contains("sandbox-user"),
            "{service}: the provider answered for the user: {body}"
        );
        let credential = credential_seen(&app, sandbox_path);
        if service == "trello" {
            // RFC 5849: a signed request, never the bare token.
            assert!(credential.starts_with("OAuth "), "{credential}");
            assert!(credential.contains("oauth_signature="), "{credential}");
        } else {
            assert!(credential.starts_with("Bearer "), "{service}: {credential}");
        }
        assert_ne!(
            credential,
            format!("Bearer {key}"),
            "the API key stays here"
        );
    }
    let notion = app.sandbox.requests_to("/notion/v1/users/me");
    assert!(
        notion.last().expect("seen").contains_key("notion-version"),
        "Notion-Version added"
    );

    // Each call is audited: method, path template, status, time; never a token.
    let calls: Vec<String> = app
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "api.proxy_call")
        .map(|(_, outcome, reason)| format!("{outcome} {}", reason.unwrap_or_default()))
        .collect();
    assert_eq!(calls.len(), 10, "{calls:?}");
    assert!(
        calls[0].starts_with("success GET /gmail/v1/users/me/profile 200 "),
        "{calls:?}"
    );
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"atom_proxy_requests_total{provider="github",status="200"}"#),
        "counted per provider and status"
    );
    let mut secrets = app.sandbox.issued_access_tokens();
    secrets.extend(
        app.sandbox
            .trello_credentials()
            .into_iter()
            .flat_map(|(t, s)| [t, s]),
    );
    secrets.push(key);
    let logs = logs();
    for secret in secrets {
        assert!(!logs.contains(&secret), "a secret reached the log");
    }
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_call_repeated() {
    let app = spawn_app().await;
    app.signed_in("nora").await;
    let user = app.user_id("nora").await;
    let key = app.api_key(&["proxy:notion"]).await;
    app.connect("notion", "sandbox-user").await;
    let token_calls = |app: &TestApp| app.sandbox.requests_to("/notion/v1/oauth/token").len();
    let connected = token_calls(&app);
    let exchanges = |app: &TestApp| token_calls(app) - connected;

    // Notion states no lifetime: the hub learns the token died only from the provider's 401.
    app.sandbox.expire_access_tokens();
    let response = through(&app, &key, &user, Method::GET, "notion/users/me")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(exchanges(&app), 1, "exactly one refresh");
    let again = through(&app, &key, &user, Method::GET, "notion/users/me")
        .send()
        .await
        .expect("proxy");
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        exchanges(&app),
        1,
        "the new token is used, no second refresh"
    );

    // A grant the user ended at the provider: one refresh, refused; the user must reconnect.
    let live = app.sandbox.issued_access_tokens().pop().expect("token");
    assert!(app.sandbox.revoke_grant(&live));
    let response = through(&app, &key, &user, Method::GET, "notion/users/me")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json(response).await["error"], "needs_reauth");
    assert_eq!(exchanges(&app), 2, "one refresh, refused");
}

/// Slack answers a call over its rate limit with HTTP 429 and `Retry-After` in seconds (Slack
/// API docs, "Rate limits": "your app will receive a HTTP 429 Too Many Requests error, and a
/// Retry-After HTTP header containing the number of seconds until you can retry";
/// https://docs.slack.dev/apis/web-api/rate-limits), which the sandbox's fault sends.
#[tokio::test]
async fn a_pause_the_provider_asks_for_holds_on_every_instance() {
    let app = spawn_app().await;
    app.signed_in("sam").await;
    let user = app.user_id("sam").await;
    let key = app.api_key(&["proxy:slack"]).await;
    app.connect("slack", "sandbox-user").await;
    let post = |base: &str| {
        Client::new()
            .post(format!("{base}/api/v1/proxy/slack/chat.postMessage"))
            .bearer_auth(&key)
            .header("x-atom-user", &user)
            .json(&serde_json::json!({ "channel": "general", "text": "hi" }))
    };
    let sent = || app.sandbox.requests_to("/slack/api/chat.postMessage").len();
    app.sandbox
        .inject("/slack/api/chat.postMessage", Fault::RateLimited(30));
    let limited = post(&app.base).send().await.expect("proxy");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&limited), 30, "the provider's own answer");
    assert_eq!(json(limited).await["error"], "ratelimited");
    assert_eq!(sent(), 1);

    // Another instance on the same database answers 429 itself, without calling Slack.
    let other = app.second_instance().await;
    let response = post(&other).send().await.expect("proxy");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&response);
    assert!((25..=31).contains(&wait), "{wait}");
    assert_eq!(json(response).await["error"], "rate_limited");
    assert_eq!(sent(), 1, "Slack was not called during the pause");

    // Once the pause is over, calls go through again.
    app.clock.advance(std::time::Duration::from_secs(31));
    let response = post(&app.base).send().await.expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["ok"], true);
    assert_eq!(sent(), 2);
    let reasons: Vec<String> = app
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "api.proxy_call")
        .filter_map(|(_, _, reason)| reason)
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("POST /chat.postMessage cooldown ")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn headers_of_one_hop_and_credentials_stay_behind_both_ways() {
    let app = spawn_app().await;
    app.signed_in("gil").await;
    let user = app.user_id("gil").await;
    let key = app.api_key(&["proxy:github"]).await;
    app.connect("github", "sandbox-user").await;
    app.sandbox.inject("/github/user", Fault::HopHeaders);
    let response = through(&app, &key, &user, Method::GET, "github/user")
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .header("cookie", "atom_session=not-for-github")
        .header("connection", "x-caller-hop")
        .header("x-caller-hop", "one hop only")
        .header("proxy-authorization", "Basic c2VjcmV0")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(
        headers.get("set-cookie").is_none(),
        "the provider's cookie stays"
    );
    assert!(
        headers.get("x-provider-hop").is_none(),
        "named by Connection"
    );
    assert!(headers.get("keep-alive").is_none());
    assert_eq!(headers["x-provider-request"], "kept");
    assert_eq!(json(response).await["login"], "sandbox-user");

    let seen = app.sandbox.requests_to("/github/user");
    let sent = seen.last().expect("the call");
    let token = app.sandbox.issued_access_tokens().pop().expect("token");
    assert_eq!(sent["authorization"], format!("Bearer {token}").as_str());
    assert_eq!(sent["accept"], "application/vnd.github+json");
    assert_eq!(sent["x-github-api-version"], "2022-11-28");
    for gone in [
        "cookie",
        "x-caller-hop",
        "proxy-authorization",
        "x-atom-user",
    ] {
        assert!(sent.get(gone).is_none(), "{gone} was passed on");
    }
}

#[tokio::test]
async fn a_redirect_goes_back_to_the_caller_and_is_never_followed() {
    let app = spawn_app().await;
    app.signed_in("rita").await;
    let user = app.user_id("rita").await;
    let key = app.api_key(&["proxy:github"]).await;
    app.connect("github", "sandbox-user").await;
    app.sandbox.inject("/github/user", Fault::Redirect);
    let response = through(&app, &key, &user, Method::GET, "github/user")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&response), "/trap");
    assert_eq!(app.sandbox.trap_hits(), 0, "the hub did not follow it");
}

#[tokio::test]
async fn bodies_pass_through_within_their_limits() {
    let app = spawn_app_with(|c| {
        c.proxy.max_request_bytes = 1024;
        c.proxy.max_response_bytes = 256 * 1024;
    })
    .await;
    app.signed_in("bea").await;
    let user = app.user_id("bea").await;
    let key = app.api_key(&["proxy:*"]).await;
    app.connect("slack", "sandbox-user").await;
    app.connect("github", "sandbox-user").await;

    let message = serde_json::json!({ "channel": "general", "text": "Hello through the hub" });
    let response = through(&app, &key, &user, Method::POST, "slack/chat.postMessage")
        .json(&message)
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["message"]["text"], "Hello through the hub");

    let large = serde_json::json!({ "channel": "general", "text": "x".repeat(2048) });
    let response = through(&app, &key, &user, Method::POST, "slack/chat.postMessage")
        .json(&large)
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["error"], "body_too_large");
    assert_eq!(
        app.sandbox.requests_to("/slack/api/chat.postMessage").len(),
        1,
        "the large one never reached Slack"
    );

    // An answer that never ends is cut off at the limit, not held whole.
    app.sandbox.inject("/github/user", Fault::Endless);
    let mut response = through(&app, &key, &user, Method::GET, "github/user")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::OK);
    let mut received = 0usize;
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => break "ended",
            Err(_) => break "broke off",
        }
    };
    assert_eq!(ended, "broke off", "a cut-off answer is not a complete one");
    assert!(received <= 256 * 1024, "{received} bytes passed the limit");
}

#[tokio::test]
async fn keys_users_and_paths_are_checked_before_any_call() {
    let app = spawn_app().await;
    app.signed_in("ivy").await;
    let user = app.user_id("ivy").await;
    app.connect("github", "sandbox-user").await;
    let github_only = app.api_key(&["proxy:github"]).await;
    let tokens_only = app.api_key(&["tokens:read"]).await;
    let calls = || app.sandbox.requests_to("/github/user").len();
    let before = calls();

    let cases: Vec<(RequestBuilder, StatusCode, &str)> = vec![
        (
            through(&app, &tokens_only, &user, Method::GET, "github/user"),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ),
        (
            through(
                &app,
                &github_only,
                &user,
                Method::GET,
                "gmail/gmail/v1/users/me/profile",
            ),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ),
        (
            through(&app, &github_only, "nobody", Method::GET, "github/user"),
            StatusCode::NOT_FOUND,
            "unknown_user",
        ),
        // `..` hidden from the URL parser in one encoded segment.
        (
            through(
                &app,
                &github_only,
                &user,
                Method::GET,
                "github/%2e%2e%2Flogin%2Foauth%2Faccess_token",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (i, (request, status, code)) in cases.into_iter().enumerate() {
        let response = request.send().await.expect("proxy");
        assert_eq!(response.status(), status, "case {i}");
        assert_eq!(json(response).await["error"], code, "case {i}");
    }
    let anonymous = Client::new()
        .get(app.url("/api/v1/proxy/github/user"))
        .bearer_auth(&github_only)
        .send()
        .await
        .expect("proxy");
    assert_eq!(
        anonymous.status(),
        StatusCode::BAD_REQUEST,
        "no X-Atom-User"
    );

    let other = app.api_key(&["proxy:*"]).await;
    app.signed_in("zed").await;
    let zed = app.user_id("zed").await;
    let response = through(&app, &other, &zed, Method::GET, "github/user")
        .send()
        .await
        .expect("proxy");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(response).await["error"], "not_connected");
    assert_eq!(calls(), before, "nothing refused reached GitHub");
}
