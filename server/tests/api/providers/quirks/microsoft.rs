//! Microsoft: a refresh token only with offline_access, client credentials in the body only,
//! one resource per request, opaque tokens, refresh needing `scope`, Graph needing User.Read.

use super::*;
use reqwest::StatusCode;

const TOKEN: &str = "/common/oauth2/v2.0/token";
const PKCE: &[&str] = &["code_challenge", "code_challenge_method"];

#[tokio::test]
async fn microsoft_gives_a_refresh_token_only_with_offline_access() {
    let app = spawn_app().await;
    app.signed_in("mia").await;
    let code = code_with(&app, "outlook", |p| {
        without(PKCE)(p);
        with("scope", "openid User.Read Mail.Read")(p);
    })
    .await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let access = body["access_token"].as_str().expect("access token");
    assert!(!access.contains('.'), "opaque, not a JWT");
    assert!(body.get("refresh_token").is_none(), "{body}");

    let code = code_with(&app, "teams", without(PKCE)).await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let refresh = body["refresh_token"].as_str().expect("refresh token");

    // Refresh needs `scope`, and replaces the refresh token.
    let refresh_with = |scope: Option<&str>| {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", code.client_id.as_str()),
            ("client_secret", SECRET),
        ];
        form.extend(scope.map(|s| ("scope", s)));
        reqwest::Client::new()
            .post(code.url(TOKEN))
            .form(&form)
            .send()
    };
    let missing = refresh_with(None).await.expect("refresh");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let renewed = json(
        refresh_with(Some("offline_access User.Read"))
            .await
            .expect("refresh"),
    )
    .await;
    let new_refresh = renewed["refresh_token"]
        .as_str()
        .expect("a new refresh token");
    assert_ne!(new_refresh, refresh, "replaced on every use");
}

#[tokio::test]
async fn microsoft_wants_client_credentials_in_the_body() {
    let app = spawn_app().await;
    app.signed_in("max").await;
    let code = code_with(&app, "outlook", without(PKCE)).await;
    let response = code.exchange(TOKEN, Send::BasicForm).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "invalid_client");
}

#[tokio::test]
async fn microsoft_refuses_scopes_of_two_resources_and_graph_needs_user_read() {
    let app = spawn_app().await;
    app.signed_in("mona").await;
    let mixed = authorize_url(
        &app,
        "outlook",
        with("scope", "User.Read https://outlook.office.com/Mail.Read"),
    )
    .await;
    let response = app.client.get(mixed).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(
        back.contains("error=invalid_scope") && back.contains("AADSTS70011"),
        "{back}"
    );

    let code = code_with(&app, "teams", |p| {
        without(PKCE)(p);
        with("scope", "offline_access Chat.Read")(p);
    })
    .await;
    let body = json(code.exchange_in_body(TOKEN).await).await;
    let me = reqwest::Client::new()
        .get(code.url("/v1.0/me"))
        .bearer_auth(body["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::FORBIDDEN, "/me needs User.Read");
}

/// Microsoft's token endpoint answers the granted scopes fully qualified and in lower case
/// (a requested `Mail.Read` comes back as `https://graph.microsoft.com/mail.read`; Microsoft
/// identity platform, "OAuth 2.0 authorization code flow", successful response,
/// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow). They are the
/// scopes requested: no false "fewer permissions" warning, and they read as requested.
#[tokio::test]
async fn fully_qualified_scopes_in_the_answer_are_the_requested_ones() {
    let app = spawn_app().await;
    app.signed_in("mo").await;
    app.connect("outlook", "sandbox-user").await;
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    assert_eq!(status["missing_scopes"], serde_json::json!([]), "{status}");
    let scopes = status["scopes"].as_array().expect("scopes");
    assert!(scopes.iter().any(|s| s == "Mail.Read"), "{status}");
}

/// Teams' chat APIs serve work and school accounts only (Microsoft Graph, chat resource type:
/// "not supported" for personal Microsoft accounts, https://learn.microsoft.com/graph/api/resources/chat),
/// so Teams signs in through the `organizations` tenant unless configured otherwise.
#[tokio::test]
async fn teams_signs_in_work_and_school_accounts_by_default() {
    let app = spawn_app().await;
    app.signed_in("tess").await;
    let authorize = app.start_connect_to(&app.client, "teams").await;
    assert!(
        authorize.path().starts_with("/microsoft/organizations/"),
        "{authorize}"
    );
    let outlook = app.start_connect_to(&app.client, "outlook").await;
    assert!(
        outlook.path().starts_with("/microsoft/common/"),
        "{outlook}"
    );
    assert_eq!(
        app.connect("teams", "sandbox-user").await,
        "/connections?connected=teams"
    );
}

/// `{tenant}` is filled into configured URLs too (a sovereign cloud, a single tenant), not
/// only into the built-in ones: it must never reach Microsoft as `%7Btenant%7D`.
#[tokio::test]
async fn the_tenant_is_filled_into_configured_urls() {
    let app = spawn_app_with(|config| {
        let base = config
            .sandbox
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let outlook = provider(config, "outlook");
        let url = |path: &str| Some(format!("{base}/microsoft{path}").parse().expect("url"));
        outlook.authorize_url = url("/{tenant}/oauth2/v2.0/authorize");
        outlook.token_url = url("/{tenant}/oauth2/v2.0/token");
        outlook.userinfo_url = url("/v1.0/me");
        outlook.tenant = Some("organizations".into());
        outlook.client_id = Some("sandbox-microsoft".into());
        outlook.client_secret = Some(SECRET.to_string().into());
    })
    .await;
    app.signed_in("tom").await;
    let authorize = app.start_connect_to(&app.client, "outlook").await;
    assert!(
        authorize.path().starts_with("/microsoft/organizations/"),
        "{authorize}"
    );
    assert_eq!(
        app.connect("outlook", "sandbox-user").await,
        "/connections?connected=outlook"
    );
}
