//! Notion: Basic client auth with a JSON body, owner=user, no expires_in, rotating refresh
//! tokens, the Notion-Version header on API calls, revoke with Basic and JSON.

use super::*;
use reqwest::StatusCode;

const TOKEN: &str = "/v1/oauth/token";

#[tokio::test]
async fn notion_wants_basic_auth_with_a_json_body() {
    let app = spawn_app().await;
    app.signed_in("nina").await;
    let code = code_with(&app, "notion", |_| {}).await;
    let form = code.exchange(TOKEN, Send::BasicForm).await;
    assert_eq!(form.status(), StatusCode::BAD_REQUEST, "a form body fails");
    let in_body = code.exchange(TOKEN, Send::BodyJson).await;
    assert_eq!(
        in_body.status(),
        StatusCode::UNAUTHORIZED,
        "credentials go in Basic"
    );

    let response = code.exchange(TOKEN, Send::BasicJson).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    for key in [
        "bot_id",
        "workspace_id",
        "workspace_name",
        "owner",
        "refresh_token",
    ] {
        assert!(!body[key].is_null(), "{key} in {body}");
    }
    assert!(
        body.get("expires_in").is_none(),
        "Notion sends no expires_in"
    );

    let refresh = |token: &str| {
        reqwest::Client::new()
            .post(code.url(TOKEN))
            .basic_auth(&code.client_id, Some(SECRET))
            .json(&serde_json::json!({"grant_type": "refresh_token", "refresh_token": token}))
            .send()
    };
    let first = body["refresh_token"].as_str().expect("refresh");
    let rotated = json(refresh(first).await.expect("refresh")).await;
    assert!(rotated["refresh_token"].is_string(), "{rotated}");
    let reused = refresh(first).await.expect("refresh");
    assert_eq!(
        reused.status(),
        StatusCode::BAD_REQUEST,
        "rotated: the old one is spent"
    );
}

#[tokio::test]
async fn notion_needs_owner_user_and_the_version_header() {
    let app = spawn_app().await;
    app.signed_in("ned").await;
    let no_owner = authorize_url(&app, "notion", without(&["owner"])).await;
    let page = app.client.get(no_owner).send().await.expect("authorize");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);

    let code = code_with(&app, "notion", |_| {}).await;
    let body = json(code.exchange(TOKEN, Send::BasicJson).await).await;
    let token = body["access_token"].as_str().expect("access");
    let client = reqwest::Client::new();
    let me = client.get(code.url("/v1/users/me")).bearer_auth(token);
    let unversioned = me.try_clone().expect("clone").send().await.expect("me");
    assert_eq!(unversioned.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(unversioned).await["code"], "missing_version");
    let versioned = me
        .header("Notion-Version", "2022-06-28")
        .send()
        .await
        .expect("me");
    let user = json(versioned).await;
    assert_eq!(user["bot"]["owner"]["user"]["name"], "Sandbox User");
    assert_eq!(user["id"], body["bot_id"]);

    let revoke = client
        .post(code.url("/v1/oauth/revoke"))
        .basic_auth(&code.client_id, Some(SECRET));
    let form = revoke
        .try_clone()
        .expect("clone")
        .form(&[("token", token)])
        .send()
        .await;
    assert_eq!(
        form.expect("revoke").status(),
        StatusCode::BAD_REQUEST,
        "JSON only"
    );
    let ok = revoke
        .json(&serde_json::json!({"token": token}))
        .send()
        .await;
    assert_eq!(ok.expect("revoke").status(), StatusCode::OK);
    assert!(!app.sandbox.token_is_live(token));
}
