//! The authorization request and callback rules of docs/security.md 1-4, 8 and 17, 22, 27.

use crate::helpers::*;
use reqwest::StatusCode;

fn param(url: &url::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_authorization_request_has_fresh_pkce_s256_state_and_the_configured_redirect() {
    let app = spawn_app().await;
    app.signed_in("pia").await;
    let first = app.start_connect(&app.client).await;
    // A spoofed Host must not move the redirect URI: it comes from configuration only.
    let response = app
        .client
        .get(app.url("/api/auth/github/authorize"))
        .header("accept", "application/json")
        .header("host", "evil.test")
        .header("x-forwarded-host", "evil.test")
        .send()
        .await
        .expect("authorize");
    let body: serde_json::Value = response.json().await.expect("json");
    let second: url::Url = body["authorization_url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("url");
    for url in [&first, &second] {
        assert_eq!(param(url, "code_challenge_method"), "S256");
        assert_eq!(param(url, "code_challenge").len(), 43, "SHA-256, base64url");
        assert!(
            param(url, "state").len() >= 43,
            "at least 256 bits of state"
        );
        assert_eq!(
            param(url, "redirect_uri"),
            format!("{}/api/auth/github/callback", app.base)
        );
        assert_eq!(param(url, "scope"), "read:user user:email");
    }
    assert_ne!(param(&first, "state"), param(&second, "state"));
    assert_ne!(
        param(&first, "code_challenge"),
        param(&second, "code_challenge")
    );

    // The callback answers 303 to a clean URL, never cached, never leaking a referrer.
    let callback = app.consent(&second, "pia", "allow").await;
    let done = app.client.get(callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/connections?connected=github");
    assert_eq!(done.headers()["referrer-policy"], "no-referrer");
    assert_eq!(done.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("atom.db").display());
    let start = |key: &str| {
        let mut config = server::base::config::Config::default();
        config.database.url = url.clone();
        config.server.listen = "127.0.0.1:0".parse().expect("addr");
        config.vault.key = Some(secrecy::SecretString::from(key.to_string()));
        config.sandbox.embedded = false;
        server::build(config)
    };
    assert!(
        start(&"11".repeat(32)).await.is_ok(),
        "first start writes the known answer"
    );
    let error = start(&"22".repeat(32))
        .await
        .err()
        .expect("another key is refused");
    assert!(format!("{error:#}").contains("known-answer"), "{error:#}");
    let short = start("abcd").await.err().expect("a short key is refused");
    assert!(format!("{short:#}").contains("64 hex"), "{short:#}");
}

#[tokio::test]
async fn server_functions_and_oversized_bodies_are_guarded_too() {
    let app = spawn_app().await;
    app.signed_in("quinn").await;
    let cross_site = app
        .client
        .post(app.url("/rpc/list_connections"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("post");
    assert_eq!(
        cross_site.status(),
        StatusCode::FORBIDDEN,
        "server functions have no CSRF protection of their own"
    );
    let huge = "x".repeat(200 * 1024);
    let response = app
        .client
        .post(app.url("/auth/signin"))
        .header("origin", &app.base)
        .form(&[("username", "quinn"), ("password", huge.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// OpenID Connect Core 1.0 §11 (Offline Access): when `offline_access` is requested, "prompt
/// MUST contain consent" (https://openid.net/specs/openid-connect-core-1_0.html#OfflineAccess).
/// A generic provider gets it whether it was configured as `oidc` or as plain `oauth2`.
#[tokio::test]
async fn a_generic_provider_asked_for_offline_access_is_asked_for_consent_too() {
    let app = spawn_app_with(|config| {
        let base = config
            .sandbox
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let acme = provider(config, "acme");
        acme.kind = Some("oauth2".into());
        acme.client_id = Some("acme-client".into());
        acme.client_secret = Some("acme-secret".to_string().into());
        acme.authorize_url = Some(format!("{base}/acme/authorize").parse().expect("url"));
        acme.token_url = Some(format!("{base}/acme/token").parse().expect("url"));
        acme.scopes = Some(server::base::config::Scopes::Text(
            "openid offline_access".into(),
        ));
    })
    .await;
    app.signed_in("olive").await;
    let authorize = app.start_connect_to(&app.client, "acme").await;
    let prompt = authorize
        .query_pairs()
        .find(|(key, _)| key == "prompt")
        .map(|(_, value)| value.into_owned());
    assert_eq!(prompt.as_deref(), Some("consent"), "{authorize}");
}
