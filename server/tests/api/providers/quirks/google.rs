//! Google: refresh tokens only offline (and for a returning user only with prompt=consent),
//! codes bound to the PKCE verifier, long-form scopes, revocation ending the whole grant.

use super::*;
use reqwest::StatusCode;

const TOKEN: &str = "/token";
const PKCE: &[&str] = &["code_challenge", "code_challenge_method"];

#[tokio::test]
async fn google_gives_a_refresh_token_only_for_offline_access_with_consent() {
    let app = spawn_app().await;
    app.signed_in("gina").await;
    let online = code_with(&app, "gmail", |p| {
        without(PKCE)(p);
        without(&["access_type"])(p);
    })
    .await;
    let body = json(online.exchange_in_body(TOKEN).await).await;
    assert!(body["access_token"].is_string(), "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "online: no refresh token"
    );
    assert!(body["scope"]
        .as_str()
        .expect("scope")
        .contains("https://www.googleapis.com/auth/userinfo.email"));

    let offline = code_with(&app, "gmail", without(PKCE)).await;
    let body = json(offline.exchange_in_body(TOKEN).await).await;
    assert!(
        body["refresh_token"].is_string(),
        "offline with consent: {body}"
    );

    // A returning user without prompt=consent gets no new refresh token.
    let returning = code_with(&app, "gmail", |p| {
        without(PKCE)(p);
        without(&["prompt"])(p);
    })
    .await;
    let body = json(returning.exchange_in_body(TOKEN).await).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn google_codes_are_single_use_and_bound_to_the_pkce_verifier() {
    let app = spawn_app().await;
    app.signed_in("gail").await;
    let code = code_with(&app, "gdrive", |_| {}).await;
    let response = code.exchange_in_body(TOKEN).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"], "invalid_grant");

    let code = code_with(&app, "gdrive", without(PKCE)).await;
    assert_eq!(code.exchange_in_body(TOKEN).await.status(), StatusCode::OK);
    let again = code.exchange_in_body(TOKEN).await;
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "a code is single use"
    );

    let unknown = authorize_url(&app, "gmail", with("scope", "gmail.readonly")).await;
    let page = app.client.get(unknown).send().await.expect("page");
    assert_eq!(
        page.status(),
        StatusCode::BAD_REQUEST,
        "short Gmail scopes are unknown"
    );
}

#[tokio::test]
async fn google_revoking_the_refresh_token_ends_the_grant() {
    let app = spawn_app().await;
    app.signed_in("gwen").await;
    let code = code_with(&app, "gmail", without(PKCE)).await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let (access, refresh) = (
        body["access_token"].as_str().expect("access"),
        body["refresh_token"].as_str().expect("refresh"),
    );
    let client = reqwest::Client::new();
    let me = |token: &str| {
        client
            .get(code.url("/v1/userinfo"))
            .bearer_auth(token)
            .send()
    };
    let info = json(me(access).await.expect("userinfo")).await;
    assert_eq!(info["name"], "Sandbox User");
    assert_eq!(info["email"], "sandbox-user@gmail.test");

    let revoked = client
        .post(code.url("/revoke"))
        .form(&[("token", refresh)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        me(access).await.expect("userinfo").status(),
        StatusCode::UNAUTHORIZED
    );
    let refreshed = client
        .post(code.url(TOKEN))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &code.client_id),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(json(refreshed).await["error"], "invalid_grant");
}

/// Gmail and Drive may share one Google client, and Google's revocation ends every scope the
/// user granted to that client (Google Identity, "Using OAuth 2.0 for Web Server
/// Applications", Revoking a token,
/// https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke, checked
/// 2026-11-29; the sandbox revokes per client and user as Google does). Disconnecting Gmail
/// while Drive is connected through the same client deletes Gmail here and says so, without
/// revoking: Drive keeps working. Disconnecting the last of them revokes.
#[tokio::test]
async fn disconnecting_gmail_keeps_drive_working_on_a_shared_google_client() {
    let app = spawn_app().await;
    app.signed_in("gwen").await;
    app.connect("gmail", "sandbox-user").await;
    let gmail_token = app.sandbox.issued_access_tokens().pop().expect("gmail");
    app.connect("gdrive", "sandbox-user").await;
    let drive_token = app
        .sandbox
        .issued_access_tokens()
        .into_iter()
        .find(|t| *t != gmail_token)
        .expect("drive");

    let body = json(app.post("/api/auth/gmail/disconnect").await).await;
    assert_eq!(body["revocation"], "kept_for_other_services", "{body}");
    let (_, gmail) = app.get_json("/api/auth/gmail/status").await;
    assert_eq!(gmail["connected"], false, "deleted here");
    assert!(
        app.sandbox.token_is_live(&drive_token),
        "Drive's grant lives"
    );
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("gwen").await;
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(1))
        .await;
    let refreshed = app.token_answer(&key, &user, "gdrive").await;
    assert_eq!(refreshed.status(), StatusCode::OK, "Drive still refreshes");
    let page = app
        .get("/connections?disconnected=gmail&revocation=kept_for_other_services")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("was not revoked"), "the page says why");

    let body = json(app.post("/api/auth/gdrive/disconnect").await).await;
    assert_eq!(body["revocation"], "revoked", "the last one revokes");
    assert!(!app.sandbox.token_is_live(&drive_token));
    assert!(
        !app.sandbox.token_is_live(&gmail_token),
        "the whole client grant"
    );
}

/// Reconnecting Gmail to another Google account revokes the replaced grant, except where
/// Google would end Drive's too: while Drive uses the same client, the old Gmail tokens are
/// left to the user (Google's revocation is per client and user, so revoking them would end
/// Drive's grant for that user).
#[tokio::test]
async fn reconnecting_gmail_never_revokes_drive_on_a_shared_client() {
    let app = spawn_app().await;
    app.signed_in("gail").await;
    app.connect("gmail", "sandbox-user").await;
    app.connect("gdrive", "sandbox-user").await;
    let before = app.sandbox.issued_access_tokens();
    app.connect("gmail", "another-user").await;
    assert!(
        before.iter().all(|t| app.sandbox.token_is_live(t)),
        "Drive's grant (and so the old Gmail tokens with it) is not revoked"
    );
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("gail").await;
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(1))
        .await;
    let drive = app.token_answer(&key, &user, "gdrive").await;
    assert_eq!(drive.status(), StatusCode::OK, "Drive still refreshes");
}
