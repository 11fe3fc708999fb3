//! GitHub: an OAuth app's tokens never expire; a GitHub App's user tokens do (8 hours), with a
//! refresh token (about 6 months) that each refresh spends, and a dead refresh token answered
//! with HTTP 200 `bad_refresh_token` (GitHub Docs, "Refreshing user access tokens",
//! https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens,
//! checked 2026-11-29). The sandbox serves a GitHub App under `/github-app`.

use super::*;
use chrono::{Duration, Utc};
use reqwest::StatusCode;

/// A hub whose `github` provider is the sandbox's GitHub App.
async fn github_app() -> TestApp {
    spawn_app_with(|c| {
        let sandbox = c
            .sandbox
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let url = |path: &str| Some(format!("{sandbox}/github-app{path}").parse().expect("url"));
        let github = provider(c, "github");
        github.client_id = Some("sandbox-github-app".into());
        github.client_secret = Some(SECRET.to_string().into());
        github.authorize_url = url("/login/oauth/authorize");
        github.token_url = url("/login/oauth/access_token");
        github.userinfo_url = url("/user");
        github.revoke_url = url("/applications/{client_id}/grant");
        c.jobs.refresh_interval_seconds = 3600;
    })
    .await
}

#[tokio::test]
async fn a_github_app_token_expires_in_eight_hours_and_refreshes_with_rotation() {
    let app = github_app().await;
    app.signed_in("gia").await;
    assert_eq!(
        app.connect("github", "sandbox-user").await,
        "/connections?connected=github"
    );
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(
        status["scopes"], status["requested_scopes"],
        "a GitHub App's blank scope warns of nothing missing"
    );
    let expires: chrono::DateTime<Utc> = status["expires_at"]
        .as_str()
        .expect("an expiry")
        .parse()
        .expect("time");
    let lifetime = expires - Utc::now();
    assert!(
        lifetime > Duration::hours(7) && lifetime <= Duration::hours(8),
        "{lifetime}"
    );
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("gia").await;
    let first = json(app.token_answer(&key, &user, "github").await).await;
    app.set_expiry(Utc::now() - Duration::minutes(1)).await;
    let second = json(app.token_answer(&key, &user, "github").await).await;
    assert_ne!(first["access_token"], second["access_token"], "refreshed");
    assert!(second["access_token"]
        .as_str()
        .expect("token")
        .starts_with("ghu_"));
    // The rotated refresh token was kept: the next expiry refreshes again.
    app.set_expiry(Utc::now() - Duration::minutes(1)).await;
    let third = app.token_answer(&key, &user, "github").await;
    assert_eq!(third.status(), StatusCode::OK);
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status["status"], "connected");
    // Disconnect revokes the grant of the app.
    let body = json(app.post("/api/auth/github/disconnect").await).await;
    assert_eq!(body["revocation"], "revoked");
}

/// A dead refresh token (the user revoked the app, or six months passed) answers HTTP 200
/// `bad_refresh_token`: the connection waits for its user, it is not retried forever.
#[tokio::test]
async fn a_github_app_bad_refresh_token_asks_the_user_to_reconnect() {
    let app = github_app().await;
    app.signed_in("gil").await;
    app.connect("github", "sandbox-user").await;
    let access = app.sandbox.issued_access_tokens().pop().expect("token");
    assert!(
        app.sandbox.revoke_grant(&access),
        "the user revokes the app"
    );
    app.set_expiry(Utc::now() - Duration::minutes(1)).await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("gil").await;
    let answer = app.token_answer(&key, &user, "github").await;
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    assert_eq!(json(answer).await["error"], "needs_reauth");
    assert!(app.audit_kinds().await.iter().any(|(kind, _, reason)| {
        kind == "connection.needs_reauth" && reason.as_deref() == Some("bad_refresh_token")
    }));
}

/// An OAuth app (the default) is not a GitHub App: its tokens never expire and it has no
/// refresh grant.
#[tokio::test]
async fn a_github_oauth_app_token_never_expires() {
    let app = spawn_app().await;
    app.signed_in("gus").await;
    app.connect("github", "sandbox-user").await;
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert!(status["expires_at"].is_null(), "{status}");
}
