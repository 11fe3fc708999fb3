//! Prometheus metrics at /metrics (or on `server.metrics_listen`): HTTP requests by route
//! template and status with latency, connect flows by provider and outcome, refreshes by
//! provider and outcome, connections by provider and state, provider reachability. No secrets
//! and no user ids in labels.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process's one recorder (metrics are process-wide by nature; every app in this
/// process, tests included, reports into it).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Installs the recorder and its upkeep (once per process).
pub fn install() {
    let Some(handle) = handle() else {
        tracing::warn!("metrics recorder unavailable: /metrics will be empty");
        return;
    };
    // Histogram samples wait in a queue until someone drains them: a scrape does, but a hub
    // nobody scrapes grew by every request's latency sample (2.3 MiB a minute in the soak).
    // `install_recorder` leaves the draining to us; a plain thread needs no runtime.
    static UPKEEP: std::sync::Once = std::sync::Once::new();
    UPKEEP.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                handle.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "metrics upkeep thread did not start");
        }
    });
}

/// `GET /metrics` in the Prometheus text format; the connection counts are read at scrape.
pub async fn render(State(state): State<AppState>) -> Response {
    match crate::store::connections::count_by_status(&state.db).await {
        Ok(counts) => {
            // A state that emptied still reports 0, not its last count.
            for provider in state.catalog.all() {
                for status in ["connected", "needs_reauth"] {
                    metrics::gauge!("atom_connections", "provider" => provider.service.clone(), "state" => status)
                        .set(0.0);
                }
            }
            for (provider, status, n) in counts {
                metrics::gauge!("atom_connections", "provider" => provider, "state" => status)
                    .set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "counting connections for metrics failed"),
    }
    let body = handle().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Counts and times every request by method, route template and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("atom_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("atom_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A connect flow started, completed or failed (with our fixed reason code).
pub fn flow(provider: &str, outcome: &'static str, reason: &str) {
    metrics::counter!(
        "atom_connect_flows_total",
        "provider" => provider.to_string(),
        "outcome" => outcome,
        "reason" => reason.to_string()
    )
    .increment(1);
}

/// A connect flow completed: the seconds from Connect to connected (the person's consent
/// included).
pub fn flow_duration(provider: &str, started: chrono::DateTime<chrono::Utc>) {
    let seconds = (chrono::Utc::now() - started).num_milliseconds().max(0) as f64 / 1000.0;
    metrics::histogram!("atom_connect_flow_duration_seconds", "provider" => provider.to_string())
        .record(seconds);
}

/// A refresh succeeded, failed transiently, or found the grant dead.
pub fn refresh(provider: &str, outcome: &'static str) {
    metrics::counter!("atom_token_refreshes_total", "provider" => provider.to_string(), "outcome" => outcome)
        .increment(1);
}

/// The last reachability probe of a provider: 1 reachable, 0 not.
pub fn provider_up(provider: &str, reachable: bool) {
    metrics::gauge!("atom_provider_up", "provider" => provider.to_string()).set(if reachable {
        1.0
    } else {
        0.0
    });
}

/// `/metrics` alone, for `server.metrics_listen` (a port only Prometheus can reach).
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .with_state(state)
}
