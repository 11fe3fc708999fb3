//! A provider that misbehaves: HTML, garbage, an empty token, an error with HTTP 200, a 500,
//! a redirect, silence. The flow fails with a fixed message, nothing partial is stored, the
//! audit log says why, and nothing of the provider's answer reaches the page.

use crate::helpers::*;
use server::sandbox::Fault;
use std::time::Duration;

const TOKEN_PATH: &str = "/github/login/oauth/access_token";

async fn failed_connect(app: &TestApp, path: &str, fault: Fault) -> String {
    let authorize = app.start_connect(&app.client).await;
    let callback = app.consent(&authorize, "faulty", "allow").await;
    app.sandbox.inject(path, fault);
    let response = app.client.get(callback).send().await.expect("callback");
    location(&response)
}

#[tokio::test]
async fn a_misbehaving_token_endpoint_fails_the_flow_cleanly() {
    let app = spawn_app().await;
    app.signed_in("rita").await;
    let faults = [
        Fault::Html,
        Fault::Garbage,
        Fault::EmptyToken,
        Fault::ErrorWith200,
        Fault::ServerError,
        Fault::Redirect,
    ];
    for fault in faults {
        let target = failed_connect(&app, TOKEN_PATH, fault).await;
        assert_eq!(
            target, "/connections?error=exchange_failed&service=github",
            "{fault:?}"
        );
        assert_eq!(
            app.count("connections").await,
            0,
            "{fault:?}: nothing stored"
        );
    }
    let page = app
        .get("/connections?error=exchange_failed&service=github")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("GitHub did not accept the sign-in. Nothing was stored"));
    assert!(
        !page.contains("<script>x") && !page.contains("Oops"),
        "no provider text"
    );
    let failures = app
        .audit_kinds()
        .await
        .into_iter()
        .filter(|(k, _, r)| {
            k == "connection.connect_failed" && r.as_deref() == Some("exchange_failed")
        })
        .count();
    assert_eq!(failures, faults.len());
    assert!(
        !logs().contains("<script>x"),
        "the provider's text is not logged either"
    );
}

#[tokio::test]
async fn a_failing_identity_call_stores_nothing() {
    let app = spawn_app().await;
    app.signed_in("sam").await;
    let target = failed_connect(&app, "/github/user", Fault::ServerError).await;
    assert_eq!(target, "/connections?error=identity_failed&service=github");
    assert_eq!(app.count("connections").await, 0);
}

#[tokio::test]
async fn a_silent_token_endpoint_times_out_instead_of_hanging() {
    let app = spawn_app().await;
    app.signed_in("tess").await;
    let started = std::time::Instant::now();
    let target = failed_connect(&app, TOKEN_PATH, Fault::Slow(Duration::from_secs(30))).await;
    assert_eq!(target, "/connections?error=exchange_failed&service=github");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the client's timeout ended it"
    );
    assert_eq!(app.count("connections").await, 0);
}
