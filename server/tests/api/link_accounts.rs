//! Connect links that expect a provider account, and the page after a link's callback:
//! "connected as …" with a one-click undo. A link opened by the wrong person, who approves
//! their own account, stores nothing and gives back what the provider issued.

use crate::connect_links::create_link;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// A link for `username`'s `service` with these extra fields; the authorize URL it leads to
/// and the browser that followed it.
async fn open_link(
    app: &TestApp,
    username: &str,
    service: &str,
    extra: serde_json::Value,
) -> (url::Url, reqwest::Client) {
    app.add_user(username).await;
    let key = app.api_key(&["connections:write"]).await;
    let mut body = json!({ "user_id": app.user_id(username).await, "service": service });
    body.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    let (status, answer) = create_link(app, &key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let url = answer["url"].as_str().expect("url").to_string();
    let visitor = browser();
    let page = visitor.get(&url).send().await.expect("page");
    let html = page.text().await.expect("html");
    let continued = visitor
        .post(&url)
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("continue");
    assert_eq!(continued.status(), StatusCode::SEE_OTHER, "{html}");
    (location(&continued).parse().expect("provider url"), visitor)
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_link_expecting_an_account_refuses_another_stores_nothing_and_gives_it_back() {
    let app = spawn_app().await;
    let (authorize, visitor) = open_link(
        &app,
        "ada",
        "gmail",
        json!({ "login_hint": "ada@gmail.test" }),
    )
    .await;
    // Google takes the hint (developers.google.com/identity/protocols/oauth2/web-server).
    assert_eq!(
        param(&authorize, "login_hint").as_deref(),
        Some("ada@gmail.test")
    );
    // Eve opens Ada's forwarded link and approves her own Google account.
    let callback = app.consent(&authorize, "eve", "allow").await;
    let answer = visitor.get(callback).send().await.expect("callback");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let html = answer.text().await.expect("html");
    assert!(
        html.contains("not the Gmail account this link was made for"),
        "{html}"
    );
    assert_eq!(app.count("connections").await, 0, "nothing stored");
    let issued = app.sandbox.issued_access_tokens().pop().expect("issued");
    assert!(
        !app.sandbox.token_is_live(&issued),
        "what Google issued was revoked"
    );
    assert!(
        app.audit_kinds()
            .await
            .iter()
            .any(|(k, _, r)| k == "connection.connect_failed"
                && r.as_deref() == Some("wrong_account"))
    );

    // Ada herself, with her own link: connected, and the page names the account.
    let (authorize, visitor) = open_link(
        &app,
        "ada2",
        "gmail",
        json!({ "login_hint": "ADA@gmail.test" }),
    )
    .await;
    let callback = app.consent(&authorize, "ada", "allow").await;
    let done = visitor.get(callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connect/done");
    let html = page_html(&visitor, &app.url("/connect/done")).await;
    assert!(html.contains("Gmail connected as"), "{html}");
}

#[tokio::test]
async fn an_email_domain_is_checked_and_refused_where_the_provider_tells_no_email() {
    let app = spawn_app().await;
    let (authorize, visitor) = open_link(
        &app,
        "ann",
        "gmail",
        json!({ "email_domain": "example.com" }),
    )
    .await;
    assert_eq!(param(&authorize, "hd").as_deref(), Some("example.com"));
    let callback = app.consent(&authorize, "ann", "allow").await;
    let answer = visitor.get(callback).send().await.expect("callback");
    assert_eq!(
        answer.status(),
        StatusCode::BAD_REQUEST,
        "ann@gmail.test is not of example.com"
    );
    assert_eq!(app.count("connections").await, 0);

    let (authorize, visitor) = open_link(
        &app,
        "ann2",
        "outlook",
        json!({ "email_domain": "@Example.COM" }),
    )
    .await;
    // Microsoft takes a domain hint (learn.microsoft.com/.../v2-oauth2-auth-code-flow).
    assert_eq!(
        param(&authorize, "domain_hint").as_deref(),
        Some("example.com")
    );
    drop((authorize, visitor));

    // GitHub takes `login` (docs.github.com/.../authorizing-oauth-apps) and checks it.
    let (authorize, _) = open_link(&app, "gus", "github", json!({ "login_hint": "gus-gh" })).await;
    assert_eq!(param(&authorize, "login").as_deref(), Some("gus-gh"));

    // Slack's auth.test tells no email: a domain there could never be checked.
    app.add_user("sam").await;
    let key = app.api_key(&["connections:write"]).await;
    let sam = app.user_id("sam").await;
    let links = app.count("connect_links").await;
    let refusals = [
        (
            json!({ "service": "slack", "email_domain": "example.com" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unverifiable_email_domain",
        ),
        (
            json!({ "service": "github", "login_hint": "two words" }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({ "service": "github", "login_hint": "" }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (extra, wanted, code) in refusals {
        let mut body = json!({ "user_id": sam });
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        let (status, answer) = create_link(&app, &key, body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (wanted, Some(code)),
            "{extra}: {answer}"
        );
    }
    assert_eq!(app.count("connect_links").await, links, "no link made");
}

#[tokio::test]
async fn the_connected_page_undoes_the_links_connection_once_from_its_browser_only() {
    let app = spawn_app().await;
    let (authorize, visitor) = open_link(&app, "bob", "github", json!({})).await;
    let callback = app.consent(&authorize, "bob-gh", "allow").await;
    visitor.get(callback).send().await.expect("callback");
    let issued = app.sandbox.issued_access_tokens().pop().expect("issued");
    let page = visitor
        .get(app.url("/connect/done"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.expect("html");
    assert!(html.contains("GitHub connected as bob-gh"), "{html}");
    assert!(html.contains("Undo: disconnect bob-gh"), "{html}");

    let elsewhere = browser()
        .post(app.url("/connect/done"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("other browser");
    assert_eq!(
        elsewhere.status(),
        StatusCode::BAD_REQUEST,
        "another browser has nothing to undo"
    );
    let forged = visitor
        .post(app.url("/connect/done"))
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("cross-site");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("connections").await, 1);

    let undone = visitor
        .post(app.url("/connect/done"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("undo");
    assert_eq!(undone.status(), StatusCode::OK);
    assert!(undone
        .text()
        .await
        .expect("html")
        .contains("GitHub disconnected"));
    assert_eq!(app.count("connections").await, 0);
    assert!(!app.sandbox.token_is_live(&issued), "revoked at GitHub");
    let again = visitor
        .post(app.url("/connect/done"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "once");
}

/// The page after a link's callback names, and its Undo disconnects, the account that link
/// connected: never another account of the same service that changed later (it was once
/// "the one changed last", and a refresh of the other account at that moment made Undo
/// disconnect the wrong one).
#[tokio::test]
async fn undo_reaches_only_the_account_the_link_connected() {
    let app = spawn_app().await;
    let (authorize, first) = open_link(&app, "cleo", "github", json!({})).await;
    let callback = app.consent(&authorize, "cleo-work", "allow").await;
    first.get(callback).send().await.expect("callback");
    // The work account changes after the next link's callback (a refresh at that moment).
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE connections SET updated_at = $1",
        _ => "UPDATE connections SET updated_at = ?",
    };
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    sea_orm::ConnectionTrait::execute_raw(
        &app.db,
        sea_orm::Statement::from_sql_and_values(backend, sql, [later.into()]),
    )
    .await
    .expect("update");

    let key = app.api_key(&["connections:write"]).await;
    let body = json!({ "user_id": app.user_id("cleo").await, "service": "github" });
    let (_, answer) = create_link(&app, &key, body).await;
    let url = answer["url"].as_str().expect("url").to_string();
    let visitor = browser();
    let continued = visitor
        .post(&url)
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("continue");
    let authorize: url::Url = location(&continued).parse().expect("provider url");
    let callback = app.consent(&authorize, "cleo-home", "allow").await;
    visitor.get(callback).send().await.expect("callback");
    let html = page_html(&visitor, &app.url("/connect/done")).await;
    assert!(html.contains("GitHub connected as cleo-home"), "{html}");
    let undone = visitor
        .post(app.url("/connect/done"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("undo");
    assert_eq!(undone.status(), StatusCode::OK);
    let left = app.connections_of(&app.user_id("cleo").await).await;
    let names: Vec<&str> = left["connections"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["account"]["name"].as_str())
        .collect();
    assert_eq!(names, ["cleo-work"], "the work account stays");
}
