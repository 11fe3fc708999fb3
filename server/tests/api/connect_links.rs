//! Connect links: a backend asks for a single-use URL; the browser that opens it connects that
//! service for that user only. And the OpenAPI document that describes the backend API.

use crate::helpers::*;
use reqwest::StatusCode;

pub(crate) async fn create_link(
    app: &TestApp,
    key: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/connect-links"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// A user who exists but is signed in nowhere, and a link for their GitHub.
async fn link_for(app: &TestApp, username: &str) -> (String, String) {
    app.add_user(username).await;
    let id = app.user_id(username).await;
    let writer = app.api_key(&["connections:write"]).await;
    let (status, body) = create_link(
        app,
        &writer,
        serde_json::json!({ "user_id": id, "service": "github" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let url = body["url"].as_str().expect("url").to_string();
    assert!(url.starts_with(&app.url("/connect/")), "{url}");
    (id, url)
}

/// Opens a link as its user would: the hub's page first (naming the service and the user),
/// then its Continue button, a POST from the hub's origin. The answer to that POST.
pub(crate) async fn follow_link(
    app: &TestApp,
    client: &reqwest::Client,
    url: &str,
) -> reqwest::Response {
    let page = client.get(url).send().await.expect("open");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.expect("html");
    assert!(html.contains("Continue to GitHub"), "{html}");
    client
        .post(url)
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("continue")
}

#[tokio::test]
async fn a_link_connects_that_users_service_from_a_fresh_browser_once() {
    let app = spawn_app().await;
    let (alice, url) = link_for(&app, "alice").await;
    let token = url.rsplit('/').next().expect("token").to_string();
    assert!(token.len() >= 43, "256 bits");

    let visitor = browser();
    let opened = follow_link(&app, &visitor, &url).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        opened.headers()["referrer-policy"],
        "no-referrer",
        "the token never leaves as a Referer"
    );
    let authorize: url::Url = location(&opened).parse().expect("provider url");
    // The sandbox's consent form does not need the visitor's cookies.
    let callback = app.consent(&authorize, "alice-gh", "allow").await;
    let done = visitor.get(callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&done),
        "/connect/done",
        "a page of its own, not a sign-in"
    );
    let page = visitor
        .get(app.url("/connect/done"))
        .send()
        .await
        .expect("done");
    let html = page.text().await.expect("html");
    assert!(html.contains("GitHub connected as alice-gh"), "{html}");
    let list = app.connections_of(&alice).await;
    assert_eq!(list["connections"][0]["service"], "github");
    assert_eq!(list["connections"][0]["account"]["name"], "alice-gh");

    // The visitor was never signed in as alice.
    let status = visitor
        .get(app.url("/api/auth/github/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(status.status(), StatusCode::UNAUTHORIZED);
    let page = visitor
        .get(app.url("/connections"))
        .send()
        .await
        .expect("page");
    assert_eq!(location(&page), "/signin");

    let again = browser().get(&url).send().await.expect("reuse");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let html = again.text().await.expect("html");
    assert!(html.contains("already used"), "{html}");
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, o, r)| k == "connect_link.rejected"
            && o != "success"
            && r.as_deref() == Some("link_used")));
    assert!(!logs().contains(&token), "the token never reaches the logs");
    let unknown = browser()
        .get(app.url("/connect/not-a-real-link"))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = spawn_app().await;
    let (_, url) = link_for(&app, "bob").await;
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE connect_links SET expires_at = $1",
        _ => "UPDATE connect_links SET expires_at = ?",
    };
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    use sea_orm::ConnectionTrait;
    app.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [past.into()],
        ))
        .await
        .expect("expire");
    let opened = browser().get(&url).send().await.expect("open");
    assert_eq!(opened.status(), StatusCode::BAD_REQUEST);
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, r)| k == "connect_link.rejected" && r.as_deref() == Some("link_expired")));
}

#[tokio::test]
async fn creating_links_needs_the_write_scope_and_a_real_user_and_service() {
    let app = spawn_app().await;
    app.add_user("carol").await;
    let carol = app.user_id("carol").await;
    let body = serde_json::json!({ "user_id": carol, "service": "github" });
    let reader = app.api_key(&["tokens:read"]).await;
    let (status, answer) = create_link(&app, &reader, body.clone()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    assert_eq!(
        create_link(&app, "atom_wrong", body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let writer = app.api_key(&["connections:write"]).await;
    let (status, answer) = create_link(
        &app,
        &writer,
        serde_json::json!({ "user_id": "nobody", "service": "github" }),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_user"))
    );
    let (status, answer) = create_link(
        &app,
        &writer,
        serde_json::json!({ "user_id": carol, "service": "myspace" }),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_service"))
    );
    assert_eq!(app.count("connect_links").await, 0);
}

#[tokio::test]
async fn the_openapi_document_is_public_and_names_every_route() {
    let app = spawn_app().await;
    let response = browser()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/api/v1/users/{user_id}/connections", "get"),
        ("/api/v1/users/{user_id}/connections/{service}", "delete"),
        ("/api/v1/users/{user_id}/connections/{service}/token", "get"),
        ("/api/v1/connect-links", "post"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let scheme = &doc["components"]["securitySchemes"]["apiKey"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]));
    let token = &doc["paths"]["/api/v1/users/{user_id}/connections/{service}/token"]["get"];
    assert!(token["responses"]["409"].is_object() && token["responses"]["401"].is_object());
}

#[tokio::test]
async fn a_link_to_a_provider_an_admin_turned_off_is_refused_with_a_page() {
    let app = spawn_app().await;
    let (_, url) = link_for(&app, "alice").await;
    server::base::store::provider_settings::set(&app.db, "github", false, app.clock.now())
        .await
        .expect("turn off");
    let opened = follow_link(&app, &browser(), &url).await;
    assert_eq!(opened.status(), StatusCode::CONFLICT);
    let html = opened.text().await.expect("html");
    assert!(html.contains("turned off new connections"), "{html}");
    assert_eq!(app.count("pending_flows").await, 0, "no flow started");
}

/// Opening a link only shows what it will do (issue 16): a chat app's preview (GET, HEAD) or a
/// mail scanner never uses it up, the page names the service and the hub user it connects,
/// and only its Continue button (a POST from the hub's own origin) starts the flow: a page on
/// another site cannot post it for a visitor.
#[tokio::test]
async fn opening_a_link_shows_whose_it_is_and_uses_nothing_up() {
    let app = spawn_app().await;
    let (alice, url) = link_for(&app, "alice").await;
    for _ in 0..3 {
        let preview = browser().get(&url).send().await.expect("preview");
        assert_eq!(preview.status(), StatusCode::OK);
        assert_eq!(preview.headers()["cache-control"], "no-store");
        let html = preview.text().await.expect("html");
        assert!(html.contains("Connect GitHub for alice?"), "{html}");
        assert!(html.contains("Continue only if you are alice"), "{html}");
    }
    let head = browser().head(&url).send().await.expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        app.count("pending_flows").await,
        0,
        "no flow started by looking"
    );
    let forged = browser()
        .post(&url)
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("cross-site post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("pending_flows").await, 0);
    // Still unused: its user continues and connects.
    let visitor = browser();
    let opened = follow_link(&app, &visitor, &url).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let authorize: url::Url = location(&opened).parse().expect("provider url");
    let callback = app.consent(&authorize, "alice-gh", "allow").await;
    let done = visitor.get(callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connect/done");
    assert_eq!(
        app.connections_of(&alice).await["connections"][0]["service"],
        "github"
    );
    let used = browser().get(&url).send().await.expect("used");
    assert_eq!(
        used.status(),
        StatusCode::BAD_REQUEST,
        "used once, by its Continue"
    );
}
