//! Prometheus metrics at /metrics (or on `server.metrics_listen`): HTTP requests by route
//! template and status with latency, plus what `base::metrics` records; connections by
//! provider and state are counted at scrape.

use crate::base::metrics::handle;
use crate::state::AppState;
use app::model::ConnectionState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// `GET /metrics` in the Prometheus text format; the connection counts are read at scrape.
pub async fn render(State(state): State<AppState>) -> Response {
    match crate::domain::backups::last_made(&state.db).await {
        Ok(at) => metrics::gauge!("atom_backup_last_success_timestamp_seconds").set(at as f64),
        Err(e) => tracing::warn!(error = %e, "reading the last backup's time for metrics failed"),
    }
    match crate::base::store::connections::count_by_status(&state.db).await {
        Ok(counts) => {
            // A state that emptied still reports 0, not its last count.
            for provider in state.catalog.all() {
                for status in [ConnectionState::Connected, ConnectionState::NeedsReauth] {
                    metrics::gauge!("atom_connections", "provider" => provider.service.clone(), "state" => status.as_str())
                        .set(0.0);
                }
            }
            for (provider, status, n) in counts {
                metrics::gauge!("atom_connections", "provider" => provider, "state" => status.as_str())
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

/// `/metrics` alone, for `server.metrics_listen` (a port only Prometheus can reach).
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .with_state(state)
}
