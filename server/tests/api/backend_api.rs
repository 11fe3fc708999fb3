//! The backend API: API keys, fresh tokens (refreshed on demand, once), list and delete.

use crate::helpers::*;
use reqwest::StatusCode;

async fn api(app: &TestApp, key: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// Makes the stored access token look expired, as if an hour had passed.
async fn expire(app: &TestApp) {
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
}

#[tokio::test]
async fn a_backend_gets_the_users_token_with_its_key_and_every_use_is_audited() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    app.connect_github("alice-gh").await;
    let issued = app.sandbox.issued_access_tokens().pop().expect("token");
    let alice = app.user_id("alice").await;
    let key = app.api_key(&["tokens:read"]).await;

    let (status, body) = api(
        &app,
        &key,
        &format!("/api/v1/users/{alice}/connections/github/token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["access_token"], issued);
    assert_eq!(
        body["scopes"],
        serde_json::json!(["read:user", "user:email"])
    );

    let (status, list) = api(&app, &key, &format!("/api/v1/users/{alice}/connections")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["connections"][0]["service"], "github");
    assert_eq!(list["connections"][0]["account"]["name"], "alice-gh");
    assert!(
        !list.to_string().contains(&issued),
        "listing never shows tokens"
    );

    let audit = app.audit_kinds().await;
    assert!(audit
        .iter()
        .any(|(kind, _, reason)| kind == "api.token_issued"
            && reason
                .as_deref()
                .is_some_and(|r| r.starts_with("connection:"))));
    let (status, body) = api(&app, &key, "/api/v1/users/nobody/connections/github/token").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_user"))
    );
    let (status, _) = api(
        &app,
        &key,
        &format!("/api/v1/users/{alice}/connections/gmail/token"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not connected");
}

#[tokio::test]
async fn keys_are_checked_scoped_and_revocable() {
    let app = spawn_app().await;
    app.signed_in("bob").await;
    app.connect_github("bob-gh").await;
    let bob = app.user_id("bob").await;
    let path = format!("/api/v1/users/{bob}/connections/github/token");
    let read_only = app.api_key(&["tokens:read"]).await;

    assert_eq!(
        app.get(&path).await.status(),
        StatusCode::UNAUTHORIZED,
        "no key"
    );
    assert_eq!(
        api(&app, "atom_wrong", &path).await.0,
        StatusCode::UNAUTHORIZED
    );
    let in_query = app.get(&format!("{path}?api_key={read_only}")).await;
    assert_eq!(
        in_query.status(),
        StatusCode::UNAUTHORIZED,
        "keys only in the header"
    );

    let delete = |key: String| {
        app.client
            .delete(app.url(&format!("/api/v1/users/{bob}/connections/github")))
            .bearer_auth(key)
            .send()
    };
    let refused = delete(read_only.clone()).await.expect("delete");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "tokens:read cannot delete"
    );
    let writer = app.api_key(&["connections:write"]).await;
    let deleted = delete(writer).await.expect("delete");
    assert_eq!(deleted.status(), StatusCode::OK);
    let body: serde_json::Value = deleted.json().await.expect("json");
    assert_eq!(body["revocation"], "revoked");

    let id = server::base::store::api_keys::list(&app.db)
        .await
        .expect("list")[0]
        .id
        .clone();
    // Revoked behind the hub's back, as `atom apikey revoke` does from its own process: the
    // hub's copy of the key lasts at most half a second (through the admin page, at once:
    // admin::an_admin_creates_an_api_key_shown_once_and_revokes_it).
    assert!(
        server::base::store::api_keys::revoke(&app.db, &id, app.clock.now())
            .await
            .expect("revoke")
    );
    within_a_second("the revoked key is refused", || async {
        api(&app, &read_only, &path).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    let stored = server::base::store::api_keys::list(&app.db)
        .await
        .expect("list");
    assert!(stored
        .iter()
        .all(|k| k.key_hash != read_only && !k.key_hash.contains("atom_")));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_for_many_concurrent_callers() {
    let app = spawn_app().await;
    app.signed_in("carol").await;
    app.connect("outlook", "sandbox-user").await;
    let first = app.sandbox.issued_access_tokens();
    let carol = app.user_id("carol").await;
    let key = app.api_key(&["tokens:read"]).await;
    expire(&app).await;

    // Microsoft rotates refresh tokens: a second refresh would hand some callers another
    // token and show in the audit log as a second refresh.
    let path = format!("/api/v1/users/{carol}/connections/outlook/token");
    let calls = (0..100).map(|_| api(&app, &key, &path));
    let answers = futures::future::join_all(calls).await;
    let tokens: std::collections::HashSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["access_token"].as_str().expect("token").to_string()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "every caller got the one refreshed token");
    let token = tokens.into_iter().next().expect("token");
    assert!(!first.contains(&token), "a new access token");
    let refreshed = app
        .audit_kinds()
        .await
        .iter()
        .filter(|(k, o, _)| k == "connection.refreshed" && o == "success")
        .count();
    assert_eq!(refreshed, 1, "exactly one refresh");

    // The rotated refresh token was stored: the next expiry refreshes again, successfully.
    expire(&app).await;
    let (status, body) = api(&app, &key, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["access_token"], token);
}

#[tokio::test]
async fn a_dead_refresh_token_turns_the_connection_to_needs_reauth() {
    let app = spawn_app().await;
    app.signed_in("dave").await;
    app.connect("gmail", "sandbox-user").await;
    let dave = app.user_id("dave").await;
    let key = app.api_key(&["tokens:read"]).await;
    // The user revokes access at Google: the refresh token dies with the grant.
    for token in app.sandbox.issued_access_tokens() {
        assert!(app.sandbox.revoke_grant(&token));
    }
    expire(&app).await;
    let (status, body) = api(
        &app,
        &key,
        &format!("/api/v1/users/{dave}/connections/gmail/token"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("needs_reauth"))
    );
    let (_, state) = app.get_json("/api/auth/gmail/status").await;
    assert_eq!(state["status"], "needs_reauth");
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(page.contains("Needs attention") && page.contains("Reconnect"));
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, r)| k == "connection.needs_reauth" && r.as_deref() == Some("invalid_grant")));
}

#[tokio::test]
async fn the_background_refresher_renews_tokens_before_anyone_asks() {
    let app = spawn_app_with(|config| config.jobs.refresh_interval_seconds = 1).await;
    app.signed_in("erin").await;
    app.connect("outlook", "sandbox-user").await;
    app.set_expiry(chrono::Utc::now() + chrono::Duration::minutes(3))
        .await;
    let mut refreshed = false;
    for _ in 0..50 {
        let audit = app.audit_kinds().await;
        if audit
            .iter()
            .any(|(k, o, _)| k == "connection.refreshed" && o == "success")
        {
            refreshed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refreshed, "refreshed in the background");
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    let expires: chrono::DateTime<chrono::Utc> = status["expires_at"]
        .as_str()
        .expect("expiry")
        .parse()
        .expect("time");
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(30),
        "a fresh hour"
    );
}

#[tokio::test]
async fn a_never_expiring_token_revoked_at_the_provider_is_noticed() {
    let app = spawn_app_with(|config| {
        config.jobs.liveness_interval_seconds = 1;
        config.jobs.liveness_period_seconds = 1;
    })
    .await;
    app.signed_in("yuri").await;
    app.connect_github("yuri-gh").await;
    let token = app.sandbox.issued_access_tokens().pop().expect("token");
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status["status"], "connected");
    assert!(
        app.sandbox.revoke_grant(&token),
        "the user removes the app at GitHub"
    );
    let mut state = String::new();
    for _ in 0..50 {
        state = app.get_json("/api/auth/github/status").await.1["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if state == "needs_reauth" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "needs_reauth");
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, r)| k == "connection.needs_reauth"
            && r.as_deref() == Some("revoked_at_provider")));
}

/// Token hand-outs are audited by group commit (issue 19): a burst of them shares inserts, and
/// still every answer comes after its own event was committed. When the audit row cannot be
/// written, the token is not handed out.
#[tokio::test]
async fn every_token_of_a_burst_is_audited_before_it_is_handed_out() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.signed_in("bursty").await;
    app.connect_github("bursty-gh").await;
    let user = app.user_id("bursty").await;
    let key = app.api_key(&["tokens:read"]).await;
    let burst = (0..64).map(|_| app.token_answer(&key, &user, "github"));
    let answers = futures::future::join_all(burst).await;
    assert!(answers.iter().all(|a| a.status() == StatusCode::OK));
    assert_eq!(issued(&app).await, 64, "one event per token, at once");

    // The audit log refuses this kind of event from now on.
    let refuse = if app.db_url().starts_with("postgres") {
        vec![
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.kind = 'api.token_issued') EXECUTE FUNCTION refuse_audit()",
        ]
    } else {
        vec!["CREATE TRIGGER refuse BEFORE INSERT ON audit_events WHEN NEW.kind = 'api.token_issued' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for statement in refuse {
        app.db.execute_unprepared(statement).await.expect("trigger");
    }
    let refused = app.token_answer(&key, &user, "github").await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = refused.text().await.expect("body");
    let token = app.sandbox.issued_access_tokens().pop().expect("token");
    assert!(!body.contains(&token), "no token without its audit row");
    assert_eq!(issued(&app).await, 64);
}

async fn issued(app: &TestApp) -> usize {
    let kinds = app.audit_kinds().await;
    kinds
        .iter()
        .filter(|(k, _, _)| k == "api.token_issued")
        .count()
}
