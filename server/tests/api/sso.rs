//! Single sign-on's routes without a provider (the journeys against the real oidc-provider
//! are Playwright's sso.spec.ts), and password sign-in turned off.

use crate::helpers::*;
use reqwest::header::ORIGIN;
use reqwest::StatusCode;

fn sso_at(issuer: &str) -> server::base::config::OidcSignIn {
    toml::from_str(&format!(
        "issuer = \"{issuer}\"\nclient_id = \"hub\"\nclient_secret = \"s3cret\"\ndisplay_name = \"Corp SSO\""
    ))
    .expect("settings")
}

/// What the sign-in page is told, asked as the page asks (a public server function).
async fn sign_in_options(app: &TestApp) -> serde_json::Value {
    browser()
        .post(app.url("/rpc/public/sign_in_options"))
        .header(ORIGIN, app.url(""))
        .send()
        .await
        .expect("options")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_and_the_page_is_told() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/auth/sso").await.status(),
        StatusCode::NOT_FOUND,
        "not configured"
    );
    let options = sign_in_options(&app).await;
    assert_eq!(
        options,
        serde_json::json!({ "sso": null, "password": true })
    );

    let off = spawn_app_with(|c| {
        c.auth.password_sign_in = false;
        c.auth.oidc = Some(sso_at("http://127.0.0.1:9"));
    })
    .await;
    off.add_user("pat").await;
    let visitor = browser();
    let answer = visitor
        .post(off.url("/auth/signin"))
        .header(ORIGIN, off.url(""))
        .form(&[("username", "pat"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer
        .text()
        .await
        .expect("html")
        .contains("Password sign-in is off"));
    let status = visitor
        .get(off.url("/api/auth/github/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(
        status.status(),
        StatusCode::UNAUTHORIZED,
        "nobody signed in"
    );
    let options = sign_in_options(&off).await;
    assert_eq!(
        options,
        serde_json::json!({ "sso": "Corp SSO", "password": false })
    );
    let page = page_html(&browser(), &off.url("/signin")).await;
    assert!(page.contains("Sign in with Corp SSO"), "{page}");
    assert!(!page.contains("name=\"password\""), "no password form");
}

#[tokio::test]
async fn a_callback_that_this_browser_did_not_start_signs_nobody_in() {
    let app = spawn_app_with(|c| c.auth.oidc = Some(sso_at("http://127.0.0.1:9"))).await;
    // The provider cannot be reached: a page says so, nothing else happens.
    let start = browser()
        .get(app.url("/auth/sso"))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), StatusCode::BAD_GATEWAY);
    let visitor = browser();
    let forged = visitor
        .get(app.url("/auth/sso/callback?code=stolen&state=guessed"))
        .send()
        .await
        .expect("callback");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged
        .text()
        .await
        .expect("html")
        .contains("You were not signed in"));
    let status = visitor
        .get(app.url("/api/auth/github/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(status.status(), StatusCode::UNAUTHORIZED);
    assert!(app
        .audit_kinds()
        .await
        .iter()
        .any(|(k, o, r)| k == "auth.sign_in"
            && o != "success"
            && r.as_deref() == Some("sso_invalid_state")));
    assert!(
        !logs().contains("s3cret"),
        "the client secret is never logged"
    );
}
