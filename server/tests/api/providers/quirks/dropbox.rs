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
