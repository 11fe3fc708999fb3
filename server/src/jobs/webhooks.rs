//! Webhook delivery from the outbox: every configured endpoint gets each connection event
//! once it answers 2xx; failures are retried with exponential backoff and jitter (up to an
//! hour between tries, 20 tries). Each request carries `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`.

use crate::base::config::WebhookEndpoint;
use crate::base::store::webhooks::{self, Model};
use crate::state::AppState;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

const MAX_ATTEMPTS: i32 = 20;

/// The signature header's value for this delivery.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// The JSON a receiver gets: what happened to whose connection, never a token.
pub fn body(row: &Model) -> String {
    serde_json::json!({
        "id": row.id,
        "type": row.kind,
        "timestamp": row.occurred_at.to_rfc3339(),
        "data": {
            "user_id": row.user_id, "service": row.provider,
            "connection_id": row.connection_id, "reason": row.reason,
        },
    })
    .to_string()
}

pub async fn deliver_due(state: &AppState) {
    if state.config.webhooks.is_empty() {
        // Nobody to tell: the rows are kept for the cleanup, undelivered.
        return;
    }
    let rows = match webhooks::due(&state.db, 50, state.clock.now()).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "reading the webhook outbox failed");
            return;
        }
    };
    for row in rows {
        if let Err(e) = deliver(state, row).await {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
    }
}

async fn deliver(state: &AppState, row: Model) -> Result<(), sea_orm::DbErr> {
    // Held for a minute: another instance skips it meanwhile.
    if !webhooks::claim(
        &state.db,
        &row,
        chrono::Duration::seconds(60),
        state.clock.now(),
    )
    .await?
    {
        return Ok(());
    }
    let mut delivered: Vec<String> = row
        .delivered_to
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut last_error = None;
    for (name, endpoint) in &state.config.webhooks {
        if delivered.contains(name) {
            continue;
        }
        match send(state, endpoint, &row).await {
            Ok(()) => delivered.push(name.clone()),
            Err(code) => {
                tracing::warn!(endpoint = %name, error = %code, kind = %row.kind, "webhook not delivered");
                last_error = Some(code);
            }
        }
    }
    let attempts = row.attempts + 1;
    let done = last_error.is_none() || attempts >= MAX_ATTEMPTS;
    let outcome = match (&last_error, done) {
        (None, _) => "delivered",
        (Some(_), true) => "gave_up",
        (Some(_), false) => "retrying",
    };
    metrics::counter!("atom_webhook_deliveries_total", "outcome" => outcome).increment(1);
    let next = state.clock.now() + backoff(state.config.jobs.webhook_interval_seconds, attempts);
    webhooks::record(
        &state.db,
        &row.id,
        &delivered.join(" "),
        done,
        attempts,
        next,
        last_error,
    )
    .await
}

/// `base · 2^(attempts-1)` seconds, capped at an hour, give or take a fifth.
fn backoff(base: u64, attempts: i32) -> chrono::Duration {
    use rand::Rng;
    let exponent = (attempts - 1).clamp(0, 20) as u32;
    let seconds = (base.max(1) as f64 * 2f64.powi(exponent as i32)).min(3600.0);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    chrono::Duration::milliseconds((seconds * jitter * 1000.0) as i64)
}

/// One POST; Err carries our own short code for the failure.
async fn send(state: &AppState, endpoint: &WebhookEndpoint, row: &Model) -> Result<(), String> {
    let body = body(row);
    let timestamp = state.clock.now().timestamp();
    let signed = signature(endpoint.secret.expose_secret(), &row.id, timestamp, &body);
    let response = state
        .http
        .post(endpoint.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", &row.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(body)
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("http_{}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(e) if e.is_connect() => Err("connect".into()),
        Err(_) => Err("network".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_from_the_interval_and_stops_at_an_hour() {
        let secs = |attempts| super::backoff(5, attempts).num_milliseconds() as f64 / 1000.0;
        assert!((4.0..=6.0).contains(&secs(1)));
        assert!((8.0..=12.0).contains(&secs(2)));
        assert!((2880.0..=4320.0).contains(&secs(15)));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_id_timestamp_and_body() {
        // Computed independently: printf 'msg_1.1700000000.{"a":1}' |
        //   openssl dgst -sha256 -hmac secret -binary | base64
        let expected = "v1,Q5nZ7DiOGwijBBqvBVAK6c0zDr2JLkXI7TaV4f+Q2vY=";
        assert_eq!(
            super::signature("secret", "msg_1", 1_700_000_000, r#"{"a":1}"#),
            expected
        );
    }
}
