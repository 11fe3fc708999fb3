//! The one application state, shared by routes, middleware and (through the Hub) server functions.

use crate::config::Config;
use crate::events::Events;
use crate::providers::Catalog;
use crate::vault::Keyring;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub vault: Arc<Keyring>,
    pub catalog: Arc<Catalog>,
    pub http: reqwest::Client,
    pub events: Events,
    pub limits: Arc<crate::http::limits::Limits>,
    pub refresh_locks: Arc<crate::tokens::RefreshLocks>,
    pub probes: Arc<crate::jobs::probe::Probes>,
    pub backoff: Arc<crate::jobs::refresher::Backoff>,
}
