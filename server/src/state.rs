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

#[derive(Clone, FromRef)]
pub struct AppState {
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

impl Deref for AppState {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}
