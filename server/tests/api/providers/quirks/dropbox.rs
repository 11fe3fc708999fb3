//! Dropbox: a refresh token only with token_access_type=offline, RPC calls without arguments
//! take no body and no Content-Type, revoke with the Bearer token.

use super::*;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;

const TOKEN: &str = "/oauth2/token";
const PKCE: &[&str] = &["code_challenge", "code_challenge_method"];
const ACCOUNT: &str = "/2/users/get_current_account";

#[tokio::test]
async fn dropbox_gives_a_refresh_token_only_offline() {
    let app = spawn_app().await;
    app.signed_in("dan").await;
    let online = code_with(&app, "dropbox", |p| {
        without(PKCE)(p);
        without(&["token_access_type"])(p);
    })
    .await;
    let body = json(online.exchange(TOKEN, Send::BasicForm).await).await;
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let offline = code_with(&app, "dropbox", without(PKCE)).await;
    let body = json(offline.exchange_in_body(TOKEN).await).await;
    assert!(body["refresh_token"].is_string(), "{body}");
}

#[tokio::test]
async fn dropbox_rpc_without_arguments_takes_no_body_and_no_content_type() {
    let app = spawn_app().await;
    app.signed_in("dora").await;
    let code = code_with(&app, "dropbox", without(PKCE)).await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let token = body["access_token"].as_str().expect("access");
    let client = reqwest::Client::new();
    let call = |path: &str| client.post(code.url(path)).bearer_auth(token);

    let typed = call(ACCOUNT)
        .header(CONTENT_TYPE, "application/json")
        .send()
        .await;
    let typed = typed.expect("account");
    assert_eq!(
        typed.status(),
        StatusCode::BAD_REQUEST,
        "JSON type, empty body"
    );
    assert!(typed
        .text()
        .await
        .expect("text")
        .contains("could not decode input as JSON"));
    let form = call(ACCOUNT)
        .form(&[("x", "y")])
        .send()
        .await
        .expect("account");
    assert_eq!(form.status(), StatusCode::BAD_REQUEST);
    let null = call(ACCOUNT)
        .header(CONTENT_TYPE, "application/json")
        .body("null")
        .send()
        .await;
    assert_eq!(
        null.expect("account").status(),
        StatusCode::OK,
        "JSON null is no arguments"
    );
    let account = json(call(ACCOUNT).send().await.expect("account")).await;
    assert_eq!(account["name"]["display_name"], "Sandbox User");
    assert!(client
        .get(code.url(ACCOUNT))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
        .status()
        .is_client_error());

    let revoke = call("/2/auth/token/revoke").send().await.expect("revoke");
    assert_eq!(revoke.status(), StatusCode::OK);
    let after = call(ACCOUNT).send().await.expect("account");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

/// Dropbox access tokens last four hours and its revoke call is made with the access token
/// (Dropbox OAuth Guide, "Using refresh tokens", https://developers.dropbox.com/oauth-guide;
/// HTTP API, auth/token/revoke and AuthError `expired_access_token`,
/// https://www.dropbox.com/developers/documentation/http/documentation). Disconnecting
/// after the token has expired refreshes first and then revokes (before, it failed and the
/// retries failed the same way until they gave up, leaving the grant live at Dropbox).
#[tokio::test]
async fn disconnecting_after_the_access_token_expired_still_revokes() {
    let app = spawn_app().await;
    app.signed_in("dora").await;
    app.connect("dropbox", "sandbox-user").await;
    let access = app.sandbox.issued_access_tokens().pop().expect("token");
    app.sandbox.expire_access_tokens();
    let body: serde_json::Value = app
        .post("/api/auth/dropbox/disconnect")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["revocation"], "revoked", "{body}");
    assert_eq!(app.count("revocation_retries").await, 0);
    assert!(
        !app.sandbox.revoke_grant(&access),
        "the whole grant is gone at Dropbox"
    );
}

/// A revocation that failed at disconnect is retried hours later, when the access token it
/// kept has expired: the retry refreshes first, then revokes.
#[tokio::test]
async fn a_revocation_retry_refreshes_an_expired_access_token_first() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app_with(|c| c.jobs.revocation_interval_seconds = 1).await;
    app.signed_in("dale").await;
    app.connect("dropbox", "sandbox-user").await;
    let access = app.sandbox.issued_access_tokens().pop().expect("token");
    app.sandbox.inject(
        "/dropbox/2/auth/token/revoke",
        server::sandbox::Fault::ServerError,
    );
    let body: serde_json::Value = app
        .post("/api/auth/dropbox/disconnect")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["revocation"], "revocation_failed", "{body}");
    assert_eq!(app.count("revocation_retries").await, 1);
    app.sandbox.expire_access_tokens();
    app.db
        .execute_unprepared(
            "UPDATE revocation_retries SET next_attempt_at = '2000-01-01T00:00:00+00:00'",
        )
        .await
        .expect("make due");
    let mut left = 1;
    for _ in 0..50 {
        left = app.count("revocation_retries").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the retry ran");
    assert!(app.audit_kinds().await.iter().any(|(kind, _, reason)| {
        kind == "connection.revocation" && reason.as_deref() == Some("retry_succeeded")
    }));
    assert!(!app.sandbox.revoke_grant(&access), "revoked at Dropbox");
}
