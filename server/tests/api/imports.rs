//! Bringing tokens over from the old system, through the API and `atom import`: each grant is
//! checked with its provider first (refreshed when expired), then sealed and audited; a grant
//! the provider does not honour stores nothing, not even its new user.

use crate::helpers::*;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

/// A grant as the old system holds it: connected through the hub for a throwaway user, the
/// sealed tokens read back with the key, and the row deleted without revoking.
async fn old_grant(app: &TestApp, service: &str, login: &str) -> Value {
    app.signed_in(&format!("legacy-{login}")).await;
    app.connect(service, login).await;
    let row = server::base::store::connections::Entity::find()
        .one(&app.db)
        .await
        .expect("db")
        .expect("row");
    let ring =
        server::base::vault::Keyring::from_hex(&secrecy::SecretString::from(app.key.clone()))
            .expect("key");
    let binding = server::domain::connections::token_binding(&row.id, &row.user_id, service);
    let plain = ring.open(&row.tokens_sealed, &binding).expect("opens");
    server::base::store::connections::Entity::delete_by_id(row.id)
        .exec(&app.db)
        .await
        .expect("forget");
    serde_json::from_slice(plain.expose_secret()).expect("json")
}

async fn import(
    app: &TestApp,
    key: &str,
    user: &str,
    service: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/users/{user}/connections/{service}/import"
        )))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn an_expired_grant_is_refreshed_checked_sealed_and_audited() {
    let app = spawn_app().await;
    let old = old_grant(&app, "gmail", "ada").await;
    let (access, refresh) = (
        old["access_token"].as_str().expect("access"),
        old["refresh_token"].as_str().expect("refresh"),
    );
    let key = app
        .api_key(&["connections:import", "users:write", "tokens:read"])
        .await;
    let body = json!({ "access_token": access, "refresh_token": refresh,
                       "expires_at": "2020-01-01T00:00:00Z", "scopes": ["email"] });
    let (status, answer) = import(&app, &key, "plat-i", "gmail", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["service"], "gmail");
    assert_eq!(
        answer["status"], "connected",
        "refreshed first: no longer expired"
    );
    let token = app.token_answer(&key, "plat-i", "gmail").await;
    let fresh: Value = token.json().await.expect("json");
    assert_ne!(
        fresh["access_token"], access,
        "the expired token was refreshed"
    );
    assert!(app
        .sandbox
        .token_is_live(fresh["access_token"].as_str().expect("token")));
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, r)| k == "connection.created" && r.as_deref() == Some("imported")));
    for (place, text) in app.stored_text().await {
        assert!(
            !text.contains(refresh),
            "the refresh token in clear in {place}"
        );
    }
    assert!(
        !logs().contains(refresh) && !logs().contains(access),
        "never logged"
    );
}

#[tokio::test]
async fn a_dead_grant_or_bad_input_stores_nothing_not_even_a_user() {
    let app = spawn_app().await;
    let old = old_grant(&app, "github", "gone-gh").await;
    let access = old["access_token"].as_str().expect("access").to_string();
    assert!(app.sandbox.revoke_grant(&access), "revoked at GitHub since");
    let key = app.api_key(&["connections:import", "users:write"]).await;
    let (users, connections) = (app.count("users").await, app.count("connections").await);

    let (status, answer) = import(
        &app,
        &key,
        "plat-d",
        "github",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("dead_token"))
    );
    let refusals = [
        json!({}),
        json!({ "access_token": "x", "password": "y" }),
        json!({ "access_token": "x", "expires_at": "tomorrow" }),
        json!({ "access_token": "" }),
    ];
    for body in refusals {
        let (status, answer) = import(&app, &key, "plat-d", "github", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    // Trello's OAuth 1.0a token is nothing without its secret.
    let (status, _) = import(
        &app,
        &key,
        "plat-d",
        "trello",
        json!({ "access_token": "t" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (app.count("users").await, app.count("connections").await),
        (users, connections)
    );

    let plain = app.api_key(&["connections:import"]).await;
    let (status, _) = import(
        &app,
        &plain,
        "plat-new",
        "github",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an unknown user without users:write"
    );
    let reader = app.api_key(&["tokens:read"]).await;
    let (status, _) = import(
        &app,
        &reader,
        "plat-d",
        "github",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn atom_import_reports_each_line_and_keeps_only_what_the_providers_honour() {
    let app = spawn_app().await;
    let live = old_grant(&app, "github", "kit-gh").await;
    let dead = old_grant(&app, "github", "dead-gh").await;
    assert!(app
        .sandbox
        .revoke_grant(dead["access_token"].as_str().expect("access")));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("tokens.jsonl");
    let lines = [
        json!({ "user_id": "plat-k", "service": "github", "access_token": live["access_token"] })
            .to_string(),
        json!({ "user_id": "plat-x", "service": "github", "access_token": dead["access_token"] })
            .to_string(),
        "{ not json, access_token: sk_secret_value".to_string(),
        String::new(),
        json!({ "user_id": "plat-y", "service": "nowhere", "access_token": "a" }).to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).expect("file");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_atom"));
    command
        .args(["import", "--file", file.to_str().expect("path")])
        .env_clear()
        .env("ATOM_LOG", "warn")
        .env("ATOM_DATABASE__URL", app.db_url())
        .env("ATOM_VAULT__KEY", &app.key)
        .env("ATOM_SERVER__PUBLIC_URL", &app.base)
        .env("ATOM_SANDBOX__PUBLIC_URL", app.sandbox_url())
        .env("ATOM_SANDBOX__EMBEDDED", "false");
    // Off the test's one thread: the sandbox the command calls answers on it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("atom import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a line was refused: {stdout}"
    );
    assert!(
        stdout.contains("imported 1, refused 3"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("line 1: imported github for plat-k as kit-gh"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 2: refused, nothing stored: dead_token"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: refused"), "{stdout}");
    assert!(
        stdout.contains("line 5: refused, nothing stored: no configured service"),
        "{stdout}"
    );
    assert!(stdout.contains("imported 1, refused 3"), "{stdout}");
    assert!(
        !stdout.contains("sk_secret_value"),
        "a line's content is never echoed"
    );
    assert_eq!(
        app.connections_of("plat-k").await["connections"][0]["account"]["name"],
        "kit-gh"
    );
    let reader = app.api_key(&["users:read"]).await;
    let missing = reqwest::Client::new()
        .get(app.url("/api/v1/users/plat-x"))
        .bearer_auth(reader)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "no user for a dead grant"
    );
}
