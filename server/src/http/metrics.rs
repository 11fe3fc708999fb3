//! Prometheus metrics at /metrics (or on `server.metrics_listen`): HTTP requests by route
//! template and status with latency, plus what `base::metrics` records; connections by
//! provider and state are counted at scrape.

use crate::base::metrics::handle;
use crate::state::AppState;
use app::model::ConnectionState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};
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

/// A request being counted and timed (by `http::edge`): by method, route template and status.
pub struct Tracked {
    route: Option<MatchedPath>,
    method: Method,
    started: Instant,
}

impl Tracked {
    pub fn start(request: &Request) -> Self {
        Self {
            route: request.extensions().get::<MatchedPath>().cloned(),
            method: request.method().clone(),
            started: Instant::now(),
        }
    }

    /// A connect flow's authorize or callback route.
    pub fn is_connect_leg(&self) -> bool {
        self.route.as_ref().is_some_and(|route| {
            matches!(
                route.as_str(),
                "/api/auth/{service}/authorize" | "/api/auth/{service}/callback"
            )
        })
    }

    /// Since the request arrived.
    pub fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    pub fn finish(self, status: StatusCode) {
        let route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let (requests, duration) = handles(route, &self.method, status);
        requests.increment(1);
        duration.record(self.started.elapsed().as_secs_f64());
    }
}

/// The counter and histogram of one route, method and status, registered on first use:
/// building a metric's labels and finding it again cost allocations and hashing on every
/// request (issue 19's profile). Read under a shared lock; written once per new series.
fn handles(route: &str, method: &Method, status: StatusCode) -> (Counter, Histogram) {
    type ByRoute = HashMap<String, HashMap<(&'static str, StatusCode), (Counter, Histogram)>>;
    static HANDLES: LazyLock<RwLock<ByRoute>> = LazyLock::new(RwLock::default);
    let method = method_label(method);
    let found = |all: &ByRoute| {
        all.get(route)
            .and_then(|by| by.get(&(method, status)))
            .cloned()
    };
    if let Some(found) = found(&HANDLES.read().unwrap_or_else(|p| p.into_inner())) {
        return found;
    }
    let mut all = HANDLES.write().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = found(&all) {
        return found;
    }
    let labels = |with_status: bool| {
        let mut labels = vec![("method", method.to_string()), ("route", route.to_string())];
        if with_status {
            labels.push(("status", status.as_str().to_string()));
        }
        labels
    };
    let made = (
        metrics::counter!("atom_http_requests_total", &labels(true)),
        metrics::histogram!("atom_http_request_duration_seconds", &labels(false)),
    );
    all.entry(route.to_string())
        .or_default()
        .insert((method, status), made.clone());
    made
}

/// The method as a label: HTTP's own methods by name, any other token a client sends as
/// `other`, so made-up methods cannot grow the series (and this process's memory) without
/// bound.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// `/metrics` alone, for `server.metrics_listen` (a port only Prometheus can reach).
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .with_state(state)
}
