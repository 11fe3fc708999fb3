//! A hostile authorization server (the sandbox's `/hostile`): markup in every string it sends,
//! a redirect on the token endpoint, huge, trickling, truncated and non-JSON token answers, an
//! absurd lifetime. The hub stores, follows and shows none of it as it came (docs/security.md,
//! round two). Playwright checks the same provider in a browser (end2end/tests/hostile.spec.ts).

use crate::helpers::*;
use reqwest::StatusCode;
use secrecy::SecretString;
use server::base::config::Config;
use server::sandbox::hostile::{SCRIPT_DESCRIPTION, SCRIPT_EMAIL, SCRIPT_NAME, SCRIPT_URI};

fn hostile(config: &mut Config) {
    let base = config.sandbox.public_url.clone();
    let url = |path: &str| Some(base.join(path).expect("url"));
    let p = provider(config, "hostile");
    p.kind = Some("oauth2".into());
    p.display_name = Some("Hostile".into());
    p.authorize_url = url("hostile/authorize");
    p.token_url = url("hostile/token");
    p.userinfo_url = url("hostile/userinfo");
    p.client_id = Some("hostile-client".into());
    p.client_secret = Some(SecretString::from("hostile-secret"));
}

/// Connects through the hostile server with one of its behaviours; the hub's last redirect.
async fn connect_with(app: &TestApp, behaviour: &str) -> String {
    let authorize = app.start_connect_to(&app.client, "hostile").await;
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("behaviour".into(), behaviour.into()));
    let mut target = authorize.clone();
    target.set_query(None);
    let decided = app
        .client
        .post(target)
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(decided.status(), StatusCode::SEE_OTHER, "{behaviour}");
    let back = app
        .client
        .get(location(&decided))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::SEE_OTHER, "{behaviour}");
    location(&back)
}

fn assert_no_markup(text: &str, what: &str) {
    for hostile in [
        SCRIPT_NAME,
        SCRIPT_EMAIL,
        SCRIPT_DESCRIPTION,
        SCRIPT_URI,
        "<svg onload",
    ] {
        assert!(
            !text.contains(hostile),
            "{what} holds {hostile:?} as it came"
        );
    }
}

#[tokio::test]
async fn a_hostile_token_endpoint_gets_nothing_stored_and_nothing_followed() {
    let app = spawn_app_with(hostile).await;
    app.signed_in("mallory").await;
    // "trickle" sends a byte a second for ever: the hub's 15 s bound ends it.
    for behaviour in ["redirect", "huge", "truncated", "not_json", "trickle"] {
        let started = std::time::Instant::now();
        let target = connect_with(&app, behaviour).await;
        assert_eq!(
            target, "/connections?error=exchange_failed&service=hostile",
            "{behaviour}"
        );
        assert!(started.elapsed().as_secs() < 20, "{behaviour} was cut off");
        assert_eq!(
            app.count("connections").await,
            0,
            "{behaviour}: nothing stored"
        );
    }
    assert_eq!(app.sandbox.trap_hits(), 0, "the 307 was not followed");
    let page = app
        .get("/connections?error=exchange_failed&service=hostile")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("Hostile did not accept the sign-in. Nothing was stored"));
    assert_no_markup(&page, "the page");
    assert_no_markup(&logs(), "the log");
}

#[tokio::test]
async fn a_hostile_refusal_is_neither_shown_nor_followed() {
    let app = spawn_app_with(hostile).await;
    app.signed_in("mallory").await;
    let denied = connect_with(&app, "deny").await;
    assert_eq!(denied, "/connections?error=access_denied&service=hostile");
    let odd = connect_with(&app, "error_markup").await;
    assert_eq!(odd, "/connections?error=provider_error&service=hostile");
    for target in [denied, odd] {
        let page = app.get(&target).await.text().await.expect("html");
        assert_no_markup(&page, &target);
        assert!(
            !page.contains("javascript:"),
            "{target}: the error_uri is not linked"
        );
    }
    assert_eq!(app.count("connections").await, 0);
    // The audit log keeps the provider's error only in its code shape.
    let reasons: Vec<_> = app
        .audit_kinds()
        .await
        .into_iter()
        .map(|(_, _, r)| r)
        .collect();
    for reason in reasons.iter().flatten() {
        assert!(
            reason
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.".contains(&b)),
            "audit reason {reason:?}"
        );
    }
    assert_no_markup(&logs(), "the log");
}

#[tokio::test]
async fn a_hostile_account_name_is_stored_and_shown_as_text() {
    let app = admin_app_with(hostile).await;
    assert_eq!(
        connect_with(&app, "identity").await,
        "/connections?connected=hostile"
    );
    // The API hands the name back exactly as the provider sent it (JSON is not HTML).
    let listed = app.connections_of(&app.user_id("ada").await).await;
    assert_eq!(listed["connections"][0]["account"]["name"], SCRIPT_NAME);
    // Every page that shows it shows text: the markup arrives escaped, never as tags.
    for path in ["/connections", "/admin", "/admin/audit"] {
        let page = app.get(path).await.text().await.expect("html");
        assert_no_markup(&page, path);
    }
    let connections = app.get("/connections").await.text().await.expect("html");
    assert!(
        connections.contains("&lt;img src=x onerror="),
        "the name is on the card, escaped"
    );
}

#[tokio::test]
async fn an_absurd_lifetime_is_not_believed() {
    let app = spawn_app_with(hostile).await;
    app.signed_in("mallory").await;
    assert_eq!(
        connect_with(&app, "absurd_expiry").await,
        "/connections?connected=hostile"
    );
    let listed = app.connections_of(&app.user_id("mallory").await).await;
    let expires: chrono::DateTime<chrono::Utc> = listed["connections"][0]["expires_at"]
        .as_str()
        .expect("an expiry the hub chose")
        .parse()
        .expect("RFC 3339");
    let days = (expires - app.clock.now()).num_days();
    assert!(
        (0..=1).contains(&days),
        "10^20 s taken as the default hour, not {days} days"
    );
}
