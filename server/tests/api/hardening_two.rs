//! Hardening, round two (issue 15): what an attacker found after the first round, each with
//! the test that would have caught it.

use crate::helpers::*;
use reqwest::StatusCode;

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    server::domain::users::add(
        &app.db,
        "ada",
        PASSWORD,
        true,
        &server::domain::users::Actor::cli(),
    )
    .await
    .expect("admin");
    app.sign_in_as(&app.client, "ada").await;
    app
}

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

/// Pages may only submit forms to the hub itself (CSP `form-action`): an injected form cannot
/// post a user's input elsewhere.
#[tokio::test]
async fn pages_may_only_submit_forms_to_the_hub() {
    let app = spawn_app().await;
    let page = app.get("/signin").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.contains("form-action 'self'"), "{csp}");
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
