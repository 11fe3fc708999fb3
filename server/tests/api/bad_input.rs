//! Callbacks an attacker (or a confused browser) might send: 4xx, nothing stored, audited.

use crate::helpers::*;
use reqwest::StatusCode;

fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state")
}

#[tokio::test]
async fn missing_unknown_and_malformed_state_get_400() {
    let app = spawn_app().await;
    app.signed_in("mallory").await;
    let unknown = format!(
        "/api/auth/github/callback?code=abc&state={}",
        "A".repeat(43)
    );
    for path in [
        "/api/auth/github/callback?code=abc",
        unknown.as_str(),
        "/api/auth/github/callback?code=abc&state=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    assert_eq!(app.count("connections").await, 0);
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, _)| k == "oauth.state_rejected"));
}

#[tokio::test]
async fn a_state_works_once_and_only_for_its_session() {
    let app = spawn_app().await;
    app.signed_in("owner").await;
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "owner", "allow").await;

    // Another signed-in user replays the callback: refused, and the owner's flow survives.
    let other = browser();
    app.add_user("intruder").await;
    app.sign_in_as(&other, "intruder").await;
    let stolen = other.get(&callback).send().await.expect("replay");
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let text = stolen.text().await.expect("body");
    assert!(text.contains("another session"), "clear message: {text}");

    let first = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(location(&first), "/connections?connected=github");
    let again = app.client.get(&callback).send().await.expect("reuse");
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "a state is single use"
    );
    assert_eq!(app.count("connections").await, 1);
    assert!(!state_of(&callback).is_empty());
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.signed_in("slow").await;
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "slow", "allow").await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(11);
    app.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DatabaseBackend::Postgres => "UPDATE pending_flows SET expires_at = $1",
                _ => "UPDATE pending_flows SET expires_at = ?",
            },
            [past.into()],
        ))
        .await
        .expect("age the flow");
    let response = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn duplicated_oversized_and_unknown_inputs_get_4xx_json() {
    let app = spawn_app().await;
    app.signed_in("fuzzer").await;
    let state = "B".repeat(43);
    let duplicated = format!("/api/auth/github/callback?code=a&code=b&state={state}");
    let oversized = format!(
        "/api/auth/github/callback?code={}&state={state}",
        "x".repeat(5000)
    );
    for path in [duplicated, oversized] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["error"], "bad_callback");
    }
    let (status, body) = app.get_json("/api/auth/nosuch/status").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "unknown_service");
    assert!(body["known_services"]
        .as_array()
        .expect("list")
        .iter()
        .any(|s| s == "github"));
    let (status, _) = app.get_json("/api/nosuch/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
