//! What every answer passes through, in one middleware: each `from_fn` layer costs a boxed
//! service and a boxed future on every request, and the five that were here were a good part
//! of a status call's allocations (issue 19's profile). In order: the request is counted and
//! timed (`metrics::Tracked`), a non-GET request must come from the hub's own pages
//! (`guard::check_origin`), a request that may have changed something drops the copies kept
//! in memory and wakes the live-update reader, every answer gets the security headers
//! (`guard::secure`), a connect flow's authorize and callback say how long the hub took, and
//! an answer closes its connection while the instance drains.

use super::{guard, metrics::Tracked};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

pub async fn edge(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let tracked = Tracked::start(&request);
    let path = request.uri().path();
    // Answers with data (the APIs and the server functions) are never cached.
    let api = path.starts_with("/api/") || path.starts_with("/rpc/");
    let changes = Changes::of(&request);
    let mut response = match guard::check_origin(&state, request).await {
        Ok(request) => {
            let response = next.run(request).await;
            changes.apply(&state);
            response
        }
        Err(refused) => refused.into_response(),
    };
    guard::secure(&state, api, response.headers_mut());
    if tracked.is_connect_leg() {
        // The hub's whole time on a connect flow's authorize or callback, from here (W3C
        // Server Timing, beside the callback's `provider`): issue 19's benchmark tells the
        // hub's own share from the time its client and the loopback add.
        server_timing(response.headers_mut(), "hub", tracked.elapsed());
    }
    // While the instance drains before stopping, a proxy's kept-alive connection cannot carry
    // the next request to an instance about to go away.
    if state.draining.load(Ordering::SeqCst) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    tracked.finish(response.status());
    response
}

/// Adds a W3C Server Timing metric (`name;dur=<ms>`) to the answer's headers.
pub fn server_timing(headers: &mut HeaderMap, name: &str, took: std::time::Duration) {
    let metric = format!("{name};dur={:.2}", took.as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&metric) {
        headers.append("server-timing", value);
    }
}

/// What a request may have changed, known before it runs.
enum Changes {
    Nothing,
    /// A connect flow's callback: it drops the copy of the connection it writes itself
    /// (`HotRows::forget_connections`) and writes nothing else that is kept.
    Connection,
    /// Anything but GET, HEAD and OPTIONS; another callback (single sign-on).
    Anything,
}

impl Changes {
    fn of(request: &Request) -> Self {
        let path = request.uri().path();
        let reads = matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        match (reads, path.ends_with("/callback")) {
            (true, false) => Self::Nothing,
            (true, true) if path.starts_with("/api/auth/") => Self::Connection,
            _ => Self::Anything,
        }
    }

    /// After the request: this instance's live-update reader reads at once, so the change
    /// reaches open pages without waiting for the next poll; after `Anything`, the users, API
    /// keys, connections and provider switches kept in memory are dropped too, so a password,
    /// role or disabled change, a key's revocation or a disconnect applies to this instance's
    /// very next request.
    fn apply(self, state: &AppState) {
        if let Self::Anything = self {
            state.hot.connections.forget_all();
            state.hot.users.forget_all();
            state.hot.api_keys.forget_all();
            state.hot.providers_enabled.forget_all();
        }
        if !matches!(self, Self::Nothing) {
            state.events.wake();
        }
    }
}
