//! The rules an attacker probes at the edges: `iss` against mix-up, token endpoints that
//! redirect, headers on every kind of answer, failures that stay closed and say nothing.

use crate::helpers::*;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use server::sandbox::Fault;

async fn sql(app: &TestApp, statement: &str) {
    app.db.execute_unprepared(statement).await.expect("sql");
}

/// A consented GitHub flow whose pending row now expects `iss` (as an RFC 9207 provider's
/// would); returns the callback URL the provider sent the browser to.
async fn flow_expecting_iss(app: &TestApp) -> String {
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "ivan-gh", "allow").await;
    sql(
        app,
        "UPDATE pending_flows SET expected_issuer = 'https://issuer.test'",
    )
    .await;
    callback
}

#[tokio::test]
async fn a_wrong_or_missing_iss_is_refused_before_the_code_is_used() {
    let app = spawn_app().await;
    app.signed_in("ivan").await;
    for iss in [Some("https%3A%2F%2Fevil.test"), None] {
        let callback = flow_expecting_iss(&app).await;
        let url = match iss {
            Some(iss) => format!("{callback}&iss={iss}"),
            None => callback.clone(),
        };
        let response = app.client.get(&url).send().await.expect("callback");
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{iss:?}: refused like a bad state"
        );
        assert_eq!(app.count("connections").await, 0, "{iss:?}: nothing stored");
        // The state is spent: the right `iss` cannot revive it.
        let replay = app
            .client
            .get(format!("{callback}&iss=https%3A%2F%2Fissuer.test"))
            .send()
            .await
            .expect("replay");
        assert_eq!(
            replay.status(),
            StatusCode::BAD_REQUEST,
            "{iss:?}: used once"
        );
    }
    let mismatches = app
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(_, _, reason)| reason.as_deref() == Some("issuer_mismatch"))
        .count();
    assert_eq!(mismatches, 2);
    // With the expected `iss`, the same kind of flow completes: the check is not blanket.
    let callback = flow_expecting_iss(&app).await;
    let response = app
        .client
        .get(format!("{callback}&iss=https%3A%2F%2Fissuer.test"))
        .send()
        .await
        .expect("callback");
    assert_eq!(location(&response), "/connections?connected=github");
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let app = spawn_app().await;
    app.signed_in("rory").await;
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "rory-gh", "allow").await;
    app.sandbox
        .inject("/github/login/oauth/access_token", Fault::Redirect);
    let response = app.client.get(callback).send().await.expect("callback");
    assert_eq!(
        location(&response),
        "/connections?error=exchange_failed&service=github"
    );
    assert_eq!(
        app.sandbox.trap_hits(),
        0,
        "the code and client secret went nowhere else"
    );
    assert_eq!(app.count("connections").await, 0);
}

fn assert_hardened(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert!(headers.contains_key("referrer-policy"), "{what}");
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!headers.contains_key("server"), "{what}");
}

#[tokio::test]
async fn static_files_leptos_errors_redirects_and_json_all_carry_security_headers() {
    let site = tempfile::tempdir().expect("site");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/atom.css"), "body{}").expect("css");
    let root = site.path().to_path_buf();
    let app = spawn_app_with(move |c| c.server.site_root = root).await;
    let css = app.get("/pkg/atom.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_hardened(&css, "static file");
    let missing_file = app.get("/pkg/nothing.js").await;
    assert_eq!(missing_file.status(), StatusCode::NOT_FOUND);
    assert_hardened(&missing_file, "missing static file");
    let unknown_page = app.get("/no/such/page").await;
    assert_eq!(unknown_page.status(), StatusCode::NOT_FOUND);
    assert_hardened(&unknown_page, "Leptos' not-found page");
    assert!(unknown_page
        .text()
        .await
        .expect("html")
        .contains("Page not found."));
    let redirect = app.get("/").await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_hardened(&redirect, "redirect");
    let (status, _) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_hardened(&app.get("/api/auth/github/status").await, "JSON error");
    let unknown_function = app.post("/rpc/no_such_function").await;
    assert_eq!(unknown_function.status(), StatusCode::BAD_REQUEST);
    assert_hardened(&unknown_function, "Leptos' own 400");
    let huge = app
        .client
        .post(app.url("/auth/signin"))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'x'; 200 * 1024])
        .send()
        .await
        .expect("post");
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_hardened(&huge, "413");
}

#[tokio::test]
async fn a_database_failure_fails_closed_with_a_generic_message() {
    let app = spawn_app().await;
    app.signed_in("dora").await;
    app.connect_github("dora-gh").await;
    let postgres = app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    sql(
        &app,
        if postgres {
            "DROP TABLE connections CASCADE"
        } else {
            "DROP TABLE connections"
        },
    )
    .await;
    let (status, body) = app.get_json("/api/auth/github/status").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "internal");
    let disconnect = app.post("/api/auth/github/disconnect").await;
    assert_eq!(disconnect.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let page = app.get("/connections").await.text().await.expect("html");
    assert!(page.contains("Your connections could not be loaded. Try again."));
    let rpc = app
        .client
        .post(app.url("/rpc/list_connections"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("rpc")
        .text()
        .await
        .expect("text");
    assert!(
        rpc.contains("Your connections could not be loaded"),
        "{rpc}"
    );
    // A form post without JavaScript: Leptos redirects to the Referer with the error in the URL.
    let form = app
        .client
        .post(app.url("/rpc/list_connections"))
        .header("origin", &app.base)
        .header("accept", "text/html")
        .header("referer", app.url("/connections"))
        .send()
        .await
        .expect("form post");
    assert!(form.status().is_redirection(), "{}", form.status());
    // Leptos puts the error in the URL's `__err` parameter, base64-encoded (and then
    // percent-encoded, as any query value).
    let target = location(&form);
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let encoded = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "__err")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let target = base64_text(&encoded);
    assert!(
        target.contains("Your connections could not be loaded"),
        "{target}"
    );
    for answer in [body.to_string(), page, rpc, target] {
        for detail in [
            "no such table",
            "relation",
            "connections\"",
            "sqlx",
            "SELECT",
        ] {
            assert!(
                !answer.contains(detail),
                "no internals in answers: {detail}"
            );
        }
    }
}

#[tokio::test]
async fn refused_cross_origin_requests_are_audited() {
    let app = spawn_app().await;
    app.signed_in("cleo").await;
    let refused = app
        .client
        .post(app.url("/rpc/list_connections"))
        .header("sec-fetch-site", "cross-site")
        .header("user-agent", "evil-agent")
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let events = server::base::store::audit::after(&app.db, 0, 100)
        .await
        .expect("audit");
    let event = events
        .iter()
        .find(|e| e.kind == "security.cross_origin_rejected")
        .expect("audited");
    assert_eq!(event.outcome, "failure");
    assert_eq!(event.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(event.user_agent.as_deref(), Some("evil-agent"));
}

fn base64_text(encoded: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded))
        .expect("base64 error in the URL");
    String::from_utf8(bytes).expect("text")
}
