//! Hardening, round two (issue 15): what an attacker found after the first round, each with
//! the test that would have caught it.

use crate::helpers::*;
use reqwest::StatusCode;

/// Server functions answer what went wrong with its own status, never a 500 that anyone could
/// use to trip the 5xx alert: 401 signed out, 403 for a user asking an admin's, 413 for a body
/// too large; and their answers are never cached. The API's 401 says how to authenticate.
#[tokio::test]
async fn server_functions_and_the_api_answer_4xx_not_5xx() {
    let app = admin_app().await;
    let signed_out = reqwest::Client::new()
        .post(app.url("/rpc/list_connections"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("rpc");
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);

    let listed = app
        .client
        .post(app.url("/rpc/list_connections"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("rpc");
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(
        listed.headers()["cache-control"],
        "no-store",
        "never cached"
    );

    let huge = app
        .client
        .post(app.url("/rpc/admin/list_audit"))
        .header("origin", &app.base)
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .expect("rpc");
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let no_key = reqwest::Client::new()
        .get(app.url("/api/v1/users/someone/connections"))
        .send()
        .await
        .expect("api");
    assert_eq!(no_key.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_key.headers()["www-authenticate"],
        "Bearer",
        "RFC 6750 §3: a 401 names the scheme"
    );
}

/// An audit filter with a date past any calendar (`+262142-12-31` parses as a year) answered
/// with a panic; it is a bad date like any other.
#[tokio::test]
async fn an_absurd_audit_date_is_a_bad_date_not_a_panic() {
    let app = admin_app().await;
    for to in ["%2B262142-12-31", "-0001-01-01", "99999-01-01"] {
        let export = app.get(&format!("/admin/audit/export?to={to}")).await;
        assert_eq!(export.status(), StatusCode::BAD_REQUEST, "{to}");
    }
    let fine = app.get("/admin/audit/export?to=2026-11-29").await;
    assert_eq!(fine.status(), StatusCode::OK);
}

/// Pages may only submit forms to the hub itself and on to the providers' authorization
/// servers, where Connect leads (CSP `form-action` also governs the redirect a submission
/// follows): an injected form cannot post a user's input anywhere else.
#[tokio::test]
async fn pages_may_only_submit_forms_to_the_hub() {
    let app = spawn_app().await;
    let page = app.get("/signin").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("form-action "))
        .expect("form-action");
    let sandbox = app.sandbox_url();
    let sandbox = sandbox.trim_end_matches('/');
    let mut allowed: Vec<&str> = form_action.split(' ').collect();
    allowed.sort();
    assert_eq!(
        allowed,
        ["'self'", sandbox],
        "the hub, and the sandboxed providers' one origin"
    );
}

/// Another site could navigate a signed-in user into a connect or reconnect with
/// `GET /api/auth/{service}/authorize` (a provider that approves again without a click then
/// replaced her connection), and each visit spent her connect quota. Such a GET now gets a
/// page of the hub with a Continue button; it starts no flow and spends nothing. The hub's
/// own pages, the user's own typing and programs asking for JSON go straight on.
#[tokio::test]
async fn another_site_cannot_start_a_connect_by_navigation() {
    let app = spawn_app().await;
    app.signed_in("fay").await;
    let url = app.url("/api/auth/github/authorize?return_to=/connections%3Ffrom%3Dx");
    for _ in 0..40 {
        let forced = app
            .client
            .get(&url)
            .header("sec-fetch-site", "cross-site")
            .header("accept", "text/html")
            .send()
            .await
            .expect("get");
        assert_eq!(forced.status(), StatusCode::OK, "a page, not a redirect");
        let page = forced.text().await.expect("html");
        assert!(page.contains("Connect GitHub?"), "{page}");
        assert!(page.contains("method=\"post\""));
    }
    let foreign_referer = app
        .client
        .get(&url)
        .header("referer", "https://evil.example/page")
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(foreign_referer.status(), StatusCode::OK);
    assert_eq!(app.count("pending_flows").await, 0, "no flow was started");

    // Her own Connect still works (the 40 visits spent none of her 30 per minute), and the
    // page's Continue button is such a Connect.
    let continued = app
        .client
        .post(&url)
        .header("origin", &app.base)
        .header("accept", "text/html")
        .send()
        .await
        .expect("post");
    assert_eq!(continued.status(), StatusCode::SEE_OTHER);
    assert!(location(&continued).contains("/github/login/oauth/authorize"));
    let typed = app
        .client
        .get(&url)
        .header("sec-fetch-site", "none")
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(
        typed.status(),
        StatusCode::SEE_OTHER,
        "typed in the address bar"
    );
    let own_page = app
        .client
        .get(&url)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(own_page.status(), StatusCode::SEE_OTHER);
}

/// 5,000 cross-site POSTs wrote 5,000 audit rows before any limit applied: anyone could make
/// the database write as fast as they could send. Now the address's limit applies first
/// (429 past it, unaudited) and refusals are audited once per address and minute, the rest as
/// one count when the minute is over.
#[tokio::test]
async fn a_flood_of_refused_requests_writes_a_row_a_minute_not_a_row_a_request() {
    // The limit and the audit count per minute: a flood that straddles the turn of a minute
    // (a loaded machine) proves nothing either way, and is sent again on a fresh hub.
    let (app, before, statuses) = loop {
        let app = spawn_app_with(|c| c.limits.mutation_per_address = 50).await;
        let minute = app.clock.now().timestamp() / 60;
        let before = app.count("audit_events").await;
        let client = reqwest::Client::new();
        let mut statuses = std::collections::BTreeMap::new();
        for _ in 0..300 {
            let refused = client
                .post(app.url("/auth/signout"))
                .header("sec-fetch-site", "cross-site")
                .send()
                .await
                .expect("post");
            *statuses.entry(refused.status().as_u16()).or_insert(0) += 1;
        }
        if app.clock.now().timestamp() / 60 == minute {
            break (app, before, statuses);
        }
    };
    assert_eq!(statuses.get(&403), Some(&50), "{statuses:?}");
    assert_eq!(
        statuses.get(&429),
        Some(&250),
        "limited before anything else"
    );
    assert_eq!(
        app.count("audit_events").await,
        before + 1,
        "one row for the minute so far"
    );
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    // One recorder for the whole test process: at least these 300.
    let counted: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("atom_cross_origin_refused_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the counter");
    assert!(counted >= 300.0, "all counted: {counted}");
}

/// `[audit] retention_days`: older events leave the database, archived first as JSON lines
/// when `archive_dir` is set (the admin's choice), and the rest stay.
#[tokio::test]
async fn the_audit_log_keeps_events_as_long_as_configured() {
    let archive = tempfile::tempdir().expect("dir");
    let app = spawn_app().await;
    app.signed_in("ruth").await;
    let config = server::base::config::AuditConfig {
        retention_days: 30,
        archive_dir: Some(archive.path().to_path_buf()),
    };
    let now = chrono::Utc::now();
    let kept = server::domain::audit_log::expire(&app.db, &config, now)
        .await
        .expect("expire");
    assert_eq!(kept, 0, "nothing is 30 days old yet");
    let all = app.count("audit_events").await;
    assert!(all >= 2);
    let later = now + chrono::Duration::days(31);
    let gone = server::domain::audit_log::expire(&app.db, &config, later)
        .await
        .expect("expire");
    assert_eq!(gone as i64, all);
    assert_eq!(app.count("audit_events").await, 0);
    let file = archive
        .path()
        .join(format!("audit-{}.jsonl", now.format("%Y-%m")));
    let lines = std::fs::read_to_string(&file).expect("the archive");
    assert_eq!(lines.lines().count() as i64, all, "every event archived");
    assert!(lines
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(lines.contains("auth.sign_in"));
    let off = server::base::config::AuditConfig::default();
    assert_eq!(
        server::domain::audit_log::expire(&app.db, &off, later)
            .await
            .expect("expire"),
        0,
        "kept for ever by default"
    );
}

/// The audit log's sequence is 64-bit: a busy hub does not run out at 2^31 events.
#[tokio::test]
async fn the_audit_sequence_is_sixty_four_bits() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.db
        .execute_unprepared(
            "INSERT INTO audit_events (seq, at, kind, outcome) \
             VALUES (3000000000, '2026-11-29T00:00:00+00:00', 'auth.sign_in', 'success')",
        )
        .await
        .expect("a sequence number past 2^31");
    let last = server::base::store::audit::last_seq(&app.db)
        .await
        .expect("read");
    assert_eq!(last, 3_000_000_000);
}

/// Reconnecting replaced the tokens here but left the old grant live at the provider (0
/// revocations over 8 reconnects). The replaced tokens are now revoked once the new ones are
/// stored, where that cannot end the new grant too; and the page shows the new time.
#[tokio::test]
async fn reconnecting_revokes_the_grant_it_replaces() {
    let app = spawn_app().await;
    app.signed_in("rex").await;
    app.connect("dropbox", "sandbox-user").await;
    let first = app.sandbox.issued_access_tokens();
    let (_, before) = app.get_json("/api/auth/dropbox/status").await;
    app.clock.advance(std::time::Duration::from_secs(120));
    app.connect("dropbox", "sandbox-user").await;
    let new: Vec<String> = app
        .sandbox
        .issued_access_tokens()
        .into_iter()
        .filter(|t| !first.contains(t))
        .collect();
    assert_eq!(new.len(), 1);
    assert!(
        !app.sandbox.token_is_live(&first[0]),
        "the replaced grant is revoked"
    );
    assert!(app.sandbox.token_is_live(&new[0]), "the new one lives");
    let (_, after) = app.get_json("/api/auth/dropbox/status").await;
    assert_ne!(
        after["connected_at"], before["connected_at"],
        "the new connection time"
    );
    assert!(app.audit_kinds().await.iter().any(|(kind, _, reason)| {
        kind == "connection.revocation" && reason.as_deref() == Some("replaced_grant_revoked")
    }));

    // GitHub revokes the user's whole grant to the app: reconnecting the same account must
    // not revoke, or it would end the new tokens too.
    app.connect("github", "sandbox-user").await;
    app.connect("github", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("rex").await;
    let token = app.token_answer(&key, &user, "github").await;
    let token: serde_json::Value = token.json().await.expect("json");
    let live = token["access_token"].as_str().expect("token");
    assert!(
        app.sandbox.token_is_live(live),
        "the new GitHub token still works"
    );
}

/// The provider issued tokens and the hub could not store them (its database failed): they
/// are revoked at the provider, best effort, instead of staying live and unknown to anyone.
#[tokio::test]
async fn tokens_the_hub_could_not_store_are_revoked() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.signed_in("una").await;
    let authorize = app.start_connect_to(&app.client, "dropbox").await;
    let callback = app.consent(&authorize, "sandbox-user", "allow").await;
    let postgres = app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    app.db
        .execute_unprepared(if postgres {
            "DROP TABLE connections CASCADE"
        } else {
            "DROP TABLE connections"
        })
        .await
        .expect("drop");
    let answer = app.client.get(callback).send().await.expect("callback");
    assert_eq!(
        location(&answer),
        "/connections?error=internal&service=dropbox"
    );
    let issued = app.sandbox.issued_access_tokens();
    assert_eq!(issued.len(), 1, "the exchange happened");
    assert!(
        !app.sandbox.token_is_live(&issued[0]),
        "and what it issued was revoked"
    );
}

/// A database that is gone answers 503 with Retry-After on the API and the pages' calls, not
/// a 500 that pages someone for a bug (PostgreSQL: the database is dropped under the hub).
#[tokio::test]
async fn a_database_that_is_down_answers_503_with_retry_after() {
    use sea_orm::ConnectionTrait;
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // An SQLite file cannot go away under open connections.
    }
    let app = spawn_app().await;
    app.signed_in("dov").await;
    let key = app.api_key(&["tokens:read"]).await;
    let name = app.db_url().rsplit('/').next().expect("name").to_string();
    let admin = std::env::var("ATOM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let db = sea_orm::Database::connect(&admin).await.expect("admin");
    db.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop");
    let answer = reqwest::Client::new()
        .get(app.url("/api/v1/users/someone/connections"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    let status = answer.status();
    let retry = answer.headers().contains_key("retry-after");
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    assert!(retry);
    let (status, _) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// `/api/{service}/health` counted a day of audit rows on every call: anyone could make the
/// database scan as fast as they asked. The count is now kept for 30 s per provider (and
/// dropped at once when this instance records a flow or a refresh): within that time the
/// route does not read the audit log at all, shown here with the audit table gone.
#[tokio::test]
async fn health_answers_from_its_summary_without_scanning_the_audit_log() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.signed_in("hal").await;
    app.connect_github("hal-gh").await;
    let (status, first) = app.get_json("/api/github/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["flows_24h"]["succeeded"], 1, "{first}");
    app.db
        .execute_unprepared("ALTER TABLE audit_events RENAME TO audit_events_away")
        .await
        .expect("rename");
    for _ in 0..20 {
        let (status, again) = app.get_json("/api/github/health").await;
        assert_eq!(status, StatusCode::OK, "served from the summary");
        assert_eq!(again["flows_24h"], first["flows_24h"]);
    }
    app.clock.advance(std::time::Duration::from_secs(31));
    let (status, _) = app.get_json("/api/github/health").await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "counted again after 30 s"
    );
    app.db
        .execute_unprepared("ALTER TABLE audit_events_away RENAME TO audit_events")
        .await
        .expect("rename back");
}

/// Reads a live stream until it ends; true if it ended within `wait`.
async fn ends_within(stream: &mut reqwest::Response, wait: std::time::Duration) -> bool {
    tokio::time::timeout(wait, async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .is_ok()
}

/// One user opened 300 live streams and all were kept open (each holds a connection and a
/// task). Now at most `limits.streams_per_user` per user and `streams_per_address` per
/// address; a closed one frees its place.
#[tokio::test]
async fn live_streams_are_capped_per_user_and_per_address() {
    let app = spawn_app_with(|c| {
        c.limits.streams_per_user = 3;
        c.limits.streams_per_address = 5;
    })
    .await;
    app.signed_in("sue").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let stream = app.get("/api/events").await;
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
    let refused = app.get("/api/events").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    // Another user from the same address: the address has room for two more.
    let other = browser();
    app.add_user("tim").await;
    app.sign_in_as(&other, "tim").await;
    for expected in [
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let stream = other
            .get(app.url("/api/events"))
            .send()
            .await
            .expect("events");
        assert_eq!(stream.status(), expected);
        open.push(stream);
    }
    drop(open.remove(0));
    let mut freed = StatusCode::TOO_MANY_REQUESTS;
    for _ in 0..50 {
        freed = app.get("/api/events").await.status();
        if freed == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(freed, StatusCode::OK, "a closed stream frees its place");
}

/// A stream went on receiving events after its session ended. It now ends with it, on
/// every instance: sign-out here ends a stream open on another instance, and so does an
/// administrator disabling the user.
#[tokio::test]
async fn a_live_stream_ends_when_its_session_ends_on_any_instance() {
    let app = spawn_app().await;
    app.signed_in("val").await;
    let other = app.second_instance().await;
    let mut elsewhere = app
        .client
        .get(format!("{other}/api/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(elsewhere.status(), StatusCode::OK);
    let wait = std::time::Duration::from_secs(5);
    assert!(!ends_within(&mut elsewhere, std::time::Duration::from_millis(700)).await);
    let out = app.post("/auth/signout").await;
    assert!(out.status().is_redirection() || out.status().is_success());
    assert!(
        ends_within(&mut elsewhere, wait).await,
        "ended with its session"
    );

    // Disabled by an administrator: that user's streams end too.
    let bea = browser();
    app.add_user("bea").await;
    app.sign_in_as(&bea, "bea").await;
    let mut hers = bea
        .get(app.url("/api/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(hers.status(), StatusCode::OK);
    server::domain::users::disable(&app.db, "bea")
        .await
        .expect("disable");
    assert!(
        ends_within(&mut hers, wait).await,
        "ended when she was disabled"
    );
}

/// One wrong password every 4 s from a stranger kept the owner locked out of her own account
/// (and of changing her password). The per-account quota is now per account and address (an
/// IPv6 /64 counting as one); from addresses the account never signed in from, a shared
/// quota per account holds back guesses spread over many addresses, and the owner's usual
/// address is not in it. The refusal says how long to wait.
#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let app = spawn_app_with(|c| {
        c.server.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
        c.limits.sign_in_per_account_unknown_addresses = 12;
    })
    .await;
    app.add_user("kay").await;
    let from = |address: &'static str, password: &'static str| {
        app.client
            .post(app.url("/auth/signin"))
            .header("origin", &app.base)
            .header("x-forwarded-for", address)
            .form(&[("username", "kay"), ("password", password)])
            .send()
    };
    // Her usual address: she signed in from it before.
    let usual = from("198.51.100.7", PASSWORD).await.expect("post");
    assert_eq!(location(&usual), "/connections");
    app.post("/auth/signout").await;

    // A stranger: five guesses, then 429 with the wait in words.
    for _ in 0..5 {
        let guess = from("203.0.113.9", "wrong").await.expect("post");
        assert_eq!(location(&guess), "/signin?error=1");
    }
    let stopped = from("203.0.113.9", "wrong").await.expect("post");
    assert_eq!(stopped.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(stopped.text().await.expect("body").contains("Try again in"));
    // The same /64 is the same address.
    let neighbour = from("2001:db8:5:6::1", "wrong").await.expect("post");
    assert_eq!(location(&neighbour), "/signin?error=1");
    for _ in 0..4 {
        from("2001:db8:5:6::2", "wrong").await.expect("post");
    }
    let same_64 = from("2001:db8:5:6::3", "wrong").await.expect("post");
    assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS);
    // Many strangers' addresses share one quota for the account...
    for n in 0..10 {
        let spread = app
            .client
            .post(app.url("/auth/signin"))
            .header("origin", &app.base)
            .header("x-forwarded-for", format!("192.0.2.{n}"))
            .form(&[("username", "kay"), ("password", "wrong")])
            .send()
            .await
            .expect("post");
        let _ = spread.status();
    }
    let spread_out = from("198.18.0.1", "wrong").await.expect("post");
    assert_eq!(
        spread_out.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "held back"
    );
    // ...which is not hers: she still signs in from her usual address.
    let owner = from("198.51.100.7", PASSWORD).await.expect("post");
    assert_eq!(location(&owner), "/connections", "the owner gets in");
}

/// A provider's answer was read whole, however large (a 200 MB userinfo answer was). Every
/// provider answer is now read within a megabyte: a token endpoint that never stops sending
/// fails the connect at once, with nothing stored, instead of growing the hub's memory until
/// the client's timeout.
#[tokio::test]
async fn an_endless_provider_answer_is_cut_off_at_a_megabyte() {
    let app = spawn_app().await;
    app.signed_in("eve").await;
    app.sandbox.inject(
        "/github/login/oauth/access_token",
        server::sandbox::Fault::Endless,
    );
    let started = std::time::Instant::now();
    assert_eq!(
        app.connect_github("eve-gh").await,
        "/connections?error=exchange_failed&service=github"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "cut off, not read until the timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(app.count("connections").await, 0);
}

/// Production sends secrets only over TLS: a provider URL or a webhook that is not https
/// stops `serve` at start (it used to start, and only `atom check` said so).
#[test]
fn production_refuses_to_start_with_a_plain_http_provider_or_webhook() {
    let dir = tempfile::tempdir().expect("dir");
    let serve = |extra: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_atom"));
        command
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("ATOM_LOG", "error")
            .env("ATOM_MODE", "production")
            .env("ATOM_SERVER__PUBLIC_URL", "https://hub.example.com")
            .env("ATOM_SERVER__LISTEN", "127.0.0.1:0")
            .env("ATOM_VAULT__KEY", "44".repeat(32))
            .env(
                "ATOM_DATABASE__URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display()),
            );
        for (k, v) in extra {
            command.env(k, v);
        }
        let out = command.output().expect("atom runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, said) = serve(&[
        ("ATOM_PROVIDERS__CORP__KIND", "oidc"),
        ("ATOM_PROVIDERS__CORP__ISSUER", "http://id.example.com"),
        ("ATOM_PROVIDERS__CORP__CLIENT_ID", "x"),
        ("ATOM_PROVIDERS__CORP__CLIENT_SECRET", "y"),
        (
            "ATOM_WEBHOOKS__PLATFORM__URL",
            "http://platform.internal/hooks",
        ),
        (
            "ATOM_WEBHOOKS__PLATFORM__SECRET",
            "ssssssssssssssssssssssssssssssssssssssss",
        ),
    ]);
    assert!(!ok, "refused to start");
    assert!(
        said.contains("providers.corp.issuer must be https"),
        "{said}"
    );
    assert!(
        said.contains("webhooks.platform.url must be https"),
        "{said}"
    );
}

/// An OpenID discovery document that points an endpoint at another host would send the
/// client secret, the code and the PKCE verifier there: it is refused unless that host is
/// listed in the provider's `endpoint_hosts`.
#[tokio::test]
async fn discovery_may_not_point_endpoints_at_another_host() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": "http://127.0.0.2:9/token",
        "jwks_uri": format!("{issuer}/jwks"),
    });
    let router = axum::Router::new().route(
        "/.well-known/openid-configuration",
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let configure = |hosts: Option<Vec<String>>| {
        let issuer = issuer.clone();
        move |c: &mut server::base::config::Config| {
            let corp = provider(c, "corp");
            corp.kind = Some("oidc".into());
            corp.issuer = Some(issuer.parse().expect("url"));
            corp.client_id = Some("corp-client".into());
            corp.client_secret = Some("corp-secret".to_string().into());
            corp.endpoint_hosts = hosts;
        }
    };
    let app = spawn_app_with(configure(None)).await;
    app.signed_in("ola").await;
    let refused = app
        .client
        .get(app.url("/api/auth/corp/authorize"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        refused.status(),
        StatusCode::BAD_GATEWAY,
        "no flow towards another host"
    );
    assert_eq!(app.count("pending_flows").await, 0);

    let allowed = spawn_app_with(configure(Some(vec!["127.0.0.2".into()]))).await;
    allowed.signed_in("ola").await;
    let url = allowed.start_connect_to(&allowed.client, "corp").await;
    assert!(url.as_str().starts_with(&issuer), "{url}");
}

/// Two instances on one database whose API keys may make `per_minute` calls, started well
/// inside a minute (the counts are per minute, and a test needs `margin` seconds of it); a
/// call of the key on the instance at a base URL answers its status.
struct TwoLimited {
    app: TestApp,
    second: String,
    user: String,
    key: String,
}

impl TwoLimited {
    async fn start(per_minute: u32, margin: i64) -> Self {
        let app = spawn_app_with(|c| c.limits.api_per_key = per_minute).await;
        app.add_user("sal").await;
        let user = app.user_id("sal").await;
        let key = app.api_key(&["tokens:read"]).await;
        let second = app
            .instance_with(|c| c.limits.api_per_key = per_minute)
            .await
            .expect("second");
        let second_of_minute = chrono::Utc::now().timestamp() % 60;
        if second_of_minute > 60 - margin {
            tokio::time::sleep(std::time::Duration::from_secs(
                (61 - second_of_minute) as u64,
            ))
            .await;
        }
        Self {
            app,
            second,
            user,
            key,
        }
    }

    async fn call(&self, base: &str) -> StatusCode {
        reqwest::Client::new()
            .get(format!("{base}/api/v1/users/{}/connections", self.user))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("api")
            .status()
    }
}

/// Each instance counted alone, so N instances allowed N times every limit. On PostgreSQL
/// (where several run) the counts are in the database: two hubs share one API key's quota.
#[tokio::test]
async fn two_instances_share_one_rate_limit() {
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // One SQLite file, one instance: its counts stay in memory.
    }
    let two = TwoLimited::start(5, 10).await;
    let mut statuses = Vec::new();
    for n in 0..8 {
        let base = if n % 2 == 0 {
            &two.app.base
        } else {
            &two.second
        };
        statuses.push(two.call(base).await.as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429, 429],
        "five between them, not five each"
    );
}

/// Under half its limit an instance counts a key's calls in memory and adds them to the
/// shared count every quarter second (no write per hand-out); past half, every call is counted
/// in the database at once. Calls made on one instance still count on the other.
#[tokio::test]
async fn calls_counted_in_memory_reach_the_shared_count_within_a_second() {
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // One SQLite file, one instance: its counts stay in memory.
    }
    let two = TwoLimited::start(100, 15).await;
    for _ in 0..40 {
        assert_eq!(two.call(&two.app.base).await, StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut passed = 0;
    for _ in 0..80 {
        match two.call(&two.second).await {
            StatusCode::OK => passed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(passed, 60, "100 a minute between the two instances");
}

/// Sealing wrote one UPDATE per event, each its own commit: at thousands of audited token
/// hand-outs a second it fell behind for good, and working off its backlog took a seventh of
/// a core from a hub nobody used (issue 19's benchmark). A batch is now one statement.
#[tokio::test]
async fn the_audit_chain_seals_a_burst_of_events_in_a_few_statements() {
    use sea_orm::TransactionTrait;
    use server::base::audit::{Event, Kind, Origin};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = spawn_app().await;
    let origin = Origin::internal(&server::base::clock::Clock::system());
    let txn = app.db.begin().await.expect("begin");
    for _ in 0..1_200 {
        server::base::store::audit::append(&txn, Event::new(Kind::TokenIssued, &origin))
            .await
            .expect("append");
    }
    txn.commit().await.expect("commit");
    let mut db = sea_orm::Database::connect(app.db_url())
        .await
        .expect("connect");
    let statements = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = statements.clone();
    db.set_metric_callback(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let later = chrono::Utc::now() + chrono::Duration::seconds(60);
    let sealed = server::domain::audit_chain::seal(&db, later)
        .await
        .expect("seal");
    assert!(sealed >= 1_200, "{sealed}");
    let statements = statements.load(Ordering::SeqCst);
    // Batches of 512 in runs of power-of-two lengths, and the reads between them: the old
    // code made one statement per event (1,200).
    assert!(
        statements <= 16,
        "{statements} statements to seal {sealed} events"
    );
    let verified = server::domain::audit_chain::verify(&app.db)
        .await
        .expect("verify");
    assert_eq!(verified.broken_at, None);
    assert_eq!(verified.unsealed, 0);
    assert!(verified.checked >= 1_200, "{}", verified.checked);
}

/// Each pooled connection keeps its last 100 prepared statements, keyed by their text. The
/// audit writer's insert and the sealer's update were written for whatever number of events
/// a batch had, so every new length was a new statement, kept: SQLite's prepared statements
/// grew a soak's hub by about 1.5 MiB a minute (issue 19). Batches of any length now use a few
/// statement texts, and every event is still written and sealed.
#[tokio::test]
async fn audit_batches_of_any_length_use_a_few_statement_texts() {
    use server::base::audit::{Event, Kind, Origin};
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};
    let app = spawn_app().await;
    let origin = Origin::internal(&server::base::clock::Clock::system());
    let mut db = sea_orm::Database::connect(app.db_url())
        .await
        .expect("connect");
    let texts = Arc::new(Mutex::new(BTreeSet::new()));
    let seen = texts.clone();
    db.set_metric_callback(move |info| {
        seen.lock()
            .expect("lock")
            .insert(info.statement.sql.clone());
    });
    let writer = server::base::store::audit::Writer::new(db.clone());
    let later = chrono::Utc::now() + chrono::Duration::seconds(60);
    let mut sealed = 0;
    for n in 1..=24 {
        let appends =
            (0..n).map(|_| writer.append(Event::new(Kind::TokenIssued, &origin).reason("n")));
        for appended in futures::future::join_all(appends).await {
            appended.expect("append");
        }
        sealed += server::domain::audit_chain::seal(&db, later)
            .await
            .expect("seal");
    }
    assert!(sealed >= 300, "{sealed} sealed");
    let texts = texts.lock().expect("lock");
    let inserts = texts.iter().filter(|t| t.starts_with("INSERT")).count();
    let seals = texts.iter().filter(|t| t.starts_with("WITH links")).count();
    // Lengths 1 to 24: shapes 1, 2, 4, 8 and 16 (the old code made up to 24 of each).
    assert!(inserts <= 5, "{inserts} insert texts");
    assert!(seals <= 5, "{seals} sealing texts");
    let verified = server::domain::audit_chain::verify(&app.db)
        .await
        .expect("verify");
    assert_eq!(verified.broken_at, None);
    assert_eq!(verified.unsealed, 0);
    let written = verified.checked;
    assert!(written >= 300, "{written} events in the log");
}

/// The audit log is tamper-evident: sealed events chain by hash, and `atom audit verify`
/// names the first event whose link no longer holds after one is edited in the database.
#[tokio::test]
async fn the_audit_chain_names_the_first_tampered_event() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.signed_in("ivy").await;
    app.connect_github("ivy-gh").await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(60);
    let sealed = server::domain::audit_chain::seal(&app.db, later)
        .await
        .expect("seal");
    assert!(sealed >= 4, "{sealed}");
    let verify = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_atom"))
            .args(["audit", "verify"])
            .env_clear()
            .env("ATOM_LOG", "error")
            .env("ATOM_DATABASE__URL", app.db_url())
            .output()
            .expect("atom runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, said) = verify();
    assert!(ok && said.contains("the audit chain holds"), "{said}");
    let events = server::base::store::audit::after(&app.db, 0, 100)
        .await
        .expect("events");
    let target = events[2].seq;
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_events SET ip = '10.6.6.6' WHERE seq = {target}"
        ))
        .await
        .expect("tamper");
    let (ok, said) = verify();
    assert!(!ok, "a broken chain fails");
    assert!(
        said.contains(&format!("broken at event {target}")),
        "{said}"
    );
}

/// Found by schemathesis against `/api/v1/openapi.json`: the token route's `token` parameter
/// was documented as any text (the route accepts `user` or `bot`), and a query naming it
/// twice got axum's plain-text 400 instead of the API's JSON error. Both now match the schema.
#[tokio::test]
async fn the_token_route_answers_as_its_schema_says() {
    let app = spawn_app().await;
    app.add_user("zed").await;
    let user = app.user_id("zed").await;
    let key = app.api_key(&["tokens:read"]).await;
    let twice = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/users/{user}/connections/github/token?token=user&token=bot"
        )))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    assert!(twice.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("application/json"));
    let body: serde_json::Value = twice.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    let (_, schema) = app.get_json("/api/v1/openapi.json").await;
    let parameters = &schema["paths"]["/api/v1/users/{user_id}/connections/{service}/token"]["get"]
        ["parameters"];
    let token = parameters
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "token")
        .expect("the token parameter");
    assert_eq!(token["schema"]["enum"], serde_json::json!(["user", "bot"]));
}
