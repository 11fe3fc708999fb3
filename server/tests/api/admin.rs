//! The admin area: roles enforced on every page, form and server function; users and API
//! keys managed from the browser.

use crate::helpers::*;
use reqwest::header::ORIGIN;
use reqwest::StatusCode;

async fn form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header(ORIGIN, &app.base)
        .form(fields)
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn non_admins_get_403_on_every_admin_page_form_and_server_function() {
    let app = admin_app().await;
    app.add_user("bob").await;
    let bob = browser();
    app.sign_in_as(&bob, "bob").await;
    let ada_id = app.user_id("ada").await;
    let pages = [
        "/admin/users",
        "/admin/keys",
        "/admin/audit",
        "/admin/providers",
    ];
    for page in pages {
        let response = bob
            .get(app.url(page))
            .header("accept", "text/html")
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{page}");
        let html = response.text().await.expect("html");
        assert!(html.contains("for administrators"), "{page}: a clear page");
    }
    let role = format!("/admin/users/{ada_id}/role");
    let status = format!("/admin/users/{ada_id}/status");
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "/admin/users/new",
            vec![
                ("username", "eve"),
                ("password", PASSWORD),
                ("role", "admin"),
            ],
        ),
        (&role, vec![("role", "user")]),
        (&status, vec![("state", "disabled")]),
        (
            "/admin/keys/new",
            vec![("name", "stolen"), ("tokens_read", "on")],
        ),
        ("/admin/keys/x/revoke", vec![]),
    ];
    for (path, fields) in &forms {
        let response = form(&app, &bob, path, fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    for function in [
        "/rpc/admin/list_users",
        "/rpc/admin/list_api_keys",
        "/rpc/admin/list_audit",
        "/rpc/admin/list_providers",
    ] {
        let response = bob
            .post(app.url(function))
            .header(ORIGIN, &app.base)
            .send()
            .await
            .expect("rpc");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
        let signed_out = browser()
            .post(app.url(function))
            .header(ORIGIN, &app.base)
            .send()
            .await
            .expect("rpc");
        assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED, "{function}");
    }
    assert!(server::base::store::users::by_username(&app.db, "eve")
        .await
        .expect("db")
        .is_none());
    assert_eq!(app.count("api_keys").await, 0);
    let ada = server::base::store::users::by_username(&app.db, "ada")
        .await
        .expect("db")
        .expect("ada");
    assert_eq!(
        (ada.role.as_str(), ada.disabled),
        ("admin", false),
        "nothing changed"
    );
    // The administrator reaches them all.
    for page in pages {
        assert_eq!(app.get(page).await.status(), StatusCode::OK, "{page}");
    }
    let users = app
        .client
        .post(app.url("/rpc/admin/list_users"))
        .header(ORIGIN, &app.base)
        .send()
        .await
        .expect("rpc");
    assert_eq!(users.status(), StatusCode::OK);
    let rows: serde_json::Value = users.json().await.expect("json");
    let names: Vec<&str> = rows
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["username"].as_str())
        .collect();
    assert_eq!(names, ["ada", "bob"]);
    assert!(
        !rows.to_string().contains("argon2"),
        "no password hash leaves the server"
    );
}

#[tokio::test]
async fn an_admin_creates_users_changes_roles_and_disables_them() {
    let app = admin_app().await;
    let created = form(
        &app,
        &app.client,
        "/admin/users/new",
        &[
            ("username", "carol"),
            ("password", PASSWORD),
            ("role", "user"),
        ],
    )
    .await;
    assert_eq!(location(&created), "/admin/users?done=user_created");
    let taken = form(
        &app,
        &app.client,
        "/admin/users/new",
        &[
            ("username", "carol"),
            ("password", PASSWORD),
            ("role", "user"),
        ],
    )
    .await;
    assert_eq!(location(&taken), "/admin/users?error=exists");
    let weak = form(
        &app,
        &app.client,
        "/admin/users/new",
        &[("username", "dan"), ("password", "short"), ("role", "user")],
    )
    .await;
    assert_eq!(location(&weak), "/admin/users?error=weak_password");
    let page = app
        .get("/admin/users?error=weak_password")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("A password needs 8 to 256 characters."));
    assert!(page.contains("data-user=\"carol\""));

    let carol = browser();
    app.sign_in_as(&carol, "carol").await;
    let carol_id = app.user_id("carol").await;
    let promoted = form(
        &app,
        &app.client,
        &format!("/admin/users/{carol_id}/role"),
        &[("role", "admin")],
    )
    .await;
    assert_eq!(location(&promoted), "/admin/users?done=role_changed");
    let old_session = carol
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        location(&old_session),
        "/signin",
        "a privilege change ends the old session"
    );
    app.sign_in_as(&carol, "carol").await;
    assert_eq!(
        carol
            .get(app.url("/admin/users"))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::OK
    );

    let disabled = form(
        &app,
        &app.client,
        &format!("/admin/users/{carol_id}/status"),
        &[("state", "disabled")],
    )
    .await;
    assert_eq!(location(&disabled), "/admin/users?done=disabled");
    assert_eq!(
        location(
            &carol
                .get(app.url("/connections"))
                .send()
                .await
                .expect("get")
        ),
        "/signin"
    );
    let refused = carol
        .post(app.url("/auth/signin"))
        .header(ORIGIN, &app.base)
        .form(&[("username", "carol"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(location(&refused), "/signin?error=1");
    let enabled = form(
        &app,
        &app.client,
        &format!("/admin/users/{carol_id}/status"),
        &[("state", "enabled")],
    )
    .await;
    assert_eq!(location(&enabled), "/admin/users?done=enabled");
    app.sign_in_as(&carol, "carol").await;

    let kinds: Vec<String> = app
        .audit_kinds()
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    for kind in [
        "admin.user_created",
        "admin.role_changed",
        "admin.user_disabled",
        "admin.user_enabled",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} audited");
    }
}

#[tokio::test]
async fn the_last_administrator_keeps_the_role() {
    let app = admin_app().await;
    let ada_id = app.user_id("ada").await;
    let demoted = form(
        &app,
        &app.client,
        &format!("/admin/users/{ada_id}/role"),
        &[("role", "user")],
    )
    .await;
    assert_eq!(location(&demoted), "/admin/users?error=last_admin");
    let disabled = form(
        &app,
        &app.client,
        &format!("/admin/users/{ada_id}/status"),
        &[("state", "disabled")],
    )
    .await;
    assert_eq!(location(&disabled), "/admin/users?error=last_admin");
    assert_eq!(
        app.get("/admin/users").await.status(),
        StatusCode::OK,
        "still an administrator"
    );
}

#[tokio::test]
async fn an_admin_creates_an_api_key_shown_once_and_revokes_it() {
    let app = admin_app().await;
    app.signed_in("erin").await;
    app.connect_github("erin-gh").await;
    app.sign_in_as(&app.client, "ada").await;
    let nameless = form(
        &app,
        &app.client,
        "/admin/keys/new",
        &[("name", " "), ("tokens_read", "on")],
    )
    .await;
    assert_eq!(location(&nameless), "/admin/keys?error=bad_key_name");
    let created = form(
        &app,
        &app.client,
        "/admin/keys/new",
        &[("name", "<b>billing</b>"), ("tokens_read", "on")],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(created.headers().contains_key("content-security-policy"));
    let html = created.text().await.expect("html");
    assert!(
        html.contains("&lt;b&gt;billing&lt;/b&gt;") && !html.contains("<b>billing"),
        "the name is escaped"
    );
    let key = html
        .split("<code id=\"new-key\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .expect("the key is on the page")
        .to_string();
    assert!(key.starts_with("atom_"));

    let erin = app.user_id("erin").await;
    let token_url = app.url(&format!("/api/v1/users/{erin}/connections/github/token"));
    let api = reqwest::Client::new();
    let answer = api
        .get(&token_url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(answer.status(), StatusCode::OK, "the new key works");

    let list = app.get("/admin/keys").await.text().await.expect("html");
    assert!(list.contains(&key[..12]), "the list shows the prefix");
    assert!(!list.contains(&key), "never the key again");
    let id = server::base::store::api_keys::list(&app.db)
        .await
        .expect("db")[0]
        .id
        .clone();
    let revoked = form(&app, &app.client, &format!("/admin/keys/{id}/revoke"), &[]).await;
    assert_eq!(location(&revoked), "/admin/keys?done=key_revoked");
    let answer = api
        .get(&token_url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "revoked at once");
    let kinds: Vec<String> = app
        .audit_kinds()
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    assert!(
        kinds.iter().any(|k| k == "admin.api_key_created")
            && kinds.iter().any(|k| k == "admin.api_key_revoked")
    );
    let stored = app.stored_text().await;
    assert!(
        stored.iter().all(|(_, text)| !text.contains(&key)),
        "only the key's hash is stored"
    );
}

#[tokio::test]
async fn an_admin_filters_pages_and_exports_the_audit_log() {
    let app = admin_app().await;
    app.add_user("bob").await;
    let bob = browser();
    app.sign_in_as(&bob, "bob").await;
    let bob_id = app.user_id("bob").await;
    for _ in 0..60 {
        let event = server::base::audit::Event::new(
            server::base::audit::Kind::SignOut,
            &server::base::audit::Origin::internal(&app.clock),
        )
        .by(&bob_id);
        server::base::store::audit::append(&app.db, event)
            .await
            .expect("audit");
    }
    let page = app.get("/admin/audit?user=bob&kind=auth.sign_out").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert_eq!(
        html.matches("data-event=\"auth.sign_out\"").count(),
        50,
        "a page of 50"
    );
    assert!(
        !html.contains("data-event=\"auth.sign_in\""),
        "filtered by kind"
    );
    let older = html
        .split("href=\"/admin/audit?")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an Older events link")
        .replace("&amp;", "&");
    assert!(older.contains("before="), "{older}");
    let rest = app
        .get(&format!("/admin/audit?{older}"))
        .await
        .text()
        .await
        .expect("html");
    assert_eq!(
        rest.matches("data-event=\"auth.sign_out\"").count(),
        10,
        "the rest"
    );

    let everyone = app
        .get("/admin/audit?kind=auth.sign_in")
        .await
        .text()
        .await
        .expect("html");
    assert_eq!(
        everyone.matches("data-event=\"auth.sign_in\"").count(),
        2,
        "ada and bob"
    );
    let nobody = app
        .get("/admin/audit?user=nobody")
        .await
        .text()
        .await
        .expect("html");
    assert!(nobody.contains("No events match."));
    let bad = app
        .get("/admin/audit?from=yesterday")
        .await
        .text()
        .await
        .expect("html");
    assert!(bad.contains("Dates are written YYYY-MM-DD."));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let dated = app
        .get(&format!(
            "/admin/audit?kind=auth.sign_in&from={today}&to={today}"
        ))
        .await;
    assert_eq!(
        dated
            .text()
            .await
            .expect("html")
            .matches("data-event=\"auth.sign_in\"")
            .count(),
        2
    );

    let export = app.get("/admin/audit/export?user=bob").await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = export
        .text()
        .await
        .expect("body")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        62,
        "60 sign-outs, the sign-in and the account's creation"
    );
    assert!(lines
        .iter()
        .all(|e| e["subject_user_id"] == bob_id.as_str()));
    let refused = bob
        .get(app.url("/admin/audit/export"))
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = bob.get(app.url("/admin/audit")).send().await.expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_providers_page_shows_each_redirect_uri_and_how_the_provider_is_doing() {
    let app = admin_app().await;
    app.signed_in("pia").await;
    app.connect_github("pia-gh").await;
    app.sign_in_as(&app.client, "ada").await;
    let html = app
        .get("/admin/providers")
        .await
        .text()
        .await
        .expect("html");
    for service in ["github", "gmail", "outlook", "trello"] {
        assert!(
            html.contains(&format!("data-provider=\"{service}\"")),
            "{service}"
        );
        let uri = format!("{}/api/auth/{service}/callback", app.base);
        assert!(html.contains(&uri), "{service}'s redirect URI");
    }
    assert!(
        html.contains("1 connected, 0 failed"),
        "GitHub's flow today"
    );
    assert!(html.contains("Local sandbox (development)"));
}
