//! The dashboards' server side: flow analytics recorded step by step, the admin overview's
//! numbers, providers turned off and on, and who hears what over the live stream.

use crate::helpers::*;
use reqwest::header::{ACCEPT, ORIGIN};
use reqwest::{Client, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::base::store::{flow_stats, flows};
use std::time::Duration;

/// A server function called as the page calls it: a same-origin POST with a JSON body.
async fn rpc(app: &TestApp, client: &Client, path: &str, body: &str) -> reqwest::Response {
    client
        .post(app.url(path))
        .header(ORIGIN, &app.base)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("rpc")
}

async fn overview(app: &TestApp, window: &str) -> serde_json::Value {
    let body = format!(r#"{{"window":"{window}"}}"#);
    let response = rpc(app, &app.client, "/rpc/admin/overview", &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// A user's whole GitHub flow with their own browser; returns the hub's final redirect.
async fn connect_as(app: &TestApp, client: &Client, login: &str) -> String {
    let authorize = app.start_connect(client).await;
    let callback = app.consent(&authorize, login, "allow").await;
    location(&client.get(callback).send().await.expect("callback"))
}

async fn cards(app: &TestApp, client: &Client) -> Vec<serde_json::Value> {
    let response = rpc(app, client, "/rpc/list_connections", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: serde_json::Value = response.json().await.expect("json");
    view["cards"].as_array().expect("cards").clone()
}

/// Sets a time of the flow that never came back (its pending flow), as if time had passed.
async fn set_unfinished(app: &TestApp, column: flows::Column, at: chrono::DateTime<chrono::Utc>) {
    flows::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .filter(flows::Column::ConsumedAt.is_null())
        .exec(&app.db)
        .await
        .expect("update the unfinished flow");
}

#[tokio::test]
async fn every_flow_is_recorded_step_by_step_and_the_overview_counts_it() {
    let app = admin_app_with(|_| {}).await;
    assert_eq!(
        app.connect_github("ada-gh").await,
        "/connections?connected=github"
    );
    let denied = app.start_connect(&app.client).await;
    let callback = app.consent(&denied, "ada-gh", "deny").await;
    app.client.get(callback).send().await.expect("callback");
    app.start_connect(&app.client).await; // never comes back

    // A row per flow that ended, written once; the unfinished one is counted from its pending
    // flow until it is cleared.
    let rows = flow_stats::Entity::find().all(&app.db).await.expect("rows");
    assert_eq!(rows.len(), 2, "one row per flow that ended");
    let done = rows
        .iter()
        .find(|r| r.outcome == "completed")
        .expect("completed");
    let (returned, exchanged, finished) = (
        done.returned_at.expect("returned"),
        done.exchanged_at.expect("exchanged"),
        done.finished_at.expect("finished"),
    );
    assert!(done.started_at <= returned && returned <= exchanged && exchanged <= finished);
    let failed = rows.iter().find(|r| r.outcome == "failed").expect("failed");
    assert_eq!(failed.reason.as_deref(), Some("access_denied"));
    assert!(failed.returned_at.is_some() && failed.exchanged_at.is_none());

    // The unfinished flow is in progress, then abandoned once its ten minutes are over.
    let totals = &overview(&app, "hour").await["totals"];
    assert_eq!(
        (
            &totals["started"],
            &totals["completed"],
            &totals["failed"],
            &totals["in_progress"]
        ),
        (&3.into(), &1.into(), &1.into(), &1.into())
    );
    let ago = |d: chrono::Duration| chrono::Utc::now() - d;
    set_unfinished(
        &app,
        flows::Column::CreatedAt,
        ago(chrono::Duration::minutes(20)),
    )
    .await;
    let view = overview(&app, "hour").await;
    assert_eq!(view["totals"]["abandoned"], 1);
    assert_eq!(view["totals"]["in_progress"], 0);
    // Its pending flow cleared, the abandoned flow is in the analytics for good.
    set_unfinished(
        &app,
        flows::Column::ExpiresAt,
        ago(chrono::Duration::hours(2)),
    )
    .await;
    let cleared = flows::delete_expired(&app.db, app.clock.now()).await;
    assert_eq!(cleared.expect("cleared"), 1);
    assert_eq!(
        app.count("pending_flows").await,
        2,
        "the consumed ones stay"
    );
    let rows = flow_stats::Entity::find().all(&app.db).await.expect("rows");
    let pending: Vec<_> = rows.iter().filter(|r| r.outcome == "pending").collect();
    assert_eq!(pending.len(), 1, "{rows:?}");
    let view = overview(&app, "hour").await;
    assert_eq!(
        (&view["totals"]["started"], &view["totals"]["abandoned"]),
        (&3.into(), &1.into())
    );
    assert_eq!(view["flows"].as_array().expect("buckets").len(), 12);
    let column_sum: u64 = view["flows"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["counts"]["started"].as_u64().expect("n"))
        .sum();
    assert_eq!(column_sum, 3, "every flow is in one column");
    assert_eq!(
        view["failures"],
        serde_json::json!([{ "code": "access_denied", "count": 1 }])
    );
    let github = view["connections"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["service"] == "github")
        .expect("github");
    assert_eq!(
        (&github["connected"], &github["needs_reauth"]),
        (&1.into(), &0.into())
    );
    assert_eq!(view["steps"][0]["samples"], 2, "two flows came back");
    assert_eq!(view["steps"][3]["samples"], 1, "one flow finished");
    assert!(view["steps"][3]["p95_ms"].as_u64().expect("ms") < 10_000);
    let recent = view["recent"].as_array().expect("recent");
    let newest: Vec<&str> = recent
        .iter()
        .take(2)
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        newest,
        ["connection.connect_started", "connection.connect_failed"],
        "newest first"
    );
    let text = view.to_string();
    for token in app.sandbox.issued_access_tokens() {
        assert!(!text.contains(&token), "no token in the overview");
    }
    assert_eq!(
        overview(&app, "week").await["flows"]
            .as_array()
            .expect("b")
            .len(),
        7
    );

    // An access token past its expiry (not refreshed yet) counts as expired, not connected.
    app.set_expiry(chrono::Utc::now() - chrono::Duration::hours(1))
        .await;
    let view = overview(&app, "day").await;
    let github = &view["connections"][0];
    assert_eq!(
        (&github["service"], &github["connected"], &github["expired"]),
        (&"github".into(), &0.into(), &1.into())
    );

    // Kept for the configured number of days.
    flow_stats::Entity::update_many()
        .col_expr(
            flow_stats::Column::StartedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(31)),
        )
        .filter(flow_stats::Column::Outcome.eq("failed"))
        .exec(&app.db)
        .await
        .expect("age");
    let removed = flow_stats::delete_older_than(&app.db, 30, app.clock.now())
        .await
        .expect("prune");
    assert_eq!((removed, app.count("flow_stats").await), (1, 2));
}

#[tokio::test]
async fn the_overview_is_for_administrators_only() {
    let app = admin_app_with(|_| {}).await;
    app.add_user("bob").await;
    let bob = browser();
    app.sign_in_as(&bob, "bob").await;
    let body = r#"{"window":"day"}"#;
    assert_eq!(
        rpc(&app, &bob, "/rpc/admin/overview", body).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rpc(&app, &browser(), "/rpc/admin/overview", body)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let page = bob
        .get(app.url("/admin"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let page = app.get("/admin?window=week").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Connect flows over time"),
        "the chart is rendered on the server"
    );
    assert!(html.contains("<svg"), "as SVG");
}

#[tokio::test]
async fn an_admin_turns_a_provider_off_and_on() {
    let app = admin_app_with(|_| {}).await;
    app.add_user("bob").await;
    app.add_user("carol").await;
    let (bob, carol) = (browser(), browser());
    app.sign_in_as(&bob, "bob").await;
    app.sign_in_as(&carol, "carol").await;
    assert_eq!(
        connect_as(&app, &bob, "bob-gh").await,
        "/connections?connected=github"
    );

    let switch = |client: &Client, enabled: &'static str| {
        client
            .post(app.url("/admin/providers/github/enabled"))
            .header(ORIGIN, &app.base)
            .form(&[("enabled", enabled)])
            .send()
    };
    let refused = switch(&bob, "false").await.expect("post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "not for users");
    let off = switch(&app.client, "false").await.expect("post");
    assert_eq!(location(&off), "/admin/providers?done=provider_disabled");

    // No new flows: a clear refusal for the API, a message on the page for the browser.
    let json = carol
        .get(app.url("/api/auth/github/authorize"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("authorize");
    assert_eq!(json.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = json.json().await.expect("json");
    assert_eq!(body["error"], "provider_disabled");
    let form = carol
        .post(app.url("/api/auth/github/authorize"))
        .header(ORIGIN, &app.base)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        location(&form),
        "/connections?error=provider_disabled&service=github"
    );
    let carol_cards = cards(&app, &carol).await;
    assert!(
        carol_cards.iter().all(|c| c["service"] != "github"),
        "no card for a user without a connection"
    );
    let bob_card = cards(&app, &bob)
        .await
        .into_iter()
        .find(|c| c["service"] == "github")
        .expect("bob keeps his card");
    assert_eq!(
        (&bob_card["enabled"], &bob_card["state"]),
        (&false.into(), &"connected".into())
    );
    let (status, _) = app.get_json("/api/github/health").await;
    assert_eq!(status, StatusCode::OK);
    let kinds = app.audit_kinds().await;
    assert!(kinds.iter().any(|(k, _, _)| k == "admin.provider_disabled"));

    let on = switch(&app.client, "true").await.expect("post");
    assert_eq!(location(&on), "/admin/providers?done=provider_enabled");
    assert!(app
        .start_connect(&carol)
        .await
        .as_str()
        .contains("/github/"));
    let unknown = app
        .client
        .post(app.url("/admin/providers/nope/enabled"))
        .header(ORIGIN, &app.base)
        .form(&[("enabled", "false")])
        .send()
        .await
        .expect("post");
    assert_eq!(location(&unknown), "/admin/providers?error=not_found");
}

#[tokio::test]
async fn admins_hear_of_new_audit_events_and_users_only_of_their_own_connections() {
    let app = admin_app_with(|_| {}).await;
    app.add_user("bob").await;
    let bob = browser();
    app.sign_in_as(&bob, "bob").await;
    let open = |client: &Client| client.get(app.url("/api/events")).send();
    let mut admin_stream = open(&app.client).await.expect("events");
    let mut bob_stream = open(&bob).await.expect("events");

    connect_as(&app, &bob, "bob-gh").await;
    let admin_saw = read_until(&mut admin_stream, "event: audit", Duration::from_secs(5)).await;
    assert!(
        admin_saw.contains("event: audit"),
        "the admin's board updates"
    );
    assert!(
        !admin_saw.contains("github"),
        "nothing about bob's connection itself"
    );
    let bob_saw = read_until(&mut bob_stream, "event: connection", Duration::from_secs(5)).await;
    assert!(bob_saw.contains("data: github"));

    // Turning a provider off reaches every user's page.
    app.client
        .post(app.url("/admin/providers/slack/enabled"))
        .header(ORIGIN, &app.base)
        .form(&[("enabled", "false")])
        .send()
        .await
        .expect("post");
    let bob_saw = read_until(&mut bob_stream, "data: *", Duration::from_secs(5)).await;
    assert!(bob_saw.contains("event: connection"), "{bob_saw}");
    assert!(
        !bob_saw.contains("event: audit"),
        "users never get audit events"
    );
}

#[tokio::test]
async fn access_revoked_on_the_sandbox_apps_page_turns_the_card_to_reconnect() {
    let app = admin_app_with(|config| {
        config.jobs.liveness_interval_seconds = 1;
        config.jobs.liveness_period_seconds = 1;
    })
    .await;
    app.connect_github("ada-gh").await;
    let sandbox = app.sandbox_url().trim_end_matches('/').to_string();
    let page = app
        .client
        .get(format!("{sandbox}/apps"))
        .send()
        .await
        .expect("apps")
        .text()
        .await
        .expect("html");
    assert!(page.contains("sandbox-github for ada-gh"), "{page}");
    app.revoke_first_app_grant().await;
    let state = app.wait_for_status("github", "needs_reauth").await;
    assert_eq!(state, "needs_reauth", "the liveness check noticed");
    let card = cards(&app, &app.client)
        .await
        .into_iter()
        .find(|c| c["service"] == "github")
        .expect("card");
    assert_eq!(card["state"], "needs_reauth");
    assert_eq!(
        app.connect_github("ada-gh").await,
        "/connections?connected=github",
        "reconnecting fixes it"
    );
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status["status"], "connected");
}

#[tokio::test]
async fn refresh_outcomes_are_counted_by_reason() {
    let app = admin_app_with(|_| {}).await;
    app.connect("outlook", "ada-ms").await;
    let user = app.user_id("ada").await;
    let key = app.api_key(&["tokens:read"]).await;
    let token = |app: &TestApp| {
        app.client
            .get(app.url(&format!("/api/v1/users/{user}/connections/outlook/token")))
            .bearer_auth(&key)
            .send()
    };
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    app.set_expiry(past).await;
    let fresh = token(&app).await.expect("token");
    assert_eq!(fresh.status(), StatusCode::OK, "refreshed");
    let body: serde_json::Value = fresh.json().await.expect("json");
    let access = body["access_token"].as_str().expect("token").to_string();
    assert!(
        app.sandbox.revoke_grant(&access),
        "the user removes the app"
    );
    app.set_expiry(past).await;
    assert_eq!(
        token(&app).await.expect("token").status(),
        StatusCode::CONFLICT
    );

    let refreshes = &overview(&app, "hour").await["refreshes"];
    assert_eq!(
        refreshes,
        &serde_json::json!([
            { "code": "invalid_grant", "count": 1 },
            { "code": "succeeded", "count": 1 },
        ])
    );
}

/// Dashboards reload their numbers on `event: audit`; now that every write wakes the reader,
/// a burst of 40 events must not make every open dashboard reload 40 times: at most twice a
/// second (AUDIT_EVERY), while connection changes still go out at once.
#[tokio::test]
async fn a_burst_of_events_reloads_dashboards_at_most_twice_a_second() {
    use server::base::audit::{Event, Kind, Origin};
    let app = admin_app_with(|_| {}).await;
    let mut stream = app.get("/api/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let origin = Origin::internal(&app.clock);
    for _ in 0..40 {
        server::base::store::audit::append(&app.db, Event::new(Kind::SignIn, &origin))
            .await
            .expect("an event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = read_until(&mut stream, "never", Duration::from_millis(1200)).await;
    let reloads = seen.matches("event: audit").count();
    assert!(
        (1..=4).contains(&reloads),
        "{reloads} reloads for 40 events in about 2 s"
    );
}
