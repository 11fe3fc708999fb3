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
            .header("Notion-Version", NOTION_VERSION)
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

    let unversioned = client
        .post(code.url("/v1/oauth/revoke"))
        .basic_auth(&code.client_id, Some(SECRET))
        .json(&serde_json::json!({"token": token}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(
        json(unversioned).await["code"],
        "missing_version",
        "revoke too"
    );
    let revoke = client
        .post(code.url("/v1/oauth/revoke"))
        .header("Notion-Version", NOTION_VERSION)
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

/// Notion's reference lists `Notion-Version` as a header of every endpoint, the token and
/// revoke endpoints included (Notion API reference, "Refresh a token",
/// https://developers.notion.com/reference/refresh-a-token, and "Versioning",
/// https://developers.notion.com/reference/versioning, checked 2026-11-29). The sandbox refuses
/// a token request without one; the hub sends the configured version on every call.
#[tokio::test]
async fn notion_token_calls_carry_the_configured_version() {
    let app = spawn_app().await;
    app.signed_in("nia").await;
    let code = code_with(&app, "notion", |_| {}).await;
    let unversioned = reqwest::Client::new()
        .post(code.url(TOKEN))
        .basic_auth(&code.client_id, Some(SECRET))
        .json(&serde_json::json!({
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": code.redirect_uri,
        }))
        .send()
        .await
        .expect("token");
    assert_eq!(unversioned.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(unversioned).await["code"], "missing_version");

    // The configured version is the one sent: a current one connects, refreshes and
    // disconnects; one Notion does not know fails at the token call.
    let current = spawn_app_with(|c| {
        provider(c, "notion").api_version = Some("2026-03-11".into());
    })
    .await;
    current.signed_in("nora").await;
    assert_eq!(
        current.connect("notion", "sandbox-user").await,
        "/connections?connected=notion"
    );
    let key = current.api_key(&["tokens:read"]).await;
    let user = current.user_id("nora").await;
    current
        .set_expiry(chrono::Utc::now() - chrono::Duration::minutes(1))
        .await;
    let refreshed = current.token_answer(&key, &user, "notion").await;
    assert_eq!(refreshed.status(), StatusCode::OK, "the refresh call too");
    let body = json(current.post("/api/auth/notion/disconnect").await).await;
    assert_eq!(body["revocation"], "revoked", "and the revoke call");

    let unknown = spawn_app_with(|c| {
        provider(c, "notion").api_version = Some("1999-01-01".into());
    })
    .await;
    unknown.signed_in("nils").await;
    assert_eq!(
        unknown.connect("notion", "sandbox-user").await,
        "/connections?error=exchange_failed&service=notion"
    );
}

/// Notion issues rotating refresh tokens and states no lifetime (Notion API reference,
/// "Create a token" and "Refresh a token": the answer has `refresh_token` and no
/// `expires_in`; https://developers.notion.com/reference/refresh-a-token, checked
/// 2026-11-29). The hub does not spend the refresh token every assumed hour: the connection
/// never expires, the liveness check asks Notion, and when Notion refuses the access token
/// one refresh decides. A refused access token with a live grant stays connected with a new
/// token; a grant removed in Notion turns to needs_reauth.
#[tokio::test]
async fn a_refused_notion_token_is_refreshed_once_before_giving_up() {
    let app = spawn_app_with(|c| {
        c.jobs.liveness_interval_seconds = 1;
        c.jobs.liveness_period_seconds = 1;
    })
    .await;
    app.signed_in("noa").await;
    app.connect("notion", "sandbox-user").await;
    let (_, status) = app.get_json("/api/auth/notion/status").await;
    assert!(status["expires_at"].is_null(), "never expires: {status}");
    let first = app.sandbox.issued_access_tokens();
    assert_eq!(first.len(), 1);

    // Only the access token is refused: one refresh, and the connection goes on.
    app.sandbox.expire_access_tokens();
    let mut issued = first.len();
    for _ in 0..50 {
        issued = app.sandbox.issued_access_tokens().len();
        if issued > first.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(issued, 2, "refreshed once");
    let (_, status) = app.get_json("/api/auth/notion/status").await;
    assert_eq!(status["status"], "connected");
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("noa").await;
    let token = json(app.token_answer(&key, &user, "notion").await).await;
    let fresh = token["access_token"].as_str().expect("token").to_string();
    assert!(!first.contains(&fresh), "the new token is handed out");

    // The user removes the integration in Notion: the refresh is refused too.
    assert!(app.sandbox.revoke_grant(&fresh));
    assert_eq!(
        app.wait_for_status("notion", "needs_reauth").await,
        "needs_reauth"
    );
    assert_eq!(
        app.sandbox.issued_access_tokens().len(),
        2,
        "no token was issued for a dead grant"
    );
}
