//! Trello over OAuth 1.0a, end to end through the sandbox's strict emulation.

use crate::helpers::*;
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use server::domain::oauth::oauth1_sign::{Signing, TokenCredentials};
use server::sandbox::SANDBOX_CLIENT_SECRET;

fn param(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Sign-in, Connect, Authorize at the sandbox; returns the callback URL the sandbox sent.
async fn authorized_callback(app: &TestApp, client: &reqwest::Client) -> String {
    let authorize = app.start_connect_to(client, "trello").await;
    assert!(authorize.path().ends_with("/trello/1/OAuthAuthorizeToken"));
    assert_eq!(param(&authorize, "name").as_deref(), Some("ATOM Connect"));
    assert_eq!(
        param(&authorize, "scope").as_deref(),
        Some("read,write,account")
    );
    assert_eq!(param(&authorize, "expiration").as_deref(), Some("never"));
    assert!(param(&authorize, "oauth_token").is_some());
    let callback = app.consent(&authorize, "tina-trello", "allow").await;
    let parsed = url::Url::parse(&callback).expect("callback url");
    assert_eq!(parsed.path(), "/api/auth/trello/callback");
    assert!(param(&parsed, "oauth_verifier").is_some(), "{callback}");
    callback
}

#[tokio::test]
async fn connects_keeps_both_secrets_sealed_and_disconnect_revokes() {
    let app = spawn_app().await;
    app.signed_in("tina").await;
    let callback = authorized_callback(&app, &app.client).await;
    let done = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/connections?connected=trello");

    let (_, status) = app.get_json("/api/auth/trello/status").await;
    assert_eq!(status["connected"], true, "{status}");
    assert_eq!(status["status"], "connected");
    assert_eq!(status["account"]["name"], "Tina Trello");
    assert_eq!(
        status["expires_at"],
        serde_json::Value::Null,
        "never expires"
    );
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(
        page.contains("Connected as Tina Trello"),
        "the page says so"
    );

    let (token, secret) = app
        .sandbox
        .trello_credentials()
        .pop()
        .expect("token credentials issued");
    let mut haystacks = vec![page, status.to_string(), logs()];
    haystacks.extend(app.stored_text().await.into_iter().map(|(_, text)| text));
    for (i, text) in haystacks.iter().enumerate() {
        assert!(!text.contains(&token), "the token leaked ({i})");
        assert!(!text.contains(&secret), "the token secret leaked ({i})");
    }

    assert!(app.sandbox.trello_token_is_live(&token));
    let response = app.post("/api/auth/trello/disconnect").await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["revocation"], "revoked", "{body}");
    assert!(
        !app.sandbox.trello_token_is_live(&token),
        "Trello forgot it"
    );
    assert_eq!(app.count("connections").await, 0);
    let (_, status) = app.get_json("/api/auth/trello/status").await;
    assert_eq!(status["status"], "not_connected");
}

#[tokio::test]
async fn bad_callbacks_get_400_and_store_nothing() {
    let app = spawn_app().await;
    app.signed_in("tina").await;
    let callback = authorized_callback(&app, &app.client).await;
    let parsed = url::Url::parse(&callback).expect("url");
    let token = param(&parsed, "oauth_token").expect("token");

    let no_verifier = format!("/api/auth/trello/callback?oauth_token={token}");
    let unknown = format!(
        "/api/auth/trello/callback?oauth_token={}&oauth_verifier=v",
        "A".repeat(32)
    );
    let twice = format!("{}&oauth_verifier=x", callback);
    let mixed = format!("{callback}&state={token}");
    for path in [no_verifier.as_str(), unknown.as_str()] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    for url in [&twice, &mixed] {
        let response = app.client.get(url).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
    }

    // Another session (another signed-in user) cannot use the callback; its owner still can.
    let other = browser();
    app.add_user("intruder").await;
    app.sign_in_as(&other, "intruder").await;
    let stolen = other.get(&callback).send().await.expect("replay");
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("connections").await, 0, "nothing stored");

    let first = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(location(&first), "/connections?connected=trello");
    let again = app.client.get(&callback).send().await.expect("reuse");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "single use");
    assert_eq!(app.count("connections").await, 1);
}

#[tokio::test]
async fn cancel_comes_back_denied_and_stores_nothing() {
    let app = spawn_app().await;
    app.signed_in("tina").await;
    let authorize = app.start_connect_to(&app.client, "trello").await;
    let callback = app.consent(&authorize, "tina-trello", "deny").await;
    let parsed = url::Url::parse(&callback).expect("url");
    assert!(param(&parsed, "oauth_verifier").is_none());
    let response = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(
        location(&response),
        "/connections?error=access_denied&service=trello"
    );
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn the_sandbox_refuses_bad_signatures_reused_nonces_and_foreign_callbacks() {
    let app = spawn_app().await;
    app.signed_in("tina").await;
    let authorize = app.start_connect_to(&app.client, "trello").await;
    let mut url = authorize.clone();
    url.set_query(None);
    url.set_path("/trello/1/OAuthGetRequestToken");
    let client = reqwest::Client::new();
    let callback = app.url("/api/auth/trello/callback");
    let signed = |secret: &'static str, callback: &str| {
        let mut signing = Signing {
            consumer_key: "sandbox-trello",
            consumer_secret: secret,
            token: None,
            callback: None,
            verifier: None,
            pinned: None,
        };
        signing.callback = Some(callback);
        signing.header("POST", &url)
    };
    let post = |header: String| {
        client
            .post(url.clone())
            .header(AUTHORIZATION, header)
            .send()
    };

    let good = signed(SANDBOX_CLIENT_SECRET, &callback);
    assert_eq!(
        post(good.clone()).await.expect("send").status(),
        StatusCode::OK
    );
    let replay = post(good).await.expect("send");
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "nonce reused");
    let forged = post(signed("not-the-secret", &callback))
        .await
        .expect("send");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "bad signature");
    let foreign = post(signed(SANDBOX_CLIENT_SECRET, "https://evil.test/cb"))
        .await
        .expect("send");
    assert_eq!(
        foreign.status(),
        StatusCode::BAD_REQUEST,
        "unregistered callback"
    );

    // Members/me with a request token (not token credentials) is refused.
    let token = param(&authorize, "oauth_token").expect("token");
    url.set_path("/trello/1/members/me");
    let header = Signing {
        consumer_key: "sandbox-trello",
        consumer_secret: SANDBOX_CLIENT_SECRET,
        token: Some(TokenCredentials {
            token: &token,
            secret: "guess",
        }),
        callback: None,
        verifier: None,
        pinned: None,
    }
    .header("GET", &url);
    let me = client
        .get(url.clone())
        .header(AUTHORIZATION, header)
        .send()
        .await
        .expect("send");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

/// Trello's tokens never expire (`expiration=never`), so only a liveness check can notice one
/// the user revoked in Trello's settings: the signed `GET /1/members/me` then answers 401
/// "invalid token" (Trello REST API, authorization, https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/).
#[tokio::test]
async fn a_token_revoked_in_trello_turns_the_connection_to_reconnect() {
    let app = spawn_app_with(|c| {
        c.jobs.liveness_interval_seconds = 1;
        c.jobs.liveness_period_seconds = 1;
    })
    .await;
    app.signed_in("tara").await;
    let callback = authorized_callback(&app, &app.client).await;
    let done = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connections?connected=trello");
    let (token, _) = app.sandbox.trello_credentials().pop().expect("a token");
    assert!(app.sandbox.revoke_trello_token(&token), "revoked in Trello");
    let state = app.wait_for_status("trello", "needs_reauth").await;
    assert_eq!(state, "needs_reauth", "the liveness check noticed");
}

/// A configured Trello `revoke_url` without `{token}` (`…/1/tokens`) is the base the token is
/// appended to, as in Trello's `DELETE /1/tokens/{token}`: disconnecting still revokes.
#[tokio::test]
async fn a_configured_revoke_url_without_the_token_placeholder_still_revokes() {
    let app = spawn_app_with(|config| {
        let base = config
            .sandbox
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        provider(config, "trello").revoke_url =
            Some(format!("{base}/trello/1/tokens").parse().expect("url"));
    })
    .await;
    app.signed_in("tove").await;
    let callback = authorized_callback(&app, &app.client).await;
    let done = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connections?connected=trello");
    let (token, _) = app.sandbox.trello_credentials().pop().expect("a token");
    let response = app.post("/api/auth/trello/disconnect").await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["revocation"], "revoked", "{body}");
    assert!(
        !app.sandbox.trello_token_is_live(&token),
        "Trello forgot it"
    );
}

/// Trello documents OAuth 2.0 (3LO) beside 1.0a (Trello Developers, "Getting Started with
/// OAuth 2.0" and "Using OAuth 2.0 with a Confidential Client",
/// https://developer.atlassian.com/cloud/trello/guides/rest-api/oauth-2-getting-started/,
/// checked 2026-11-29). With `protocol = "oauth2"` the hub speaks it: Atlassian's authorize
/// endpoint with PKCE and `prompt=consent`, a JSON token request, hour-long access tokens
/// refreshed with rotation, the member read with a Bearer token; 1.0a stays the default.
#[tokio::test]
async fn trello_over_oauth2_connects_refreshes_and_disconnects() {
    use chrono::{Duration, Utc};
    let app = spawn_app_with(|c| provider(c, "trello").protocol = Some("oauth2".into())).await;
    app.signed_in("tara").await;
    let authorize = app.start_connect_to(&app.client, "trello").await;
    assert!(
        authorize.path().ends_with("/trello/authorize"),
        "{authorize}"
    );
    assert_eq!(param(&authorize, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        param(&authorize, "scope").as_deref(),
        Some("read:member:trello read:board:trello write:board:trello offline_access")
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        app.connect("trello", "tina-trello").await,
        "/connections?connected=trello"
    );
    let (_, status) = app.get_json("/api/auth/trello/status").await;
    assert_eq!(status["account"]["name"], "Tina Trello", "{status}");
    assert!(status["expires_at"].is_string(), "an hour, refreshable");

    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("tara").await;
    let first = app.token_answer(&key, &user, "trello").await;
    let first: serde_json::Value = first.json().await.expect("json");
    app.set_expiry(Utc::now() - Duration::minutes(1)).await;
    let second = app.token_answer(&key, &user, "trello").await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: serde_json::Value = second.json().await.expect("json");
    assert_ne!(first["access_token"], second["access_token"], "refreshed");
    app.set_expiry(Utc::now() - Duration::minutes(1)).await;
    let third = app.token_answer(&key, &user, "trello").await;
    assert_eq!(
        third.status(),
        StatusCode::OK,
        "the rotated refresh token was kept"
    );

    let body: serde_json::Value = app
        .post("/api/auth/trello/disconnect")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["revocation"], "no_revocation_endpoint");
}

/// The OAuth 2.0 token endpoint takes a JSON object with the client's credentials in it, and
/// nothing else: a form body or HTTP Basic is refused, as is a request without PKCE.
#[tokio::test]
async fn trello_oauth2_token_requests_are_json_with_credentials_inside() {
    let app = spawn_app_with(|c| provider(c, "trello").protocol = Some("oauth2".into())).await;
    app.signed_in("tom").await;
    let authorize = app.start_connect_to(&app.client, "trello").await;
    let mut without_pkce = authorize.clone();
    let kept: Vec<(String, String)> = authorize
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    without_pkce.query_pairs_mut().clear().extend_pairs(&kept);
    let refused = app
        .client
        .get(without_pkce)
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "PKCE is required"
    );

    let callback = app.consent(&authorize, "tom-trello", "allow").await;
    let callback = url::Url::parse(&callback).expect("callback");
    let code = param(&callback, "code").expect("code");
    let token_url = format!("{}trello/oauth/token", app.sandbox_url());
    let client = reqwest::Client::new();
    let form = client
        .post(&token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "sandbox-trello"),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(
        form.status(),
        StatusCode::BAD_REQUEST,
        "a form body is refused"
    );
    let basic = client
        .post(&token_url)
        .basic_auth("sandbox-trello", Some(SANDBOX_CLIENT_SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code", "code": code}))
        .send()
        .await
        .expect("token");
    assert_eq!(
        basic.status(),
        StatusCode::UNAUTHORIZED,
        "credentials go in the JSON"
    );
}

#[test]
fn trello_speaks_only_the_protocols_it_documents() {
    let mut config = server::base::config::Config::default();
    provider(&mut config, "trello").protocol = Some("oauth3".into());
    assert!(server::base::providers::Catalog::from_config(&config).is_err());
    let mut config = server::base::config::Config::default();
    provider(&mut config, "github").protocol = Some("oauth2".into());
    assert!(server::base::providers::Catalog::from_config(&config).is_err());
}
