//! Slack: form bodies only, errors as HTTP 200 with ok:false, no PKCE, comma-separated scopes,
//! the user token under `authed_user`, auth.test and auth.revoke with the calling token.

use super::*;
use reqwest::StatusCode;

const ACCESS: &str = "/api/oauth.v2.access";

#[tokio::test]
async fn slack_refuses_json_bodies_with_http_200_and_ok_false() {
    let app = spawn_app().await;
    app.signed_in("sam").await;
    let code = code_with(&app, "slack", |_| {}).await;
    let response = code.exchange(ACCESS, Send::BodyJson).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "Slack errors are HTTP 200"
    );
    let body = json(response).await;
    assert_eq!(body["ok"], false);
    assert!(body.get("access_token").is_none());
    // Only the body's format was wrong: the same code in a form body works.
    let again = json(code.exchange(ACCESS, Send::BodyForm).await).await;
    assert_eq!(again["ok"], true, "{again}");
}

#[tokio::test]
async fn slack_refuses_pkce_and_space_separated_scopes() {
    let app = spawn_app().await;
    app.signed_in("sue").await;
    let pkce = authorize_url(&app, "slack", |p| {
        with(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )(p);
        with("code_challenge_method", "S256")(p);
    })
    .await;
    let response = app.client.get(pkce).send().await.expect("authorize");
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "PKCE must not be sent"
    );

    let spaced = authorize_url(
        &app,
        "slack",
        with("user_scope", "users:read channels:read"),
    )
    .await;
    let response = app.client.get(spaced).send().await.expect("authorize");
    assert!(location(&response).contains("error=invalid_scope"));

    let code = code_with(&app, "slack", |_| {}).await;
    let response = reqwest::Client::new()
        .post(code.url(ACCESS))
        .basic_auth(&code.client_id, Some(SECRET))
        .form(&[
            ("code", code.code.as_str()),
            ("redirect_uri", &code.redirect_uri),
            ("code_verifier", "a-verifier-the-app-never-asked-for"),
        ])
        .send()
        .await
        .expect("access");
    assert_eq!(json(response).await["ok"], false);
}

#[tokio::test]
async fn slack_nests_the_user_token_and_revokes_the_calling_token() {
    let app = spawn_app().await;
    app.signed_in("sid").await;
    let code = code_with(&app, "slack", with("scope", "chat:write")).await;
    let body = json(code.exchange(ACCESS, Send::BasicForm).await).await;
    assert_eq!(body["ok"], true);
    assert_eq!(body["team"]["name"], "Sandbox Team");
    assert!(body["access_token"]
        .as_str()
        .expect("bot")
        .starts_with("xoxb-"));
    let user = body["authed_user"]["access_token"]
        .as_str()
        .expect("user token");
    assert!(user.starts_with("xoxp-"));
    assert_eq!(
        body["authed_user"]["scope"],
        "users:read,channels:read,chat:write"
    );

    let client = reqwest::Client::new();
    let call = |method: &str| {
        client
            .post(code.url(&format!("/api/{method}")))
            .bearer_auth(user)
            .send()
    };
    let test = json(call("auth.test").await.expect("auth.test")).await;
    assert_eq!(test["user"], "sandbox-user");
    let get = client
        .get(code.url("/api/auth.test"))
        .bearer_auth(user)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        get.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "auth.test is POST"
    );
    let anonymous = json(
        client
            .post(code.url("/api/auth.test"))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(anonymous["error"], "not_authed");

    let revoked = json(call("auth.revoke").await.expect("auth.revoke")).await;
    assert_eq!(revoked["revoked"], true);
    // A revoked token is `token_revoked` to Slack (auth.test's errors: "Authentication token is
    // for a deleted user or workspace or the app has been removed"), a token it never issued
    // `invalid_auth`; both with HTTP 200.
    let test = json(call("auth.test").await.expect("auth.test")).await;
    assert_eq!(
        (test["ok"].clone(), test["error"].clone()),
        (false.into(), "token_revoked".into())
    );
    let bot = body["access_token"].as_str().expect("bot");
    assert!(
        app.sandbox.token_is_live(bot),
        "only the calling token is revoked"
    );
}

/// Slack reports a revoked token on `auth.test` with HTTP 200 and `ok: false`
/// (`token_revoked`: "the app has been removed"; `invalid_auth`; `account_inactive`), never a
/// 401 (Slack API, auth.test, https://api.slack.com/methods/auth.test). Slack tokens without
/// rotation never expire, so only the liveness check can notice: the connection must turn to
/// needs_reauth, not stay "connected" forever.
#[tokio::test]
async fn a_token_revoked_in_slack_turns_the_connection_to_reconnect() {
    let app = spawn_app_with(|c| {
        c.jobs.liveness_interval_seconds = 1;
        c.jobs.liveness_period_seconds = 1;
    })
    .await;
    app.signed_in("sara").await;
    app.connect("slack", "sandbox-user").await;
    app.revoke_first_app_grant().await;
    let state = app.wait_for_status("slack", "needs_reauth").await;
    assert_eq!(state, "needs_reauth", "the liveness check noticed");
    assert!(app.audit_kinds().await.iter().any(|(kind, _, reason)| {
        kind == "connection.needs_reauth" && reason.as_deref() == Some("revoked_at_provider")
    }));
}

/// Slack's OAuth v2 installs a bot token (`scope`, top level) and a user token (`user_scope`,
/// under `authed_user`) in one grant (Slack API, "Installing with OAuth",
/// https://api.slack.com/authentication/oauth-v2, checked 2026-11-29). With `bot_scopes`
/// configured, the hub keeps both; the token API hands out the user's by default and the
/// bot's with `?token=bot`.
#[tokio::test]
async fn slack_keeps_the_bot_token_beside_the_users() {
    let app = spawn_app_with(|c| {
        provider(c, "slack").bot_scopes = Some(server::base::config::Scopes::Text(
            "chat:write,channels:read".into(),
        ));
    })
    .await;
    app.signed_in("bo").await;
    let authorize = app.start_connect_to(&app.client, "slack").await;
    let scope = authorize
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned());
    assert_eq!(scope.as_deref(), Some("chat:write,channels:read"));
    assert_eq!(
        app.connect("slack", "sandbox-user").await,
        "/connections?connected=slack"
    );
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("bo").await;
    let api = reqwest::Client::new();
    let fetch = |query: &'static str| {
        api.get(app.url(&format!(
            "/api/v1/users/{user}/connections/slack/token{query}"
        )))
        .bearer_auth(&key)
        .send()
    };
    let user_token = json(fetch("").await.expect("api")).await;
    assert!(user_token["access_token"]
        .as_str()
        .expect("token")
        .starts_with("xoxp-"));
    let bot = json(fetch("?token=bot").await.expect("api")).await;
    assert!(
        bot["access_token"]
            .as_str()
            .expect("token")
            .starts_with("xoxb-"),
        "{bot}"
    );
    assert_eq!(
        bot["scopes"],
        serde_json::json!(["chat:write", "channels:read"])
    );
    let odd = fetch("?token=admin").await.expect("api");
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
    assert!(
        !app.stored_text()
            .await
            .iter()
            .any(|(_, text)| text.contains("xoxb-")),
        "the bot token is sealed like the rest"
    );
}

/// Without bot scopes there is no bot token to hand out: a clear 404, not the user's token.
#[tokio::test]
async fn slack_without_bot_scopes_has_no_bot_token() {
    let app = spawn_app().await;
    app.signed_in("una").await;
    app.connect("slack", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("una").await;
    let answer = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/users/{user}/connections/slack/token?token=bot"
        )))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(answer).await["error"], "no_bot_token");
}
