//! Webhooks: every connection event reaches the configured receiver, signed; a receiver that
//! is down gets the event later.

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use secrecy::SecretString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const SECRET: &str = "a webhook secret of some length";

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    down: Arc<AtomicBool>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    async fn start(down: bool) -> (Self, url::Url) {
        let receiver = Self::default();
        receiver.down.store(down, Ordering::SeqCst);
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.hits.fetch_add(1, Ordering::SeqCst);
                    if state.down.load(Ordering::SeqCst) {
                        return AxumStatus::SERVICE_UNAVAILABLE;
                    }
                    state.got.lock().expect("lock").push((headers, body));
                    AxumStatus::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url.parse().expect("url"))
    }

    /// The events received so far, each checked against its signature, oldest first.
    fn events(&self) -> Vec<serde_json::Value> {
        let got = self.got.lock().expect("lock");
        let mut events: Vec<serde_json::Value> = got
            .iter()
            .map(|(headers, body)| {
                let header = |name: &str| headers[name].to_str().expect("header").to_string();
                let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
                assert_eq!(
                    header("webhook-signature"),
                    expected_signature(&id, &timestamp, body)
                );
                let age =
                    chrono::Utc::now().timestamp() - timestamp.parse::<i64>().expect("unix time");
                assert!((0..60).contains(&age), "a fresh timestamp");
                let event: serde_json::Value = serde_json::from_str(body).expect("json");
                assert_eq!(event["id"], id);
                event
            })
            .collect();
        events.sort_by_key(|e| e["timestamp"].as_str().unwrap_or_default().to_string());
        events
    }

    async fn wait_for(&self, count: usize) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            if self.got.lock().expect("lock").len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.events()
    }
}

/// HMAC-SHA256 computed here, apart from the hub's code.
fn expected_signature(id: &str, timestamp: &str, body: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

async fn app_sending_to(url: url::Url) -> TestApp {
    spawn_app_with(move |c| {
        c.jobs.webhook_interval_seconds = 1;
        let endpoint = server::base::config::WebhookEndpoint {
            url,
            secret: SecretString::from(SECRET),
        };
        c.webhooks.insert("platform".into(), endpoint);
    })
    .await
}

#[tokio::test]
async fn every_connection_event_reaches_the_receiver_signed() {
    let (receiver, url) = Receiver::start(false).await;
    let app = app_sending_to(url).await;
    app.signed_in("wes").await;
    let wes = app.user_id("wes").await;
    app.connect("outlook", "sandbox-user").await;
    let key = app.api_key(&["tokens:read"]).await;
    let token_url = app.url(&format!("/api/v1/users/{wes}/connections/outlook/token"));
    let fetch = || async {
        reqwest::Client::new()
            .get(&token_url)
            .bearer_auth(&key)
            .send()
            .await
            .expect("api")
    };
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    assert_eq!(fetch().await.status(), StatusCode::OK, "refreshed");
    // The user removes the app at Microsoft: the next refresh finds the grant dead.
    let live = app.sandbox.issued_access_tokens();
    assert!(live.iter().any(|t| app.sandbox.revoke_grant(t)));
    app.set_expiry(chrono::Utc::now() - chrono::Duration::minutes(5))
        .await;
    assert_ne!(
        fetch().await.status(),
        StatusCode::OK,
        "needs re-authorization"
    );
    assert_eq!(
        app.post("/api/auth/outlook/disconnect").await.status(),
        StatusCode::OK
    );

    let events = receiver.wait_for(4).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "connection.created",
            "connection.refreshed",
            "connection.needs_reauth",
            "connection.deleted"
        ]
    );
    let connection = events[0]["data"]["connection_id"].clone();
    assert!(
        connection.is_string(),
        "the connection is named: {}",
        events[0]
    );
    for event in &events {
        assert_eq!(event["data"]["user_id"], wes.as_str());
        assert_eq!(event["data"]["service"], "outlook");
        assert_eq!(
            event["data"]["connection_id"], connection,
            "one connection throughout"
        );
    }
    // Each event carries its outcome: why the grant is dead, how the disconnect went.
    assert_eq!(
        events[2]["data"]["reason"], "invalid_grant",
        "{}",
        events[2]
    );
    assert_eq!(
        events[3]["data"]["reason"], "no_revocation_endpoint",
        "{}",
        events[3]
    );
    let everything = format!("{events:?}");
    for token in app.sandbox.issued_access_tokens() {
        assert!(!everything.contains(&token), "no token in a webhook");
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_event_later() {
    let (receiver, url) = Receiver::start(true).await;
    let app = app_sending_to(url).await;
    app.signed_in("dana").await;
    app.connect_github("dana-gh").await;
    for _ in 0..50 {
        if receiver.hits.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        receiver.hits.load(Ordering::SeqCst) >= 2,
        "tried, and tried again"
    );
    assert!(receiver.events().is_empty());
    receiver.down.store(false, Ordering::SeqCst);
    let events = receiver.wait_for(1).await;
    assert_eq!(events.len(), 1, "delivered once it is back, exactly once");
    assert_eq!(events[0]["type"], "connection.created");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(receiver.events().len(), 1, "and not again");
}
