//! The platform's own user ids: provisioning (PUT), reading, paging, disabling and deleting
//! users through /api/v1/users, and every other route naming a user by the platform's id.

use crate::connect_links::{create_link, follow_link};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    key: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

async fn put(
    app: &TestApp,
    key: &str,
    id: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    call(
        app,
        reqwest::Method::PUT,
        key,
        &format!("/api/v1/users/{id}"),
        Some(body),
    )
    .await
}

async fn get(app: &TestApp, key: &str, path: &str) -> (StatusCode, serde_json::Value) {
    call(app, reqwest::Method::GET, key, path, None).await
}

/// A link for the platform's user `id`, followed in a fresh browser to a GitHub connection.
async fn connect_by_link(app: &TestApp, key: &str, id: &str, login: &str) {
    let (status, body) = create_link(app, key, json!({ "user_id": id, "service": "github" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let visitor = browser();
    let opened = follow_link(app, &visitor, body["url"].as_str().expect("url")).await;
    let authorize: url::Url = location(&opened).parse().expect("provider url");
    let callback = app.consent(&authorize, login, "allow").await;
    let done = visitor.get(callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connect/done");
}

/// The token at the end of a created link's URL.
fn token_of(created: &serde_json::Value) -> String {
    let url = created["url"].as_str().expect("url");
    url.rsplit('/').next().expect("token").to_string()
}

#[tokio::test]
async fn a_platform_provisions_its_users_under_its_own_ids_idempotently() {
    let app = spawn_app().await;
    let key = app.api_key(&["users:read", "users:write"]).await;
    let ada = json!({ "name": "Ada Lovelace", "email": "ada@example.com",
                      "metadata": { "plan": "pro", "seats": 3 } });

    let (status, created) = put(&app, &key, "plat-42", ada.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "plat-42");
    assert_eq!(created["name"], "Ada Lovelace");
    assert_eq!(created["metadata"]["seats"], 3);
    assert_eq!(created["role"], "user");
    assert_ne!(
        created["hub_id"], "plat-42",
        "the hub keeps its own id beside it"
    );

    let (status, again) = put(&app, &key, "plat-42", ada).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &created),
        "a repeated PUT changes nothing"
    );
    let (status, renamed) = put(&app, &key, "plat-42", json!({ "name": "Ada King" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["hub_id"], created["hub_id"]);
    assert_eq!(renamed["name"], "Ada King");
    assert_eq!(
        renamed["email"],
        serde_json::Value::Null,
        "a PUT replaces the profile"
    );
    let (status, read) = get(&app, &key, "/api/v1/users/plat-42").await;
    assert_eq!((status, &read), (StatusCode::OK, &renamed));
    // The hub's own id names the same user.
    let hub_id = created["hub_id"].as_str().expect("hub id");
    let (_, by_hub_id) = get(&app, &key, &format!("/api/v1/users/{hub_id}")).await;
    assert_eq!(by_hub_id["id"], "plat-42");

    let kinds: Vec<String> = app
        .audit_kinds()
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(
        (count("admin.user_created"), count("admin.user_updated")),
        (1, 1)
    );

    // A provisioned user has no password: not even the hub's dummy hash's own one signs in.
    let form = [("username", "plat-42"), ("password", "not a real password")];
    let answer = browser()
        .post(app.url("/auth/signin"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(location(&answer), "/signin?error=1");
}

#[tokio::test]
async fn users_are_listed_a_page_at_a_time_and_bad_input_stores_nothing() {
    let app = spawn_app().await;
    let key = app.api_key(&["users:read", "users:write"]).await;
    for id in ["u-1", "u-2", "u-3"] {
        assert_eq!(put(&app, &key, id, json!({})).await.0, StatusCode::CREATED);
    }
    let (status, first) = get(&app, &key, "/api/v1/users?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = get(
        &app,
        &key,
        &format!("/api/v1/users?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
    let ids: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page["users"].as_array().expect("users"))
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["u-1", "u-2", "u-3"]);

    let users = app.count("users").await;
    let long = "x".repeat(129);
    let refusals = [
        ("u-4", json!({ "metadata": [1, 2] })),
        ("u-4", json!({ "email": "not an address" })),
        ("u-4", json!({ "name": "Ada", "role": "admin" })),
        ("u-4", json!({ "metadata": { "blob": "y".repeat(17_000) } })),
        (long.as_str(), json!({})),
    ];
    for (id, body) in refusals {
        let (status, answer) = put(&app, &key, id, body.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{body}: {answer}"
        );
    }
    for path in ["/api/v1/users?limit=0", "/api/v1/users?limit=x"] {
        assert_eq!(
            get(&app, &key, path).await.0,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let (status, answer) = get(&app, &key, "/api/v1/users?cursor=nobody").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_cursor"))
    );
    assert_eq!(app.count("users").await, users, "nothing stored");

    let reader = app.api_key(&["users:read"]).await;
    let (status, body) = put(&app, &reader, "u-5", json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    let tokens = app.api_key(&["tokens:read"]).await;
    assert_eq!(
        get(&app, &tokens, "/api/v1/users").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_link_for_a_new_platform_id_makes_the_user_only_with_users_write() {
    let app = spawn_app().await;
    let plain = app.api_key(&["connections:write"]).await;
    let (status, body) = create_link(
        &app,
        &plain,
        json!({ "user_id": "plat-7", "service": "github" }),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_user"))
    );
    let users = app.count("users").await;
    assert_eq!(users, 0, "nothing made without the scope");

    let writer = app.api_key(&["connections:write", "users:write"]).await;
    connect_by_link(&app, &writer, "plat-7", "seven-gh").await;
    // Everything after names the user by the platform's id.
    let reader = app.api_key(&["tokens:read"]).await;
    let token = app.token_answer(&reader, "plat-7", "github").await;
    assert_eq!(token.status(), StatusCode::OK);
    let issued = app.sandbox.issued_access_tokens().pop().expect("token");
    assert_eq!(
        token.json::<serde_json::Value>().await.expect("json")["access_token"],
        issued
    );
    let list = app.connections_of("plat-7").await;
    assert_eq!(list["user_id"], "plat-7");
    assert_eq!(list["connections"][0]["account"]["name"], "seven-gh");
}

#[tokio::test]
async fn deleting_a_user_revokes_their_connections_and_their_tokens_stop_at_once() {
    let app = spawn_app().await;
    let key = app
        .api_key(&[
            "users:read",
            "users:write",
            "connections:write",
            "tokens:read",
        ])
        .await;
    assert_eq!(
        put(&app, &key, "plat-9", json!({ "name": "Nine" })).await.0,
        StatusCode::CREATED
    );
    connect_by_link(&app, &key, "plat-9", "nine-gh").await;
    let issued = app.sandbox.issued_access_tokens().pop().expect("token");
    assert!(app.sandbox.token_is_live(&issued));
    let other = app.second_instance().await;

    // Disabled by the platform: refused at once, here and on the other instance.
    let (status, body) = put(
        &app,
        &key,
        "plat-9",
        json!({ "name": "Nine", "disabled": true }),
    )
    .await;
    assert_eq!((status, &body["disabled"]), (StatusCode::OK, &json!(true)));
    let refused = reqwest::Client::new()
        .get(format!(
            "{other}/api/v1/users/plat-9/connections/github/token"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("token on the other instance");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    put(
        &app,
        &key,
        "plat-9",
        json!({ "name": "Nine", "disabled": false }),
    )
    .await;
    assert_eq!(
        app.token_answer(&key, "plat-9", "github").await.status(),
        StatusCode::OK
    );

    let (status, gone) = call(
        &app,
        reqwest::Method::DELETE,
        &key,
        "/api/v1/users/plat-9",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["connections_deleted"], 1);
    assert!(
        !app.sandbox.token_is_live(&issued),
        "revoked at the provider"
    );
    assert_eq!(app.count("connections").await, 0);
    assert_eq!(
        app.token_answer(&key, "plat-9", "github").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &key, "/api/v1/users/plat-9").await.0,
        StatusCode::NOT_FOUND
    );
    let again = call(
        &app,
        reqwest::Method::DELETE,
        &key,
        "/api/v1/users/plat-9",
        None,
    )
    .await;
    assert_eq!(again.0, StatusCode::NOT_FOUND);
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, _, _)| k == "admin.user_deleted"));

    // The same id again is a new user.
    let (status, fresh) = put(&app, &key, "plat-9", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.connections_of("plat-9").await["connections"], json!([]));
    assert_eq!(fresh["id"], "plat-9");
}

#[tokio::test]
async fn the_last_administrator_is_neither_disabled_nor_deleted_through_the_api() {
    let app = spawn_app().await;
    app.signed_in("root").await;
    let root = app.user_id("root").await;
    use sea_orm::EntityTrait;
    server::base::store::users::Entity::update_many()
        .col_expr(
            server::base::store::users::Column::Role,
            sea_orm::sea_query::Expr::value("admin"),
        )
        .exec(&app.db)
        .await
        .expect("make admin");
    let key = app.api_key(&["users:write"]).await;
    let (status, body) = put(&app, &key, &root, json!({ "disabled": true })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("last_admin"))
    );
    let (status, body) = call(
        &app,
        reqwest::Method::DELETE,
        &key,
        &format!("/api/v1/users/{root}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("last_admin"))
    );
    assert_eq!(app.count("users").await, 1);
    // Administrators sign in: no portal link for them.
    let linker = app.api_key(&["connections:write"]).await;
    let refused = reqwest::Client::new()
        .post(app.url("/api/v1/portal-links"))
        .bearer_auth(linker)
        .json(&json!({ "user_id": root }))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_portal_link_opens_its_users_own_connections_once_and_nothing_else() {
    let app = spawn_app().await;
    app.signed_in("other").await;
    app.connect_github("other-gh").await;
    let key = app.api_key(&["connections:write", "users:write"]).await;
    let portal = |user_id: &str| {
        let body = json!({ "user_id": user_id });
        let key = key.clone();
        let url = app.url("/api/v1/portal-links");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("POST");
            let status = response.status();
            (
                status,
                response
                    .json::<serde_json::Value>()
                    .await
                    .unwrap_or_default(),
            )
        }
    };
    let (status, created) = portal("plat-p").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let url = created["url"].as_str().expect("url").to_string();
    assert!(url.starts_with(&app.url("/portal/")), "{url}");

    // Looking (a link preview) spends nothing and signs nobody in.
    let visitor = browser();
    for _ in 0..2 {
        let page = visitor.get(&url).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page
            .text()
            .await
            .expect("html")
            .contains("Open plat-p&#39;s connections?"));
    }
    let status = visitor
        .get(app.url("/api/auth/github/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(status.status(), StatusCode::UNAUTHORIZED);
    let forged = visitor
        .post(&url)
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("cross-site");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let opened = visitor
        .post(&url)
        .header(reqwest::header::ORIGIN, app.url(""))
        .send()
        .await
        .expect("continue");
    assert_eq!(location(&opened), "/connections");
    // Signed in as plat-p: its own (empty) connections, and a connect of its own.
    let (_, mine) = {
        let r = visitor
            .get(app.url("/api/auth/github/status"))
            .send()
            .await
            .expect("status");
        (
            r.status(),
            r.json::<serde_json::Value>().await.expect("json"),
        )
    };
    assert_eq!(mine["connected"], false, "not other's connection");
    let authorize = app.start_connect_to(&visitor, "github").await;
    let callback = app.consent(&authorize, "p-gh", "allow").await;
    let done = visitor.get(callback).send().await.expect("callback");
    assert_eq!(location(&done), "/connections?connected=github");
    assert_eq!(
        app.connections_of("plat-p").await["connections"][0]["account"]["name"],
        "p-gh"
    );
    let gone = visitor
        .post(app.url("/api/auth/github/disconnect"))
        .header(reqwest::header::ORIGIN, app.url(""))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("disconnect");
    assert_eq!(gone.status(), StatusCode::OK);
    let other = app.user_id("other").await;
    assert_eq!(
        app.connections_of(&other).await["connections"][0]["account"]["name"],
        "other-gh"
    );
    assert_eq!(app.count("connections").await, 1, "only plat-p's own went");
    // The admin pages stay closed.
    let admin = visitor
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("admin");
    assert_ne!(admin.status(), StatusCode::OK);

    let again = browser().get(&url).send().await.expect("reuse");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "used once");
    // Portal and connect links are not interchangeable.
    let (_, link) = create_link(
        &app,
        &key,
        json!({ "user_id": "plat-p", "service": "github" }),
    )
    .await;
    let token = token_of(&link);
    let crossed = browser()
        .get(app.url(&format!("/portal/{token}")))
        .send()
        .await
        .expect("crossed");
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST);
    let (_, second) = portal("plat-p").await;
    let token = token_of(&second);
    let crossed = browser()
        .get(app.url(&format!("/connect/{token}")))
        .send()
        .await
        .expect("crossed");
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST);
}
