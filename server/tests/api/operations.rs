//! Running the hub in production: metrics on their own port, gauges of connections and
//! provider reachability.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn metrics_can_have_a_port_of_their_own_with_connection_and_reachability_gauges() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let metrics_addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let app = spawn_app_with(move |c| c.server.metrics_listen = Some(metrics_addr)).await;
    app.signed_in("mona").await;
    app.connect_github("mona-gh").await;
    assert_eq!(
        app.get("/metrics").await.status(),
        StatusCode::NOT_FOUND,
        "not on the public port"
    );
    let scrape = || async {
        reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text")
    };
    let mut text = scrape().await;
    for _ in 0..50 {
        if text.contains("atom_provider_up{provider=\"github\"} 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape().await;
    }
    assert!(
        text.contains("atom_provider_up{provider=\"github\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("atom_connections{provider=\"github\",state=\"connected\"} 1"),
        "{text}"
    );
    assert!(text.contains("atom_connections{provider=\"github\",state=\"needs_reauth\"} 0"));
    app.post("/api/auth/github/disconnect").await;
    // Metrics are process-wide and other tests' hubs scrape too: look a few times.
    let mut down = false;
    for _ in 0..10 {
        let text = scrape().await;
        down = text.contains("atom_connections{provider=\"github\",state=\"connected\"} 0");
        if down {
            break;
        }
    }
    assert!(down, "a disconnect brings the gauge down");
}

/// Every user's token through the backend API of the hub at `base`.
async fn all_tokens_open(base: &str, key: &str, users: &[String]) -> bool {
    let api = reqwest::Client::new();
    for user in users {
        let url = format!("{base}/api/v1/users/{user}/connections/github/token");
        let answer = api.get(&url).bearer_auth(key).send().await.expect("api");
        if answer.status() != StatusCode::OK {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn key_rotation_is_resumable_and_keeps_every_connection_readable() {
    use secrecy::ExposeSecret;
    use std::ops::ControlFlow;
    let app = spawn_app().await;
    let mut users = Vec::new();
    for name in ["kai", "lea", "max"] {
        app.signed_in(name).await;
        app.connect_github(&format!("{name}-gh")).await;
        users.push(app.user_id(name).await);
    }
    let api_key = app.api_key(&["tokens:read"]).await;
    let old = app.key.clone();
    let new = server::base::vault::Keyring::generate_hex()
        .expose_secret()
        .to_string();
    let both = format!("{new},{old}");
    let keyring = server::base::vault::Keyring::from_hex(&both.clone().into()).expect("keyring");
    assert_eq!(
        server::domain::rotation::remaining(&app.db, &keyring)
            .await
            .expect("db"),
        4,
        "3 connections and the known-answer row"
    );

    // Interrupted after two ciphertexts.
    let report = server::domain::rotation::rotate(&app.db, &keyring, &mut |done| {
        if done == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await
    .expect("partial rotation");
    assert_eq!(report.rotated, 2);
    assert_eq!(
        server::domain::rotation::remaining(&app.db, &keyring)
            .await
            .expect("db"),
        2
    );
    let mixed = app
        .instance_with_key(&both)
        .await
        .expect("NEW,OLD starts on a half-rotated database");
    assert!(
        all_tokens_open(&mixed, &api_key, &users).await,
        "old and new ciphertexts both open"
    );

    // Resumed to the end.
    let report =
        server::domain::rotation::rotate(&app.db, &keyring, &mut |_| ControlFlow::Continue(()))
            .await
            .expect("rotation");
    assert_eq!((report.rotated, report.unreadable), (2, 0));
    assert_eq!(
        server::domain::rotation::remaining(&app.db, &keyring)
            .await
            .expect("db"),
        0
    );

    let new_only = app
        .instance_with_key(&new)
        .await
        .expect("the new key alone starts");
    assert!(
        all_tokens_open(&new_only, &api_key, &users).await,
        "every connection under the new key"
    );
    let refused = app
        .instance_with_key(&old)
        .await
        .expect_err("the old key alone is refused");
    assert!(refused.contains("known-answer"), "{refused}");
    let stored = app.stored_text().await;
    assert!(
        stored.iter().all(|(_, text)| !text.contains(&new)),
        "the key is not stored"
    );
}

/// A hub with an expired GitHub connection whose next refresh hangs at the provider for
/// `hang`; returns the app, its stop trigger, its run handle and the token URL with a key.
async fn hub_with_a_hanging_refresh(
    shutdown_timeout_seconds: u64,
    hang: std::time::Duration,
) -> (
    TestApp,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
    String,
    String,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = spawn_app_until(
        move |c| c.server.shutdown_timeout_seconds = shutdown_timeout_seconds,
        async move {
            let _ = stopped.await;
        },
    )
    .await;
    app.signed_in("sid").await;
    // Outlook: Microsoft's access tokens expire, so an expired one is refreshed on demand.
    app.connect("outlook", "sandbox-user").await;
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("sid").await;
    let url = app.url(&format!("/api/v1/users/{user}/connections/outlook/token"));
    app.sandbox.inject(
        "/microsoft/common/oauth2/v2.0/token",
        server::sandbox::Fault::Slow(hang),
    );
    (app, stop, running, url, key)
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_ends_live_streams() {
    let (app, stop, running, url, key) =
        hub_with_a_hanging_refresh(10, std::time::Duration::from_millis(1500)).await;
    let events = app.get("/api/events").await;
    assert_eq!(events.status(), StatusCode::OK);
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
    });
    // Load: eight callers ask for status in a loop, through the shutdown. Every answer that
    // starts is a whole 200.
    let load: Vec<_> = (0..8)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/auth/outlook/status");
            tokio::spawn(async move {
                let (mut answered, mut refused) = (0, 0);
                loop {
                    match client
                        .get(&url)
                        .header("accept", "application/json")
                        .send()
                        .await
                    {
                        Ok(response) => {
                            assert_eq!(response.status(), StatusCode::OK, "no request fails");
                            response.bytes().await.expect("a whole body");
                            answered += 1;
                        }
                        // No answer at all: refused, or a kept-alive connection the hub
                        // closed before reading the request. Never half an answer.
                        Err(_) => refused += 1,
                    }
                    if refused > 0 {
                        return answered;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        app.count("connection_leases").await,
        1,
        "the refresh holds its lease"
    );
    stop.send(()).expect("stop");
    let answer = in_flight
        .await
        .expect("task")
        .expect("the in-flight request is answered");
    assert_eq!(answer.status(), StatusCode::OK, "and answered in full");
    let body: serde_json::Value = answer.json().await.expect("json");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let stream_end = tokio::time::timeout(std::time::Duration::from_secs(5), events.text()).await;
    assert!(
        stream_end.is_ok(),
        "the live stream ended instead of holding shutdown up"
    );
    let finished = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
    assert!(finished.is_ok(), "the hub stopped");
    assert_eq!(app.count("connection_leases").await, 0);
    assert!(
        reqwest::get(app.url("/healthz")).await.is_err(),
        "no longer accepting"
    );
    for caller in load {
        let answered = caller
            .await
            .expect("every request answered in full, or refused");
        assert!(answered > 0);
    }
}

#[tokio::test]
async fn shutdown_gives_up_on_a_stuck_request_after_the_timeout_and_releases_leases() {
    let (app, stop, running, url, key) =
        hub_with_a_hanging_refresh(1, std::time::Duration::from_secs(30)).await;
    let _stuck = tokio::spawn(async move {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.count("connection_leases").await, 1);
    let started = std::time::Instant::now();
    stop.send(()).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("the hub stopped within the timeout")
        .expect("task")
        .expect("clean exit");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "it waited first"
    );
    assert_eq!(
        app.count("connection_leases").await,
        0,
        "the lease is given back: another instance need not wait out its TTL"
    );
}

/// The last good backup's time on /metrics (0 when there was none).
async fn last_backup(app: &TestApp) -> f64 {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix("atom_backup_last_success_timestamp_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the metric is there")
}

/// Backups cannot fail silently and restore only into a new database (issue 18): `atom backup`
/// works for both databases while the hub runs, writes a private file under a temporary name
/// and renames it when whole, never overwrites, and is reported on /metrics; `atom restore`
/// refuses a database that is not new, verifies the key (a backup under another key is
/// refused with that reason) and counts rows; a hub on the restored copy hands out the token.
#[tokio::test]
async fn a_backup_taken_while_the_hub_runs_restores_every_connection() {
    use server::domain::backups::{self, BackupError};
    let app = spawn_app().await;
    app.signed_in("bo").await;
    app.connect_github("bo-gh").await;
    let user = app.user_id("bo").await;
    let key = app.api_key(&["tokens:read"]).await;
    assert_eq!(last_backup(&app).await, 0.0, "never backed up");
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("atom-backup");
    let made = backups::backup(&app.db, app.db_url(), &copy)
        .await
        .expect("online backup");
    assert!(made.bytes > 0);
    assert!(
        !dir.path().join("atom-backup.partial").exists(),
        "renamed when whole"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copy).expect("copy").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the copy is private");
    let before = std::fs::read(&copy).expect("copy");
    let again = backups::backup(&app.db, app.db_url(), &copy).await;
    assert!(
        matches!(again, Err(BackupError::Exists(_))),
        "never overwrites"
    );
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        before,
        "the first is intact"
    );
    let failed = backups::backup(&app.db, app.db_url(), &dir.path().join("no/such/dir/b")).await;
    assert!(failed.is_err());
    assert!(
        !dir.path().join("no").exists(),
        "a failed backup leaves nothing"
    );
    let at = last_backup(&app).await;
    assert!(
        (chrono::Utc::now().timestamp() as f64 - at).abs() < 120.0,
        "{at}"
    );

    let vault = |hex: &str| {
        server::base::vault::Keyring::from_hex(&secrecy::SecretString::from(hex.to_string()))
            .expect("keyring")
    };
    let other = tempfile::tempdir().expect("dir");
    let (into, _) = database_url(other.path()).await;
    let verified = backups::restore(&copy, &into, &vault(&app.key))
        .await
        .expect("restored and verified");
    assert_eq!(verified.pending_migrations, 0);
    let rows = |table: &str| {
        verified
            .counts
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| *n)
    };
    assert_eq!(rows("users"), Some(1));
    assert_eq!(rows("connections"), Some(1));
    let twice = backups::restore(&copy, &into, &vault(&app.key)).await;
    assert!(
        matches!(twice, Err(BackupError::Exists(_))),
        "only into a new database"
    );
    let third = tempfile::tempdir().expect("dir");
    let (elsewhere, _) = database_url(third.path()).await;
    let wrong = backups::restore(&copy, &elsewhere, &vault(&"ab".repeat(32))).await;
    let message = wrong.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("taken under another key"), "{message}");

    let url = into.clone();
    let restored = app
        .instance_with(move |c| c.database.url = url)
        .await
        .expect("a hub on the copy");
    let answer = reqwest::Client::new()
        .get(format!(
            "{restored}/api/v1/users/{user}/connections/github/token"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "the restored connection opens with the same key"
    );
}

#[tokio::test]
async fn background_jobs_end_with_the_server() {
    // The refresher runs every second: while the hub runs it renews a token about to expire
    // (backend_api::the_background_refresher_renews_tokens_before_anyone_asks).
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = spawn_app_until(|c| c.jobs.refresh_interval_seconds = 1, async move {
        let _ = stopped.await;
    })
    .await;
    app.signed_in("jobs").await;
    app.connect("outlook", "sandbox-user").await;
    stop.send(()).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("the hub and its jobs stopped")
        .expect("task")
        .expect("clean exit");
    // Stopped: a token about to expire stays as it is, whatever the refresher's interval.
    app.set_expiry(chrono::Utc::now() + chrono::Duration::minutes(3))
        .await;
    let refreshes = || async {
        app.audit_kinds()
            .await
            .into_iter()
            .filter(|(kind, _, _)| kind == "connection.refreshed")
            .count()
    };
    let before = refreshes().await;
    // Waiting for something not to happen: three of the refresher's intervals.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        refreshes().await,
        before,
        "no job ran after the server stopped"
    );
}

/// Key rotation re-seals revocations still waiting for a retry (before, they were skipped,
/// reported as done, and once the old key was dropped the retry could not open its tokens
/// and was dropped as impossible: the token stayed live at the provider).
#[tokio::test]
async fn key_rotation_keeps_pending_revocation_retries_usable() {
    use secrecy::ExposeSecret;
    use std::ops::ControlFlow;
    let app = spawn_app_with(|config| {
        provider(config, "github").revoke_url =
            Some("http://127.0.0.1:9/grant".parse().expect("url"));
        config.jobs.revocation_interval_seconds = 3600;
    })
    .await;
    app.signed_in("rhea").await;
    app.connect_github("rhea-gh").await;
    let token = app.sandbox.issued_access_tokens().pop().expect("token");
    let answer = app.post("/api/auth/github/disconnect").await;
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["revocation"], "revocation_failed");
    assert_eq!(app.count("revocation_retries").await, 1);

    let new = server::base::vault::Keyring::generate_hex()
        .expose_secret()
        .to_string();
    let both = format!("{new},{}", app.key);
    let keyring = server::base::vault::Keyring::from_hex(&both.into()).expect("keyring");
    assert_eq!(
        server::domain::rotation::remaining(&app.db, &keyring)
            .await
            .expect("db"),
        2,
        "the known-answer row and the retry"
    );
    let report =
        server::domain::rotation::rotate(&app.db, &keyring, &mut |_| ControlFlow::Continue(()))
            .await
            .expect("rotation");
    assert_eq!((report.rotated, report.unreadable), (2, 0));

    // The new key alone, the provider reachable again: the retry revokes the token.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "UPDATE revocation_retries SET next_attempt_at = '2000-01-01T00:00:00+00:00'",
        )
        .await
        .expect("make due");
    app.instance_with(move |c| {
        c.vault.key = Some(secrecy::SecretString::from(new));
        provider(c, "github").revoke_url = None;
        c.jobs.revocation_interval_seconds = 1;
    })
    .await
    .expect("the new key alone starts");
    let mut left = 1;
    for _ in 0..50 {
        left = app.count("revocation_retries").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the retry ran");
    assert!(
        app.audit_kinds()
            .await
            .iter()
            .any(|(kind, _, reason)| kind == "connection.revocation"
                && reason.as_deref() == Some("retry_succeeded")),
        "{:?}",
        app.audit_kinds().await
    );
    assert!(
        !app.sandbox.revoke_grant(&token),
        "the token was already revoked at GitHub"
    );
}

/// The sealed columns key rotation walks are every sealed column of the schema: a binary
/// column added later without being added to the rotation fails here.
#[tokio::test]
async fn key_rotation_knows_every_sealed_column_of_the_schema() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type = 'bytea'"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND lower(p.type) = 'blob'"
        }
    };
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .expect("schema");
    let mut found: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "t").expect("table"),
                r.try_get::<String>("", "c").expect("column"),
            )
        })
        .collect();
    found.sort();
    let mut known: Vec<(String, String)> = server::domain::rotation::SEALED_COLUMNS
        .iter()
        .map(|(t, c)| (t.to_string(), c.to_string()))
        .collect();
    known.sort();
    assert_eq!(found, known);
}

/// A wrong master key is refused before anything is written, migrations included (before,
/// a newer binary applied its migrations first and only then refused the key, leaving a
/// database an older binary would no longer open).
#[tokio::test]
async fn a_wrong_key_is_refused_before_any_migration_runs() {
    use migrations::MigratorTrait;
    use secrecy::ExposeSecret;
    let app = spawn_app().await;
    migrations::Migrator::down(&app.db, Some(1))
        .await
        .expect("one migration back");
    let pending = || async {
        server::base::store::pending_migrations(&app.db)
            .await
            .expect("migrations")
    };
    assert_eq!(pending().await, 1);
    let wrong = server::base::vault::Keyring::generate_hex()
        .expose_secret()
        .to_string();
    let refused = app
        .instance_with_key(&wrong)
        .await
        .expect_err("a wrong key is refused");
    assert!(refused.contains("known-answer"), "{refused}");
    assert_eq!(pending().await, 1, "nothing was migrated");
    let key = app.key.clone();
    app.instance_with_key(&key)
        .await
        .expect("the right key migrates and starts");
    assert_eq!(pending().await, 0);
}

/// A rolling restart loses nothing when the stopping instance first drains: for
/// `server.drain_seconds` after SIGTERM it still answers every request, but `/readyz` says 503
/// and every answer closes its connection, so a proxy moves to the other instances before the
/// listener closes (issue 18: nginx lost 74 of 600 requests without it).
#[tokio::test]
async fn a_stopping_instance_drains_before_it_stops_accepting() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = spawn_app_until(|c| c.server.drain_seconds = Some(2), async move {
        let _ = stopped.await;
    })
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_ne!(
        ready.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    let started = std::time::Instant::now();
    stop.send(()).expect("stop");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Draining: not ready, but still serving, and closing each connection after its answer.
    let ready = browser()
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()["connection"], "close");
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "draining");
    let health = browser()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "requests are still answered"
    );
    assert_eq!(health.headers()["connection"], "close");
    tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("stopped after the drain")
        .expect("task")
        .expect("clean exit");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "drained 2 s first"
    );
    assert!(
        browser().get(app.url("/healthz")).send().await.is_err(),
        "the listener is closed after the drain"
    );
}

/// Rolling upgrades (issue 18): the new release migrates while the previous one still runs.
/// A migration it does not know, that leaves the floor where it was (an expanded schema), is
/// served as it is by this release, its instances and its CLI; once a contract migration
/// raises the floor past it, this release refuses to start and names the release it needs
/// (before: any unknown migration stopped it, and any `atom` command migrated by the way).
#[tokio::test]
async fn an_older_release_serves_an_expanded_schema_and_refuses_a_contracted_one() {
    use sea_orm::ConnectionTrait;
    use server::base::store::{self, Schema};
    let app = spawn_app().await;
    assert_eq!(
        store::schema(&app.db).await.expect("schema"),
        Schema::Current
    );
    app.db
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m0999_newer_expand', 0)",
        )
        .await
        .expect("a newer release's migration");
    assert_eq!(
        store::schema(&app.db).await.expect("schema"),
        Schema::Ahead(vec!["m0999_newer_expand".into()])
    );
    let second = app.second_instance().await;
    let ready = browser()
        .get(format!("{second}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "this release still serves it"
    );
    store::open_current(app.db_url())
        .await
        .expect("and its CLI works on it");
    let listed = store::migration_status(&app.db).await.expect("status");
    assert!(listed.contains(&("m0999_newer_expand".to_string(), "newer")));

    app.db
        .execute_unprepared("UPDATE schema_floor SET oldest_reader = 'm0999_newer_expand'")
        .await
        .expect("a contract migration raises the floor");
    let refused = app.instance_with(|_| {}).await.expect_err("refused");
    assert!(
        refused.contains("needs a release that knows migration m0999_newer_expand"),
        "{refused}"
    );
    let cli = store::open_current(app.db_url())
        .await
        .err()
        .map(|e| e.to_string());
    assert!(cli.unwrap_or_default().contains("upgrade this binary"));
}

#[tokio::test]
async fn on_sqlite_the_log_reaches_the_database_file_without_a_request_paying_for_it() {
    // Issue 19: SQLite's own checkpoint (at 1,000 pages of log, by whichever commit crossed
    // them, two fsyncs) was the tail of one connect flow in twenty. The hub's job does it
    // now, within a quarter second, and the pool's connections only past 10,000 pages.
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let Some(file) = app.sqlite_file.clone() else {
        return; // PostgreSQL: no such log
    };
    let size = || std::fs::metadata(&file).expect("database file").len();
    let before = size();
    app.db
        .execute_unprepared("CREATE TABLE filler (x BLOB)")
        .await
        .expect("create");
    // 1 MB: about 250 pages of log, far under both thresholds a commit would act on.
    app.db
        .execute_unprepared("INSERT INTO filler VALUES (zeroblob(1000000))")
        .await
        .expect("insert");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while size() < before + 1_000_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        size() >= before + 1_000_000,
        "the megabyte is in the database file, not only in its log: {before} → {} bytes",
        size()
    );
}
