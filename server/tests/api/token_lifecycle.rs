//! What a provider says about a token's lifetime, however it says it: nothing it sends can
//! panic the callback or the refresher, and nonsense gets the documented lifetime (an hour for
//! a refreshable token, so it is refreshed soon; docs/token-lifecycle.md).
//!
//! RFC 6749 §5.1: `expires_in` is "the lifetime in seconds of the access token" (RECOMMENDED,
//! so it may be missing); providers send it as an integer, a string or a float.

use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use server::sandbox::Fault;

const MICROSOFT_TOKEN: &str = "/microsoft/common/oauth2/v2.0/token";

async fn stored_expiry(app: &TestApp) -> DateTime<Utc> {
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    status["expires_at"]
        .as_str()
        .expect("an expiry")
        .parse()
        .expect("a time")
}

fn near(at: DateTime<Utc>, seconds: i64) -> bool {
    let expected = Utc::now() + Duration::seconds(seconds);
    (at - expected).num_seconds().abs() <= 30
}

#[tokio::test]
async fn any_expires_in_a_provider_sends_connects_with_a_sane_expiry() {
    let app = spawn_app().await;
    app.signed_in("lena").await;
    for (sent, lifetime) in [
        ("3600", 3600),
        ("\"7200\"", 7200),
        ("3600.5", 3601),
        ("1e3", 1000),
        // Nonsense: a refreshable token gets an hour.
        ("0", 3600),
        ("-1", 3600),
        ("null", 3600),
        ("\"soon\"", 3600),
        ("1000000000000", 3600),
        ("8300000000000", 3600),
    ] {
        app.sandbox.inject(MICROSOFT_TOKEN, Fault::ExpiresIn(sent));
        let target = app.connect("outlook", "sandbox-user").await;
        assert!(target.contains("connected=outlook"), "{sent}: {target}");
        let at = stored_expiry(&app).await;
        assert!(near(at, lifetime), "{sent}: expires at {at}");
    }
}

#[tokio::test]
async fn a_refresh_answer_with_an_absurd_expires_in_keeps_the_refresher_running() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 1).await;
    app.signed_in("mira").await;
    app.connect("outlook", "sandbox-user").await;
    // Due for the refresher; the provider's answer states an impossible lifetime.
    app.set_expiry(Utc::now() + Duration::minutes(3)).await;
    app.sandbox
        .inject(MICROSOFT_TOKEN, Fault::ExpiresIn("8300000000000"));
    let mut refreshed = 0;
    for _ in 0..50 {
        refreshed = app
            .audit_kinds()
            .await
            .iter()
            .filter(|(k, o, _)| k == "connection.refreshed" && o == "success")
            .count();
        if refreshed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refreshed, 1, "refreshed, not panicked");
    assert!(
        near(stored_expiry(&app).await, 3600),
        "an hour, not year 263000"
    );
    // The refresher still runs: the next due token is refreshed too.
    app.set_expiry(Utc::now() + Duration::minutes(3)).await;
    let mut again = false;
    for _ in 0..50 {
        let count = app
            .audit_kinds()
            .await
            .iter()
            .filter(|(k, o, _)| k == "connection.refreshed" && o == "success")
            .count();
        if count > 1 {
            again = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(again, "the refresher kept running");
}

/// Microsoft identity platform: `interaction_required` (AADSTS50076, multi-factor
/// authentication), `consent_required` (AADSTS65001) and `login_required` are errors that
/// only the user can clear (MSAL: InteractionRequiredAuthErrorCodes,
/// https://learn.microsoft.com/javascript/api/@azure/msal-node/interactionrequiredautherrorcodes).
/// Retrying would only repeat them: the connection needs its user, at once.
#[tokio::test]
async fn a_refresh_that_needs_the_user_asks_for_a_reconnect_instead_of_retrying() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("ines").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("ines").await;
    for code in ["interaction_required", "consent_required", "login_required"] {
        app.set_expiry(Utc::now() - Duration::minutes(5)).await;
        app.sandbox.inject(MICROSOFT_TOKEN, Fault::Refuse(code));
        let answer = app.token_answer(&key, &user, "outlook").await;
        assert_eq!(answer.status(), reqwest::StatusCode::CONFLICT, "{code}");
        let body: serde_json::Value = answer.json().await.expect("json");
        assert_eq!(body["error"], "needs_reauth", "{code}");
        let (_, status) = app.get_json("/api/auth/outlook/status").await;
        assert_eq!(status["status"], "needs_reauth", "{code}");
        // Reconnect for the next code.
        app.connect("outlook", "sandbox-user").await;
    }
}

/// A user an administrator disabled gets nothing more through the hub: no token for a backend
/// (403 `user_disabled`), no connect link, and the refresher leaves their connections alone.
#[tokio::test]
async fn a_disabled_user_gets_no_token_no_link_and_no_refresh() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 1).await;
    app.signed_in("dora").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read", "connections:write"]).await;
    let user = app.user_id("dora").await;
    server::domain::users::disable(&app.db, "dora")
        .await
        .expect("disable");
    let api = reqwest::Client::new();
    let token = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(token.status(), reqwest::StatusCode::FORBIDDEN);
    let body: serde_json::Value = token.json().await.expect("json");
    assert_eq!(body["error"], "user_disabled");
    let link = api
        .post(app.url("/api/v1/connect-links"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "user_id": user, "service": "outlook" }))
        .send()
        .await
        .expect("link");
    assert_eq!(link.status(), reqwest::StatusCode::FORBIDDEN);
    // Due for the refresher, which runs every second: nothing happens.
    app.set_expiry(Utc::now() + Duration::minutes(3)).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let refreshed = app
        .audit_kinds()
        .await
        .iter()
        .any(|(kind, _, _)| kind == "connection.refreshed");
    assert!(
        !refreshed,
        "the refresher left a disabled user's connection alone"
    );
    // Listing still works, for the platform to see what the user had.
    let list = api
        .get(app.url(&format!("/api/v1/users/{user}/connections")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("list");
    assert_eq!(list.status(), reqwest::StatusCode::OK);
}

/// A refresh that failed and changed nothing (the provider was down: the tokens are kept) is
/// audited, but it is no `connection.refreshed` webhook: that event means new tokens.
#[tokio::test]
async fn a_failed_refresh_sends_no_refreshed_webhook() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("wes").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("wes").await;
    let before = app.count("webhook_outbox").await;
    app.set_expiry(Utc::now() - Duration::minutes(5)).await;
    app.sandbox.inject(MICROSOFT_TOKEN, Fault::ServerError);
    let answer = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(answer.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        app.audit_kinds()
            .await
            .iter()
            .any(|(kind, outcome, _)| kind == "connection.refreshed" && outcome == "failure"),
        "audited"
    );
    assert_eq!(app.count("webhook_outbox").await, before, "no webhook");
}

/// A grant the provider refused is dead: needs_reauth also drops the refresh token from the
/// stored tokens, so nothing can spend it again.
#[tokio::test]
async fn needs_reauth_drops_the_dead_refresh_token() {
    use sea_orm::EntityTrait;
    use secrecy::ExposeSecret;
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("nina").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("nina").await;
    let stored = || async {
        let row = server::base::store::connections::Entity::find()
            .one(&app.db)
            .await
            .expect("db")
            .expect("row");
        let ring =
            server::base::vault::Keyring::from_hex(&secrecy::SecretString::from(app.key.clone()))
                .expect("key");
        let binding = server::domain::connections::token_binding(&row.id, &row.user_id, "outlook");
        let plain = ring.open(&row.tokens_sealed, &binding).expect("opens");
        serde_json::from_slice::<serde_json::Value>(plain.expose_secret()).expect("json")
    };
    assert!(
        stored().await["refresh_token"].is_string(),
        "a refresh token first"
    );
    app.set_expiry(Utc::now() - Duration::minutes(5)).await;
    app.sandbox
        .inject(MICROSOFT_TOKEN, Fault::Refuse("invalid_grant"));
    let answer = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(answer.status(), reqwest::StatusCode::CONFLICT);
    let tokens = stored().await;
    assert!(
        tokens["refresh_token"].is_null(),
        "dropped: {}",
        tokens["refresh_token"]
    );
    assert!(tokens["access_token"].is_string(), "the rest is kept");
}

/// A provider taken out of the configuration leaves its connections behind: they can still be
/// disconnected, by the user and through the API (deleted here; the provider, no longer set
/// up, is not asked to revoke, and the answer says so).
#[tokio::test]
async fn connections_of_a_provider_removed_from_the_configuration_can_still_be_deleted() {
    let app = spawn_app().await;
    app.signed_in("rhea").await;
    app.connect("outlook", "sandbox-user").await;
    app.connect_github("rhea-gh").await;
    let key = app.api_key(&["connections:write"]).await;
    let user = app.user_id("rhea").await;
    // The same database, served by a hub whose configuration no longer has the two.
    let base = app
        .instance_with(|config| {
            provider(config, "outlook").enabled = Some(false);
            provider(config, "github").enabled = Some(false);
        })
        .await
        .expect("a second hub");
    let api = reqwest::Client::new();
    let deleted = api
        .delete(format!("{base}/api/v1/users/{user}/connections/outlook"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = deleted.json().await.expect("json");
    assert_eq!(body["revocation"], "provider_not_configured");
    // The user, signed in (sessions are in the shared database), disconnects the other.
    let disconnected = app
        .client
        .post(format!("{base}/api/auth/github/disconnect"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .send()
        .await
        .expect("disconnect");
    assert_eq!(disconnected.status(), reqwest::StatusCode::OK);
    assert_eq!(app.count("connections").await, 0, "both gone");
    // A service nobody is connected to still answers as before.
    let never = api
        .delete(format!("{base}/api/v1/users/{user}/connections/outlook"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("delete");
    assert_eq!(never.status(), reqwest::StatusCode::NOT_FOUND);
}

/// While a provider fails for a connection (5xx, 429, no answer), nobody asks it again before
/// the backoff ends: the token API answers 503 with Retry-After instead of calling it (before,
/// every API call made another refresh call). The backoff is in the database, so every
/// instance obeys it.
#[tokio::test]
async fn the_token_api_waits_out_a_failing_providers_backoff() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("bo").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("bo").await;
    app.set_expiry(Utc::now() - Duration::minutes(5)).await;
    let issued = app.sandbox.issued_access_tokens().len();
    // One failure; the provider would answer the next call.
    app.sandbox.inject(MICROSOFT_TOKEN, Fault::ServerError);
    let first = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(first.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let wait = retry_after(&first);
    assert!((10..=30).contains(&wait), "Retry-After {wait}");
    // Twenty calls at once and one by one: none reaches the provider.
    for _ in 0..20 {
        let again = app.token_answer(&key, &user, "outlook").await;
        assert_eq!(again.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(again.headers().contains_key("retry-after"));
    }
    let second = app.instance_with(|_| {}).await.expect("second instance");
    let there = reqwest::Client::new()
        .get(format!(
            "{second}/api/v1/users/{user}/connections/outlook/token"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(
        there.status(),
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "the other instance obeys it too"
    );
    assert_eq!(
        app.sandbox.issued_access_tokens().len(),
        issued,
        "the provider was not called again"
    );
    // Once the backoff has passed, the next call refreshes.
    app.clock.advance(std::time::Duration::from_secs(wait + 1));
    let later = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(later.status(), reqwest::StatusCode::OK);
    assert_eq!(app.sandbox.issued_access_tokens().len(), issued + 1);
}

/// The refresher takes a batch of the connections expiring soonest. Connections backing off
/// after a failure, and connections of a provider removed from the configuration, are not in
/// it, so however many there are they never hold back the ones it can refresh.
#[tokio::test]
async fn the_refreshers_batch_skips_backing_off_and_removed_providers() {
    use server::base::store::connections;
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    for (user, service) in [("al", "outlook"), ("bea", "dropbox"), ("cy", "gmail")] {
        app.signed_in(user).await;
        app.connect(service, "sandbox-user").await;
    }
    let now = Utc::now();
    app.set_expiry(now - Duration::minutes(5)).await;
    let all = connections::expiring_before(
        &app.db,
        now,
        now,
        &["outlook".into(), "gmail".into(), "dropbox".into()],
        10,
    )
    .await
    .expect("query");
    assert_eq!(all.len(), 3);
    // Outlook backs off; Dropbox is removed from the configuration.
    let outlook = all
        .iter()
        .find(|r| r.provider == "outlook")
        .expect("outlook");
    connections::back_off(&app.db, outlook, now + Duration::minutes(10))
        .await
        .expect("back off");
    let batch =
        connections::expiring_before(&app.db, now, now, &["outlook".into(), "gmail".into()], 1)
            .await
            .expect("query");
    assert_eq!(
        batch
            .iter()
            .map(|r| r.provider.as_str())
            .collect::<Vec<_>>(),
        ["gmail"],
        "a batch of one still holds the one that can be refreshed"
    );
}

/// Liveness goes through never-expiring tokens fairly: never-checked first, then the longest
/// unchecked, each at most once per `jobs.liveness_period_seconds`, and the age of the oldest
/// check is a metric (before, the same 200 least recently changed rows were checked forever).
#[tokio::test]
async fn liveness_checks_every_never_expiring_token_in_turn() {
    use server::base::store::connections;
    let app = spawn_app_with(|c| {
        c.jobs.liveness_interval_seconds = 1;
        c.jobs.liveness_period_seconds = 3600;
    })
    .await;
    app.signed_in("gus").await;
    app.connect("slack", "sandbox-user").await;
    app.connect("github", "sandbox-user").await;
    let github_token = app
        .sandbox
        .issued_access_tokens()
        .into_iter()
        .find(|t| t.starts_with("gho_"))
        .expect("GitHub's token");
    let github = ["github".to_string(), "slack".to_string()];
    // The first run checks both (never checked).
    let mut unchecked = usize::MAX;
    for _ in 0..50 {
        let due = connections::never_expiring(&app.db, Utc::now(), &github, 10).await;
        unchecked = due
            .expect("query")
            .iter()
            .filter(|r| r.checked_at.is_none())
            .count();
        if unchecked == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(unchecked, 0, "both were checked");
    // Within the period nothing is due; a revocation now is noticed once it has passed.
    let due =
        connections::never_expiring(&app.db, app.clock.now() - Duration::hours(1), &github, 10)
            .await
            .expect("query");
    assert!(due.is_empty(), "checked once per period");
    assert!(app.sandbox.revoke_grant(&github_token), "revoked at GitHub");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(
        status["status"], "connected",
        "not checked again within the period"
    );
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("atom_liveness_oldest_check_seconds"),
        "the oldest check's age is exported"
    );
    app.clock.advance(std::time::Duration::from_secs(3601));
    assert_eq!(
        app.wait_for_status("github", "needs_reauth").await,
        "needs_reauth"
    );
}

/// A provider that rate limits the refresh (HTTP 429 with Retry-After, RFC 6585 §4; Slack's
/// `ratelimited`) is not asked again before the time it named, even when that is longer than
/// the hub's own backoff.
#[tokio::test]
async fn a_rate_limited_refresh_waits_as_long_as_the_provider_asked() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("ray").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let user = app.user_id("ray").await;
    app.set_expiry(Utc::now() - Duration::minutes(5)).await;
    app.sandbox.inject(MICROSOFT_TOKEN, Fault::RateLimited(600));
    let first = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(first.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let wait = retry_after(&first);
    assert!((600..=601).contains(&wait), "Retry-After {wait}");
    app.clock.advance(std::time::Duration::from_secs(120));
    let early = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(
        early.status(),
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "past the hub's own backoff, not past the provider's"
    );
    app.clock.advance(std::time::Duration::from_secs(500));
    let later = app.token_answer(&key, &user, "outlook").await;
    assert_eq!(later.status(), reqwest::StatusCode::OK);
}
