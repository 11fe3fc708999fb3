//! The one application state, assembled once in `lib.rs` and shared by routes, middleware,
//! jobs and (through the Hub) server functions. The domain never sees it: it gets the
//! [`Ctx`] inside (`&state` coerces to `&Ctx`).

use crate::base::config::Config;
use crate::domain::Ctx;
use crate::events::Events;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::ops::Deref;
use std::sync::Arc;

/// Cloned by every extractor and middleware of every request: one reference count to bump
/// (a dozen before, about 7 % of the CPU of a status request; BENCHMARKS.md, Profile).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    pub ctx: Ctx,
    pub leptos: LeptosOptions,
    pub config: Arc<Config>,
    pub events: Events,
    pub limits: Arc<crate::http::limits::Limits>,
    /// Calls through the hub to the providers' APIs: their client and limits.
    pub proxy: Arc<crate::domain::proxy::Proxy>,
    /// Cancelled when the server stops: background jobs end with it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Set on SIGTERM, for `server.drain_seconds` before the listener closes: `/readyz`
    /// answers 503 and every answer closes its connection, so proxies move to other instances.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Deref for Inner {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
