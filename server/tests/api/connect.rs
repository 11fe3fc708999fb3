//! The GitHub connect flow through the sandbox, as a signed-in user sees it.

use crate::helpers::*;
use reqwest::StatusCode;
use sea_orm::EntityTrait;

#[tokio::test]
async fn connect_shows_the_account_and_disconnect_revokes_it() {
    let app = spawn_app().await;
    app.signed_in("alice").await;

    let (status, before) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["connected"], false);
    assert_eq!(before["status"], "not_connected");
    assert_eq!(before["sandbox"], true);

    assert_eq!(
        app.connect_github("octo-alice").await,
        "/connections?connected=github"
    );

    let (_, after) = app.get_json("/api/auth/github/status").await;
    assert_eq!(after["connected"], true);
    assert_eq!(after["status"], "connected");
    assert_eq!(after["account"]["name"], "octo-alice");
    assert_eq!(
        after["scopes"],
        serde_json::json!(["read:user", "user:email"])
    );
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(
        page.contains("Connected as octo-alice"),
        "the page names the account"
    );

    let token = app
        .sandbox
        .issued_access_tokens()
        .pop()
        .expect("a token was issued");
    assert!(app.sandbox.token_is_live(&token));
    let response = app.post("/api/auth/github/disconnect").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["revocation"], "revoked");
    assert!(
        !app.sandbox.token_is_live(&token),
        "the grant is revoked at the provider"
    );

    let (_, gone) = app.get_json("/api/auth/github/status").await;
    assert_eq!(gone["status"], "not_connected");
    assert_eq!(app.count("connections").await, 0);
    let kinds: Vec<String> = app.audit_kinds().await.into_iter().map(|k| k.0).collect();
    for kind in [
        "auth.sign_in",
        "connection.connect_started",
        "connection.created",
        "connection.deleted",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "audit has {kind}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn another_account_is_a_second_connection_and_the_same_account_reconnects_its_own() {
    let app = spawn_app().await;
    app.signed_in("bob").await;
    app.connect_github("first-login").await;
    app.connect_github("second-login").await;
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(app.count("connections").await, 2);
    assert_eq!(
        status["account"]["name"], "first-login",
        "the oldest answers first"
    );
    let id_of = |status: &serde_json::Value, name: &str| {
        let accounts = status["accounts"].as_array().expect("accounts");
        assert_eq!(accounts.len(), 2);
        let account = accounts.iter().find(|a| a["name"] == name).expect(name);
        account["connection"].as_str().expect("id").to_string()
    };
    let (first, second) = (
        id_of(&status, "first-login"),
        id_of(&status, "second-login"),
    );

    // The same account again: its own connection, same id, nothing added.
    app.connect_github("first-login").await;
    let (_, again) = app.get_json("/api/auth/github/status").await;
    assert_eq!(app.count("connections").await, 2);
    assert_eq!(id_of(&again, "first-login"), first);

    // Disconnect must say which: 409 listing them, then the one named goes alone.
    let ambiguous = app.post("/api/auth/github/disconnect").await;
    assert_eq!(ambiguous.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = ambiguous.json().await.expect("json");
    assert_eq!(body["error"], "ambiguous_connection");
    assert_eq!(body["connections"].as_array().map(Vec::len), Some(2));
    let body: serde_json::Value = app
        .post(&format!("/api/auth/github/disconnect?connection={second}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["revocation"], "revoked");
    let (_, left) = app.get_json("/api/auth/github/status").await;
    assert_eq!(left["accounts"].as_array().map(Vec::len), Some(1));
    assert_eq!(left["account"]["name"], "first-login");
    assert_eq!(left["status"], "connected");
}

#[tokio::test]
async fn a_user_who_cancels_gets_a_fixed_message_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.signed_in("carol").await;
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "carol", "deny").await;
    assert!(callback.contains("error=access_denied"));
    let response = app.client.get(callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/connections?error=access_denied&service=github"
    );
    assert_eq!(app.count("connections").await, 0);
    let page = app
        .get("/connections?error=access_denied&service=github")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("You cancelled the connection to GitHub. Nothing was stored."));
    assert!(
        !page.contains("denied your application"),
        "the provider's text is never shown"
    );
    let audit = app.audit_kinds().await;
    assert!(audit
        .iter()
        .any(|(k, o, r)| k == "connection.connect_failed"
            && o == "failure"
            && r.as_deref() == Some("access_denied")));
}

#[tokio::test]
async fn a_failing_token_endpoint_stores_no_connection() {
    let app = spawn_app_with(|config| {
        // Nothing listens on port 9 of the loopback: the exchange fails to connect.
        provider(config, "github").token_url =
            Some("http://127.0.0.1:9/token".parse().expect("url"));
    })
    .await;
    app.signed_in("dave").await;
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "dave", "allow").await;
    let response = app.client.get(callback).send().await.expect("callback");
    assert_eq!(
        location(&response),
        "/connections?error=exchange_failed&service=github"
    );
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn connect_page_and_sign_in_need_the_right_password() {
    let app = spawn_app().await;
    app.add_user("erin").await;
    let response = app.get("/connections").await;
    assert_eq!(
        location(&response),
        "/signin",
        "signed-out visitors go to sign in"
    );
    for (user, password) in [("erin", "wrong password"), ("nobody", "whatever1")] {
        let response = app
            .client
            .post(app.url("/auth/signin"))
            .header("origin", &app.base)
            .form(&[("username", user), ("password", password)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(location(&response), "/signin?error=1");
    }
    app.sign_in_as(&app.client, "erin").await;
    let page = app.get("/connections").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("Account (erin)"));
    let out = app
        .client
        .post(app.url("/auth/signout"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("out");
    assert_eq!(location(&out), "/signin");
    assert_eq!(
        location(&app.get("/connections").await),
        "/signin",
        "signed out for real"
    );
}

#[tokio::test]
async fn a_browser_disconnect_lands_on_a_page_that_says_how_revocation_went() {
    let app = spawn_app().await;
    app.signed_in("ivy").await;
    app.connect_github("ivy-gh").await;
    let response = app
        .client
        .post(app.url("/api/auth/github/disconnect"))
        .header("origin", &app.base)
        .header("accept", "text/html")
        .send()
        .await
        .expect("disconnect");
    let target = location(&response);
    assert_eq!(
        target,
        "/connections?disconnected=github&revocation=revoked"
    );
    let page = app.get(&target).await.text().await.expect("html");
    assert!(page.contains("GitHub disconnected."));
}

#[tokio::test]
async fn a_failed_revocation_still_disconnects_and_is_retried_later() {
    let app = spawn_app_with(|config| {
        provider(config, "github").revoke_url =
            Some("http://127.0.0.1:9/grant".parse().expect("url"));
        config.jobs.revocation_interval_seconds = 1;
    })
    .await;
    app.signed_in("olga").await;
    app.connect_github("olga-gh").await;
    let body: serde_json::Value = app
        .post("/api/auth/github/disconnect")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["revocation"], "revocation_failed");
    assert_eq!(
        app.count("connections").await,
        0,
        "deleted locally all the same"
    );
    assert_eq!(
        app.count("revocation_retries").await,
        1,
        "a retry is recorded"
    );
    let token = app.sandbox.issued_access_tokens().pop().expect("token");
    let dump = format!(
        "{:?}",
        server::base::store::revocations::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
    );
    assert!(!dump.contains(&token), "the retry keeps the token sealed");

    // Make it due now: the job (every second here) tries again, fails, and backs off.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "UPDATE revocation_retries SET next_attempt_at = '2000-01-01T00:00:00+00:00'",
        )
        .await
        .expect("make due");
    let mut attempts = 0;
    for _ in 0..50 {
        let rows = server::base::store::revocations::Entity::find()
            .all(&app.db)
            .await
            .expect("rows");
        attempts = rows.first().map(|r| r.attempts).unwrap_or_default();
        if attempts > 0 {
            assert!(
                rows[0].next_attempt_at > chrono::Utc::now(),
                "rescheduled later"
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(attempts, 1, "retried once, still failing");
}

#[tokio::test]
async fn status_says_expired_when_a_token_ran_out_unrefreshed() {
    let app = spawn_app_with(|config| config.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("uma").await;
    app.connect("outlook", "sandbox-user").await;
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(1))
        .await;
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    assert_eq!(status["status"], "expired");
    assert_eq!(status["connected"], false);
}

/// "Add another account" asks the provider for its account picker where it documents one
/// (Google's `prompt` is a space-delimited list beside `consent`; Microsoft; GitHub since
/// 2024-06; Slack has none), so a person signed in to one account there can pick another.
#[tokio::test]
async fn add_another_account_asks_for_the_account_picker_where_there_is_one() {
    let app = spawn_app_with(|c| c.limits.connect_per_user = 100).await;
    app.signed_in("ann").await;
    let prompt = |service: &'static str, another: bool| {
        let app = &app;
        async move {
            let query = if another { "?another=true" } else { "" };
            let response = app
                .client
                .get(app.url(&format!("/api/auth/{service}/authorize{query}")))
                .header("accept", "application/json")
                .send()
                .await
                .expect("authorize");
            let body: serde_json::Value = response.json().await.expect("json");
            let url: url::Url = body["authorization_url"]
                .as_str()
                .expect("url")
                .parse()
                .expect("url");
            let prompts: Vec<String> = url
                .query_pairs()
                .filter(|(k, _)| k == "prompt")
                .map(|(_, v)| v.into_owned())
                .collect();
            (url, prompts)
        }
    };
    assert_eq!(prompt("gmail", false).await.1, ["consent"]);
    let (gmail, prompts) = prompt("gmail", true).await;
    assert_eq!(
        prompts,
        ["select_account consent"],
        "one parameter, both asks"
    );
    assert_eq!(prompt("outlook", true).await.1, ["select_account"]);
    assert_eq!(prompt("github", true).await.1, ["select_account"]);
    assert!(prompt("github", false).await.1.is_empty());
    assert!(
        prompt("slack", true).await.1.is_empty(),
        "Slack documents no picker"
    );
    // Google's emulation takes it, and the second account connects beside the first.
    app.connect("gmail", "ann-work").await;
    let callback = app.consent(&gmail, "ann-home", "allow").await;
    let done = app.client.get(callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, status) = app.get_json("/api/auth/gmail/status").await;
    assert_eq!(
        status["accounts"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );
}

/// Sixteen connect flows completing at once, for one account and for sixteen: each one
/// connects. On SQLite half of them failed with "database is locked" (issue 19's benchmark):
/// a transaction that read before it wrote could not take the write lock once another write
/// had committed, and gave up at once instead of waiting its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_flows_completing_at_once_all_connect() {
    let app = spawn_app_with(|c| {
        c.limits.connect_per_user = 1000;
        c.limits.callback_per_address = 1000;
    })
    .await;
    app.signed_in("rush").await;
    for logins in [vec!["rush-gh"; 16], (0..16).map(|_| "").collect()] {
        let flows = logins.iter().enumerate().map(|(i, login)| {
            let login = if login.is_empty() {
                format!("rush-{i}")
            } else {
                login.to_string()
            };
            let app = &app;
            async move { app.connect_github(&login).await }
        });
        let ends = futures::future::join_all(flows).await;
        for end in ends {
            assert_eq!(end, "/connections?connected=github");
        }
    }
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(
        status["accounts"].as_array().map(Vec::len),
        Some(17),
        "one account, then sixteen more"
    );
}
