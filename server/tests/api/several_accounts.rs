//! Several accounts of one service for one user (a work and a personal Gmail): each its own
//! connection, refreshed and disconnected on its own; a caller that does not say which gets
//! 409 `ambiguous_connection`; rows from before m0014 keep working after it.

use crate::helpers::*;
use migrations::MigratorTrait;
use reqwest::{Client, StatusCode};
use serde_json::Value;

async fn get(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_gmail_accounts_are_refreshed_and_disconnected_each_on_its_own() {
    let app = spawn_app().await;
    app.signed_in("ada").await;
    let user = app.user_id("ada").await;
    app.connect("gmail", "ada-work").await;
    app.connect("gmail", "ada-home").await;
    let key = app
        .api_key(&["tokens:read", "connections:write", "proxy:gmail"])
        .await;

    let listed = app.connections_of(&user).await;
    let gmail: Vec<&Value> = listed["connections"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["service"] == "gmail")
        .collect();
    assert_eq!(gmail.len(), 2, "{listed}");
    let id_of = |name: &str| {
        let found = gmail
            .iter()
            .find(|c| c["account"]["name"] == name)
            .expect(name);
        found["id"].as_str().expect("id").to_string()
    };
    let (work, home) = (id_of("Ada Work"), id_of("Ada Home"));

    // Without saying which: 409, listing both (never a token).
    let token_path = format!("/api/v1/users/{user}/connections/gmail/token");
    let (status, ambiguous) = get(&app, &key, &token_path).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(ambiguous["error"], "ambiguous_connection");
    assert_eq!(ambiguous["connections"].as_array().map(Vec::len), Some(2));
    let proxied = Client::new()
        .get(app.url("/api/v1/proxy/gmail/gmail/v1/users/me/profile"))
        .bearer_auth(&key)
        .header("x-atom-user", &user)
        .send()
        .await
        .expect("proxy");
    assert_eq!(proxied.status(), StatusCode::CONFLICT);

    // Each account's own token, and its own refresh.
    let token_of = |id: &str| format!("{token_path}?connection={id}");
    let (_, work_token) = get(&app, &key, &token_of(&work)).await;
    let (_, home_token) = get(&app, &key, &token_of(&home)).await;
    assert_ne!(work_token["access_token"], home_token["access_token"]);
    let refreshes = || app.sandbox.requests_to("/google/token").len();
    let before = refreshes();
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    let (status, renewed) = get(&app, &key, &token_of(&work)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(renewed["access_token"], work_token["access_token"]);
    assert_eq!(
        refreshes(),
        before + 1,
        "only the work account was refreshed"
    );
    let (_, home_again) = get(&app, &key, &token_of(&home)).await;
    assert_ne!(home_again["access_token"], home_token["access_token"]);
    assert_eq!(refreshes(), before + 2);

    // The proxy takes the connection in a header: the home mailbox answers.
    let profile = Client::new()
        .get(app.url("/api/v1/proxy/gmail/gmail/v1/users/me/profile"))
        .bearer_auth(&key)
        .header("x-atom-user", &user)
        .header("x-atom-connection", &home)
        .send()
        .await
        .expect("proxy");
    let profile: Value = profile.json().await.expect("json");
    assert_eq!(profile["emailAddress"], "ada-home@gmail.test");

    // Disconnecting one revokes that account's grant only.
    let home_live = home_again["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let work_live = renewed["access_token"].as_str().expect("token").to_string();
    let deleted = Client::new()
        .delete(app.url(&format!(
            "/api/v1/users/{user}/connections/gmail?connection={work}"
        )))
        .bearer_auth(&key)
        .send()
        .await
        .expect("DELETE");
    let deleted: Value = deleted.json().await.expect("json");
    assert_eq!(deleted["revocation"], "revoked", "{deleted}");
    assert!(!app.sandbox.token_is_live(&work_live));
    assert!(
        app.sandbox.token_is_live(&home_live),
        "the other account is untouched"
    );
    let (status, only) = get(&app, &key, &token_path).await;
    assert_eq!(status, StatusCode::OK, "one left: no need to say which");
    assert_eq!(only["access_token"].as_str(), Some(home_live.as_str()));
}

#[tokio::test]
async fn rows_from_before_several_accounts_keep_working() {
    let app = spawn_app().await;
    app.signed_in("otto").await;
    let user = app.user_id("otto").await;
    app.connect_github("otto-gh").await;
    let key = app.api_key(&["tokens:read"]).await;
    let (_, before) = get(
        &app,
        &key,
        &format!("/api/v1/users/{user}/connections/github/token"),
    )
    .await;

    // Back to the schema of one account per service, with the row in it, then up again.
    // (m0015, an index, is undone first.)
    migrations::Migrator::down(&app.db, Some(2))
        .await
        .expect("down to m0013");
    let duplicate = sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "INSERT INTO connections (id, user_id, provider, status, tokens_sealed, \
         requested_scopes, granted_scopes, account_id, account_name, created_at, updated_at) \
         SELECT 'dup', user_id, provider, status, tokens_sealed, requested_scopes, \
         granted_scopes, 'other', 'other', created_at, updated_at FROM connections",
    )
    .await;
    assert!(
        duplicate.is_err(),
        "m0013's schema: one account per service"
    );
    migrations::Migrator::up(&app.db, None).await.expect("up");

    let (status, after) = get(
        &app,
        &key,
        &format!("/api/v1/users/{user}/connections/github/token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["access_token"], before["access_token"]);
    let listed = app.connections_of(&user).await;
    assert_eq!(listed["connections"][0]["account"]["name"], "otto-gh");
    assert_eq!(listed["connections"][0]["label"], Value::Null);
}

#[tokio::test]
async fn each_account_carries_its_users_label_and_the_platforms_metadata() {
    let app = spawn_app().await;
    app.signed_in("lea").await;
    let user = app.user_id("lea").await;
    app.connect_github("lea-work").await;
    app.connect_github("lea-home").await;
    let key = app.api_key(&["connections:write", "tokens:read"]).await;
    let (_, status) = app.get_json("/api/auth/github/status").await;
    let id_of = |name: &str| {
        let accounts = status["accounts"].as_array().expect("accounts");
        let found = accounts.iter().find(|a| a["name"] == name).expect(name);
        found["connection"].as_str().expect("id").to_string()
    };
    let (work, home) = (id_of("lea-work"), id_of("lea-home"));
    let patch = |query: String, body: Value| {
        Client::new()
            .patch(app.url(&format!("/api/v1/users/{user}/connections/github{query}")))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };

    let ambiguous = patch(String::new(), serde_json::json!({ "label": "Work" }))
        .await
        .expect("PATCH");
    assert_eq!(ambiguous.status(), StatusCode::CONFLICT);
    let described = patch(
        format!("?connection={work}"),
        serde_json::json!({ "label": "  Work ", "metadata": { "team": "sales" } }),
    )
    .await
    .expect("PATCH");
    assert_eq!(described.status(), StatusCode::OK);
    let described: Value = described.json().await.expect("json");
    assert_eq!(described["label"], "Work", "trimmed");
    assert_eq!(described["metadata"]["team"], "sales");
    let too_long = patch(
        format!("?connection={work}"),
        serde_json::json!({ "label": "x".repeat(65) }),
    )
    .await
    .expect("PATCH");
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    // Leaving a field out keeps it; null clears it.
    let cleared: Value = patch(
        format!("?connection={work}"),
        serde_json::json!({ "metadata": null }),
    )
    .await
    .expect("PATCH")
    .json()
    .await
    .expect("json");
    assert_eq!(cleared["label"], "Work");
    assert_eq!(cleared["metadata"], Value::Null);

    // The user names the other account from the Connections page (a plain form).
    let named = app
        .client
        .post(app.url(&format!("/api/auth/github/label?connection={home}")))
        .header("origin", app.base.as_str())
        .form(&[("label", "Home")])
        .send()
        .await
        .expect("POST");
    assert_eq!(named.status(), StatusCode::SEE_OTHER);
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(
        page.contains(">Work<") && page.contains(">Home<"),
        "both names shown"
    );
    let listed = app.connections_of(&user).await;
    let labels: Vec<&str> = listed["connections"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    assert_eq!(labels.len(), 2, "{listed}");
}
