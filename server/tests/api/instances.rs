//! Two `atom` instances on one database, one browser alternating between them: sessions,
//! pending flows, refresh leases and live events are shared through the database.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_browser_can_alternate_between_two_instances() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    a.signed_in("wendy").await;

    // Signed in on A, known on B (cookies go by host, and both are 127.0.0.1).
    let status = a
        .client
        .get(format!("{b}/api/auth/github/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(
        status.status(),
        StatusCode::OK,
        "the session lives in the shared database"
    );

    // B announces changes made through A.
    let mut events = a
        .client
        .get(format!("{b}/api/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), StatusCode::OK);

    // Start on A, come back from the provider to B.
    let authorize = a.start_connect(&a.client).await;
    let callback = a.consent(&authorize, "wendy-gh", "allow").await;
    let on_b = callback.replacen(&a.base, &b, 1);
    assert_ne!(on_b, callback);
    let done = a.client.get(on_b).send().await.expect("callback on B");
    assert_eq!(
        location(&done),
        "/connections?connected=github",
        "B completes A's flow"
    );

    // It was missed now and then while B's LISTEN connection was slow to come (`spawn_poller`).
    let seen = read_until(&mut events, "github", std::time::Duration::from_secs(5)).await;
    assert!(
        seen.contains("event: connection") && seen.contains("github"),
        "B's dashboards hear about the connection within seconds"
    );

    // Disconnect through B; A sees it.
    let gone = a
        .client
        .post(format!("{b}/api/auth/github/disconnect"))
        .header("origin", &a.base)
        .header("accept", "application/json")
        .send()
        .await
        .expect("disconnect on B");
    assert_eq!(gone.status(), StatusCode::OK);
    let (_, status) = a.get_json("/api/auth/github/status").await;
    assert_eq!(status["status"], "not_connected");
}

#[tokio::test]
async fn two_instances_race_through_a_thousand_rotating_refreshes_without_a_double_or_a_loss() {
    let a = spawn_app_with(|config| config.jobs.refresh_interval_seconds = 3600).await;
    let b = a.second_instance().await;
    a.signed_in("xena").await;
    a.connect("outlook", "sandbox-user").await;
    let user = server::base::store::users::by_username(&a.db, "xena")
        .await
        .expect("db")
        .expect("user")
        .id;
    let scopes = vec!["tokens:read".to_string()];
    let (_, key) =
        server::base::store::api_keys::create(&a.db, "two instances", &scopes, a.clock.now())
            .await
            .expect("key");
    let key = secrecy::ExposeSecret::expose_secret(&key).to_string();
    // Microsoft rotates refresh tokens: a double refresh would hand callers two tokens in one
    // round and count twice in the audit log. A thousand rounds, to give races a chance.
    const ROUNDS: usize = 1000;
    let path = format!("/api/v1/users/{user}/connections/outlook/token");
    for round in 0..ROUNDS {
        a.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
            .await;
        let calls = (0..4).map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.clone()
            };
            let url = format!("{base}{path}");
            let client = a.client.clone();
            let key = key.clone();
            async move {
                let response = client
                    .get(url)
                    .bearer_auth(key)
                    .send()
                    .await
                    .expect("token");
                let status = response.status();
                let body: serde_json::Value = response.json().await.expect("json");
                assert_eq!(status, StatusCode::OK, "round {round}: {body}");
                body["access_token"].as_str().expect("token").to_string()
            }
        });
        let tokens: std::collections::HashSet<String> =
            futures::future::join_all(calls).await.into_iter().collect();
        assert_eq!(
            tokens.len(),
            1,
            "round {round}: one refreshed token for every caller"
        );
    }
    let refreshes = a
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(kind, outcome, _)| kind == "connection.refreshed" && outcome == "success")
        .count();
    assert_eq!(
        refreshes, ROUNDS,
        "one refresh per round across two instances: no double refresh"
    );
    // No token lost: the last rotated refresh token still works at the provider.
    a.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    let response = a
        .client
        .get(format!("{b}{path}"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
    let (_, status) = a.get_json("/api/auth/outlook/status").await;
    assert_eq!(status["status"], "connected");
}

#[tokio::test]
async fn instances_starting_together_migrate_once_without_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let (url, _) = database_url(dir.path()).await;
    let starts = (0..4).map(|_| server::base::store::open(&url));
    for started in futures::future::join_all(starts).await {
        started.expect("every instance starts");
    }
    let db = server::base::store::connect(&url).await.expect("db");
    assert_eq!(
        server::base::store::pending_migrations(&db)
            .await
            .expect("db"),
        0
    );
}

/// On PostgreSQL an instance hears of another's change when it commits, not at its next poll
/// (issue 19: changes reached other instances' pages 291–576 ms later, at every 500 ms poll).
/// With polling slowed to once a minute, B still announces A's new connection within seconds:
/// the database's notification woke it.
#[tokio::test]
async fn on_postgresql_other_instances_hear_of_a_change_without_waiting_to_poll() {
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // One SQLite file, one instance: nothing to notify.
    }
    let a = spawn_app_with(|c| c.jobs.events_poll_milliseconds = 60_000).await;
    let b = a
        .instance_with(|c| c.jobs.events_poll_milliseconds = 60_000)
        .await
        .expect("a second instance");
    a.signed_in("nora").await;
    let mut events = a
        .client
        .get(format!("{b}/api/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    // Both readers have made their first (immediate) poll by now; the next is a minute away.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    a.connect_github("nora-gh").await;
    let seen = read_until(&mut events, "github", std::time::Duration::from_secs(10)).await;
    assert!(
        seen.contains("event: connection") && seen.contains("github"),
        "B heard within seconds, not a minute"
    );
}

#[tokio::test]
async fn a_change_reaches_open_pages_without_waiting_for_the_poll() {
    // A poll a minute: only the request's own wake-up can deliver within seconds.
    let app = spawn_app_with(|config| config.jobs.events_poll_milliseconds = 60_000).await;
    app.signed_in("wanda").await;
    app.connect_github("wanda-gh").await;
    let mut events = app
        .client
        .get(app.url("/api/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    let gone = app.post("/api/auth/github/disconnect").await;
    assert_eq!(gone.status(), StatusCode::OK);
    let seen = read_until(&mut events, "github", std::time::Duration::from_secs(5)).await;
    assert!(
        seen.contains("event: connection") && seen.contains("github"),
        "the disconnect reached the open page: {seen}"
    );
}

/// Signed-in requests keep their session and user in memory for a moment (issue 19: three
/// database reads per status call). Ending a session must still hold at once on the instance
/// that ended it and within a second on every other (on PostgreSQL, as the change commits):
/// a sign-out and a disabled user, each made on A just after B served that session.
#[tokio::test]
async fn a_session_ended_on_one_instance_ends_on_the_other_within_a_second() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    a.add_user("sybil").await;
    // The cookie by hand: a browser that signed out drops it, an attacker who copied it not.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = plain
        .post(a.url("/auth/signin"))
        .header("origin", &a.base)
        .form(&[("username", "sybil"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(location(&signed_in), "/connections");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let status = |base: String| {
        let (plain, cookie) = (plain.clone(), cookie.clone());
        async move {
            plain
                .get(format!("{base}/api/auth/github/status"))
                .header("cookie", cookie)
                .send()
                .await
                .expect("status")
                .status()
        }
    };
    assert_eq!(status(b.clone()).await, StatusCode::OK);
    assert_eq!(status(a.base.clone()).await, StatusCode::OK);
    let out = plain
        .post(a.url("/auth/signout"))
        .header("origin", &a.base)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sign out");
    assert_eq!(location(&out), "/signin");
    assert_eq!(
        status(a.base.clone()).await,
        StatusCode::UNAUTHORIZED,
        "at once where it was ended"
    );
    within_a_second("the copied cookie on B ends", || async {
        status(b.clone()).await == StatusCode::UNAUTHORIZED
    })
    .await;

    // Disabled through A's API while signed in on both.
    a.sign_in_as(&a.client, "sybil").await;
    let on = |base: String| {
        let client = a.client.clone();
        async move {
            client
                .get(format!("{base}/api/auth/github/status"))
                .send()
                .await
                .expect("status")
                .status()
        }
    };
    assert_eq!(on(b.clone()).await, StatusCode::OK);
    assert_eq!(on(a.base.clone()).await, StatusCode::OK);
    let key = a.api_key(&["users:write"]).await;
    let id = a.user_id("sybil").await;
    let disabled = reqwest::Client::new()
        .put(a.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "disabled": true }))
        .send()
        .await
        .expect("disable");
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(
        on(a.base.clone()).await,
        StatusCode::UNAUTHORIZED,
        "at once where she was disabled"
    );
    within_a_second("her session on B ends", || async {
        on(b.clone()).await == StatusCode::UNAUTHORIZED
    })
    .await;
}

/// The status route and the token API keep a user's connections in memory for a moment
/// (issue 19): a disconnect still shows at once on the instance that made it, and within a
/// second on another that had just answered the same status and handed out the token.
#[tokio::test]
async fn a_disconnect_shows_at_once_here_and_within_a_second_elsewhere() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    a.signed_in("cleo").await;
    a.connect_github("cleo-gh").await;
    let status_on = |base: String| {
        let client = a.client.clone();
        async move {
            let body: serde_json::Value = client
                .get(format!("{base}/api/auth/github/status"))
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("json");
            body["status"].as_str().unwrap_or_default().to_string()
        }
    };
    // The token API keeps the connection for a moment too.
    let key = a.api_key(&["tokens:read"]).await;
    let user = a.user_id("cleo").await;
    let token_on = |base: String| {
        let (key, user) = (key.clone(), user.clone());
        async move {
            reqwest::Client::new()
                .get(format!(
                    "{base}/api/v1/users/{user}/connections/github/token"
                ))
                .bearer_auth(key)
                .send()
                .await
                .expect("token")
                .status()
        }
    };
    assert_eq!(status_on(a.base.clone()).await, "connected");
    assert_eq!(status_on(b.clone()).await, "connected");
    assert_eq!(token_on(a.base.clone()).await, StatusCode::OK);
    assert_eq!(token_on(b.clone()).await, StatusCode::OK);
    let gone = a.post("/api/auth/github/disconnect").await;
    assert_eq!(gone.status(), StatusCode::OK);
    assert_eq!(
        status_on(a.base.clone()).await,
        "not_connected",
        "at once where it was disconnected"
    );
    assert_eq!(token_on(a.base.clone()).await, StatusCode::NOT_FOUND);
    within_a_second("B shows the disconnect", || async {
        status_on(b.clone()).await == "not_connected"
    })
    .await;
    within_a_second("B hands out no token", || async {
        token_on(b.clone()).await == StatusCode::NOT_FOUND
    })
    .await;
}

/// An administrator's switch is kept for a moment by every instance (a connect flow does not
/// read it from the database): turning a provider off stops new flows at once on the instance
/// that turned it, within a second on the others, and turning it on again the same way.
#[tokio::test]
async fn a_provider_turned_off_refuses_flows_at_once_here_and_within_a_second_elsewhere() {
    // Each flow started (or refused) counts against the user's limit: this one asks often.
    let a = admin_app_with(|c| c.limits.connect_per_user = 10_000).await;
    let b = a.second_instance().await;
    let authorize_on = |base: String| {
        let client = a.client.clone();
        async move {
            client
                .get(format!("{base}/api/auth/github/authorize"))
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .expect("authorize")
                .status()
        }
    };
    let switch = |enabled: &'static str| {
        a.client
            .post(a.url("/admin/providers/github/enabled"))
            .header(reqwest::header::ORIGIN, &a.base)
            .form(&[("enabled", enabled)])
            .send()
    };
    // Both instances have read the switch (and keep it).
    assert_eq!(authorize_on(a.base.clone()).await, StatusCode::OK);
    assert_eq!(authorize_on(b.clone()).await, StatusCode::OK);

    assert!(switch("false")
        .await
        .expect("off")
        .status()
        .is_redirection());
    assert_eq!(
        authorize_on(a.base.clone()).await,
        StatusCode::CONFLICT,
        "at once where it was turned off"
    );
    within_a_second("B refuses new flows", || async {
        authorize_on(b.clone()).await == StatusCode::CONFLICT
    })
    .await;

    assert!(switch("true").await.expect("on").status().is_redirection());
    assert_eq!(authorize_on(a.base.clone()).await, StatusCode::OK);
    within_a_second("B starts flows again", || async {
        authorize_on(b.clone()).await == StatusCode::OK
    })
    .await;
}

/// A hub starting beside another in the same process never stalls the other's pages. Leptos
/// switches resource loading off process-wide while it works out a router's pages
/// (leptos-rs/leptos#4773), and a page whose data first loaded in that moment never answered:
/// seen as a two-minute hang on `GET /admin`, `/admin/keys` or `/connections` in loaded test
/// runs, where many hubs start in one process. Another thread starts hubs one after another
/// while this one loads pages, eight at a time, each given ten seconds.
#[tokio::test]
async fn pages_answer_while_other_hubs_start_in_the_same_process() {
    let app = admin_app().await;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let starter = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        // At most 24 hubs or five seconds of them (a PostgreSQL hub makes a database first),
        // each stopped before the next starts.
        let started = std::time::Instant::now();
        runtime.block_on(async {
            for _ in 0..24 {
                if started.elapsed() > std::time::Duration::from_secs(5) {
                    break;
                }
                let (_, running) = spawn_app_until(|_| {}, async {}).await;
                let _ = running.await;
            }
        });
        let _ = done_tx.send(());
    });
    let mut loads = 0;
    // Until the starter is done, or has panicked (then `join` says why).
    while matches!(
        done_rx.try_recv(),
        Err(std::sync::mpsc::TryRecvError::Empty)
    ) {
        let paths = ["/admin", "/admin/keys", "/connections", "/admin/audit"];
        let pages = [paths, paths].concat().into_iter().map(|path| {
            let request = app.client.get(app.url(path)).send();
            async move {
                let answer = tokio::time::timeout(std::time::Duration::from_secs(10), request)
                    .await
                    .unwrap_or_else(|_| panic!("GET {path} never answered"))
                    .expect("answer");
                assert_eq!(answer.status(), StatusCode::OK, "{path}");
                answer.text().await.expect("page")
            }
        });
        futures::future::join_all(pages).await;
        loads += 8;
    }
    starter.join().expect("the hubs started");
    assert!(loads >= 8, "pages were loaded while hubs started");
}

/// A PostgreSQL connection that the server (a restart, a proxy's idle timeout) ended while it
/// sat in the pool is replaced before a request uses it. The hub checks a pooled connection
/// only once it has been unused for a second, not before every statement (issue 19): without
/// that check, each of these requests found a dead connection and answered 503.
#[tokio::test]
async fn on_postgresql_connections_the_server_ended_are_replaced_unseen() {
    use sea_orm::ConnectionTrait;
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // A SQLite file has no server to hang up.
    }
    let app = spawn_app().await;
    app.signed_in("olga").await;
    for _ in 0..3 {
        let ended = app
            .db
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .expect("end the hub's connections");
        assert!(ended.rows_affected() > 0, "the hub held connections");
        // Past the hub's copies of the session and user (half a second) and the check's
        // threshold (a second).
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        for _ in 0..4 {
            let response = app.get("/api/auth/github/status").await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
}
