//! The leak test: every flow runs with tracing at TRACE, then each secret it involved (access
//! and refresh tokens, the authorization code, the PKCE verifier, the client secret, the
//! password, the session id, an API key) is searched for in the logs, every table, the SQLite
//! file and its WAL, the pages and the JSON the hub serves. Only ciphertext may hold them.

use crate::helpers::*;
use sea_orm::EntityTrait;
use secrecy::{ExposeSecret, SecretString};
use server::base::vault::{Binding, Keyring};

/// Everything a secret could have leaked into.
async fn everything(app: &TestApp, client: &reqwest::Client) -> Vec<(String, String)> {
    let mut places = vec![("logs".to_string(), logs())];
    places.extend(app.stored_text().await);
    for path in [
        "/connections",
        "/api/auth/outlook/status",
        "/api/outlook/health",
        "/signin",
    ] {
        let body = client
            .get(app.url(path))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        places.push((path.to_string(), body));
    }
    places
}

fn session_cookie(response: &reqwest::Response) -> String {
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie");
    cookie
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("value")
}

#[tokio::test]
async fn no_secret_appears_anywhere_but_in_ciphertext() {
    let app = spawn_app().await;
    app.add_user("grace").await;
    let signed_in = app
        .client
        .post(app.url("/auth/signin"))
        .header("origin", &app.base)
        .form(&[("username", "grace"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    let session_id = session_cookie(&signed_in);

    // Outlook: PKCE, a refresh token, then a refresh through the API with a key.
    let authorize = app.start_connect_to(&app.client, "outlook").await;
    let callback = app.consent(&authorize, "sandbox-user", "allow").await;
    let code = url::Url::parse(&callback)
        .expect("callback url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    app.client.get(&callback).send().await.expect("callback");
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(page.contains("Connected as"), "the flow worked");

    let ring = Keyring::from_hex(&SecretString::from(app.key.clone())).expect("key");
    let flow = server::base::store::flows::Entity::find()
        .one(&app.db)
        .await
        .expect("db")
        .expect("flow");
    let verifier = ring
        .open(
            &flow.verifier_sealed,
            &Binding {
                table: "pending_flows",
                row_id: &flow.id,
                user_id: &flow.user_id,
                provider: "outlook",
                field: "pkce_verifier",
            },
        )
        .expect("verifier opens with the key");
    let verifier = String::from_utf8(verifier.expose_secret().clone()).expect("utf8");
    let connection = server::base::store::connections::Entity::find()
        .one(&app.db)
        .await
        .expect("db")
        .expect("row");
    let binding =
        server::domain::connections::token_binding(&connection.id, &connection.user_id, "outlook");
    let tokens: serde_json::Value = serde_json::from_slice(
        ring.open(&connection.tokens_sealed, &binding)
            .expect("opens")
            .expose_secret(),
    )
    .expect("json");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    let (_, api_key) = server::base::store::api_keys::create(
        &app.db,
        "leak test",
        &["tokens:read".to_string()],
        app.clock.now(),
    )
    .await
    .expect("key");
    let api_key = api_key.expose_secret().to_string();
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    let fresh: serde_json::Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/users/{}/connections/outlook/token",
            connection.user_id
        )))
        .bearer_auth(&api_key)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let refreshed = fresh["access_token"]
        .as_str()
        .expect("refreshed")
        .to_string();
    assert_ne!(refreshed, access, "a refresh happened");

    let secrets = [
        ("access token", access.as_str()),
        ("refreshed access token", refreshed.as_str()),
        ("refresh token", refresh.as_str()),
        ("authorization code", code.as_str()),
        ("PKCE verifier", verifier.as_str()),
        ("client secret", server::sandbox::SANDBOX_CLIENT_SECRET),
        ("password", PASSWORD),
        ("session id", session_id.as_str()),
        ("API key", api_key.as_str()),
    ];
    assert_nowhere(&secrets, everything(&app, &app.client).await);
}

fn assert_nowhere(secrets: &[(&str, &str)], places: Vec<(String, String)>) {
    for (place, text) in places {
        for (what, secret) in secrets {
            assert!(secret.len() >= 8, "{what} is a real secret");
            if let Some(at) = text.find(secret) {
                let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
                let line = text[line_start..].lines().next().unwrap_or_default();
                panic!(
                    "the {what} leaked into {place}: {}",
                    line.replace(secret, "<SECRET>")
                );
            }
        }
    }
}

/// The account side: the setup link, passwords set through it, the account page and the
/// admin page, an API key made in the browser.
#[tokio::test]
async fn account_secrets_appear_nowhere_but_in_hashes() {
    use reqwest::header::ORIGIN;
    let app = spawn_app().await;
    let link = app.setup_link().await.expect("setup link");
    let setup_token = link.rsplit('/').next().expect("token").to_string();
    app.client.get(&link).send().await.expect("open link");
    let admin_password = "the very first admin passphrase";
    let new_password = "a second admin passphrase";
    let user_password = "a passphrase for hugo";
    let form = |path: &str, fields: Vec<(&'static str, String)>| {
        app.client
            .post(app.url(path))
            .header(ORIGIN, &app.base)
            .form(&fields)
            .send()
    };
    let done = form(
        "/auth/setup",
        vec![
            ("username", "root".into()),
            ("password", admin_password.into()),
            ("confirm_password", admin_password.into()),
        ],
    )
    .await
    .expect("setup");
    assert_eq!(location(&done), "/admin/users");
    let done = form(
        "/auth/password",
        vec![
            ("current_password", admin_password.into()),
            ("new_password", new_password.into()),
            ("confirm_password", new_password.into()),
        ],
    )
    .await
    .expect("password");
    assert_eq!(location(&done), "/account?changed=1");
    let done = form(
        "/admin/users/new",
        vec![
            ("username", "hugo".into()),
            ("password", user_password.into()),
            ("role", "user".into()),
        ],
    )
    .await
    .expect("user");
    assert_eq!(location(&done), "/admin/users?done=user_created");
    let page = form(
        "/admin/keys/new",
        vec![("name", "leak".into()), ("tokens_read", "on".into())],
    )
    .await
    .expect("key")
    .text()
    .await
    .expect("html");
    let api_key = page
        .split("<code id=\"new-key\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .expect("the key, shown once")
        .to_string();
    let mut places = vec![("logs".to_string(), logs())];
    places.extend(app.stored_text().await);
    for path in ["/admin/users", "/admin/keys", "/account", "/connections"] {
        let body = app.get(path).await.text().await.expect("body");
        places.push((path.to_string(), body));
    }
    let secrets = [
        ("setup token", setup_token.as_str()),
        ("first admin password", admin_password),
        ("changed password", new_password),
        ("created user's password", user_password),
        ("API key", api_key.as_str()),
    ];
    assert_nowhere(&secrets, places);
}
