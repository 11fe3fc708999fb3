//! `kill -9` in the middle of a refresh, then a restart: the connection still works. The hub
//! runs here as a real `atom serve` process on the test's database, key and sandbox.

use crate::helpers::*;
use reqwest::StatusCode;
use server::sandbox::Fault;
use std::time::Duration;

/// A running `atom serve`; killed (SIGKILL) when dropped.
struct Hub(std::process::Child);

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_hub(app: &TestApp, port: u16) -> Hub {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_atom"))
        .arg("serve")
        .env_clear()
        .env("ATOM_LOG", "error")
        .env("ATOM_DATABASE__URL", app.db_url())
        .env("ATOM_VAULT__KEY", &app.key)
        .env("ATOM_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("ATOM_SERVER__PUBLIC_URL", &app.base)
        .env("ATOM_SANDBOX__PUBLIC_URL", app.sandbox_url())
        .env("ATOM_SANDBOX__EMBEDDED", "false")
        .env("ATOM_JOBS__REFRESH_INTERVAL_SECONDS", "3600")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("atom serve starts");
    let hub = Hub(child);
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            return hub;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("atom serve did not come up");
}

#[tokio::test]
async fn a_hub_killed_mid_refresh_restarts_and_the_connection_still_works() {
    let app = spawn_app_with(|c| c.jobs.refresh_interval_seconds = 3600).await;
    app.signed_in("kim").await;
    app.connect("outlook", "sandbox-user").await;
    let kim = app.user_id("kim").await;
    let key = app.api_key(&["tokens:read"]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}/api/v1/users/{kim}/connections/outlook/token");
    let fetch = |url: String, key: String| async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(key)
            .send()
            .await
    };
    let before = app.sandbox.issued_access_tokens();

    let hub = start_hub(&app, port).await;
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    app.sandbox.inject(
        "/microsoft/common/oauth2/v2.0/token",
        Fault::Hang(Duration::from_secs(20)),
    );
    let pending = tokio::spawn(fetch(url.clone(), key.clone()));
    for _ in 0..50 {
        if app.count("connection_leases").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.count("connection_leases").await,
        1,
        "the refresh is in flight"
    );
    drop(hub); // SIGKILL, mid-refresh
    assert!(
        pending.await.expect("task").is_err(),
        "the caller saw the hub die"
    );

    let _hub = start_hub(&app, port).await;
    // The dead process's lease runs out (30 s); callers get 503 meanwhile, then a token.
    let mut answer = None;
    for _ in 0..60 {
        let response = fetch(url.clone(), key.clone()).await.expect("api");
        if response.status() == StatusCode::OK {
            answer = Some(response.json::<serde_json::Value>().await.expect("json"));
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let answer = answer.expect("a token after the restart");
    let token = answer["access_token"].as_str().expect("token");
    assert!(!before.iter().any(|t| t == token), "a refreshed token");
    // The refresh token stored by the restarted hub is the provider's current one.
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    let again = fetch(url.clone(), key.clone()).await.expect("api");
    assert_eq!(again.status(), StatusCode::OK, "and it refreshes again");
    let (_, status) = app.get_json("/api/auth/outlook/status").await;
    assert_eq!(status["status"], "connected");
}
