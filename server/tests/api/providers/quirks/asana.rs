//! Asana: client credentials in the form body, users/me as {data: …}, refresh answers without a
//! new refresh token, revoke with the refresh token only.

use super::*;
use reqwest::StatusCode;

const TOKEN: &str = "/-/oauth_token";
const PKCE: &[&str] = &["code_challenge", "code_challenge_method"];

#[tokio::test]
async fn asana_wants_client_credentials_in_the_form_body() {
    let app = spawn_app().await;
    app.signed_in("ada").await;
    let code = code_with(&app, "asana", without(PKCE)).await;
    let basic = code.exchange(TOKEN, Send::BasicForm).await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(basic).await["error"], "invalid_client");
    let body = json(code.exchange_in_body(TOKEN).await).await;
    assert_eq!(body["data"]["name"], "Sandbox User");
    let refresh = body["refresh_token"].as_str().expect("refresh");

    let refreshed = reqwest::Client::new()
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
    let refreshed = json(refreshed).await;
    assert!(refreshed["access_token"].is_string(), "{refreshed}");
    assert!(
        refreshed.get("refresh_token").is_none(),
        "keep the old refresh token"
    );
}

#[tokio::test]
async fn asana_revokes_with_the_refresh_token_only() {
    let app = spawn_app().await;
    app.signed_in("abe").await;
    let code = code_with(&app, "asana", without(PKCE)).await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let access = body["access_token"].as_str().expect("access");
    let refresh = body["refresh_token"].as_str().expect("refresh");
    let client = reqwest::Client::new();
    let me = json(
        client
            .get(code.url("/api/1.0/users/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("me"),
    )
    .await;
    assert_eq!(me["data"]["email"], "sandbox-user@asana.test");
    assert!(me["data"]["gid"].is_string());

    let revoke = |token: &str| {
        client
            .post(code.url("/-/oauth_revoke"))
            .form(&[
                ("client_id", code.client_id.as_str()),
                ("client_secret", SECRET),
                ("token", token),
            ])
            .send()
    };
    assert_eq!(
        revoke(access).await.expect("revoke").status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        revoke(refresh).await.expect("revoke").status(),
        StatusCode::OK
    );
    assert!(!app.sandbox.token_is_live(access), "the grant ended");
}

/// Asana's two scope modes are mutually exclusive since 2025: an app registered for granular
/// scopes is refused `default` (full permissions), alone or mixed in (Asana, "OAuth scopes",
/// https://developers.asana.com/docs/oauth#oauth-scopes and
/// https://developers.asana.com/docs/oauth-scopes, checked 2026-11-29). The hub's default
/// scopes are granular, so a new app connects as registered; a mix is refused at Asana and
/// the user gets the hub's clear error, with nothing stored.
#[tokio::test]
async fn asana_refuses_default_mixed_with_granular_scopes() {
    let app = spawn_app_with(|c| {
        provider(c, "asana").scopes = Some(server::base::config::Scopes::Text(
            "default tasks:read".into(),
        ));
    })
    .await;
    app.signed_in("asa").await;
    let authorize = app.start_connect_to(&app.client, "asana").await;
    let refused = app.client.get(authorize).send().await.expect("authorize");
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let callback = location(&refused);
    assert!(callback.contains("error=forbidden_scopes"), "{callback}");
    let back = app.client.get(callback).send().await.expect("callback");
    assert_eq!(
        location(&back),
        "/connections?error=provider_error&service=asana"
    );
    assert_eq!(app.count("connections").await, 0);
}
