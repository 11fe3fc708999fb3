//! The domain: connect flows, tokens, connections, users, key rotation and the read models of
//! the dashboards. It imports `base` and never HTTP, jobs or the application state: each
//! function takes the narrow [`Ctx`] (database, vault, HTTP client, catalogue, clock). See
//! docs/architecture.md.

#![warn(missing_docs)]

pub mod api_keys;
pub mod audit_chain;
pub mod audit_log;
pub mod backups;
pub mod connections;
pub mod disconnect;
pub mod health;
pub mod import;
pub mod oauth;
pub mod overview;
pub mod platform_users;
pub mod provider_settings;
pub mod proxy;
pub mod rotation;
pub mod sso;
pub mod tokens;
pub mod users;

use crate::base::clock::Clock;
use crate::base::providers::Catalog;
use crate::base::vault::Keyring;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What the domain works with, and nothing more.
#[derive(Clone)]
pub struct Ctx {
    /// The one database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Seals and opens every secret at rest.
    pub vault: Arc<Keyring>,
    /// The one HTTP client for provider calls (no redirects, bounded time).
    pub http: reqwest::Client,
    /// The providers this hub offers, resolved from configuration.
    pub catalog: Arc<Catalog>,
    /// The current time (tests move it).
    pub clock: Clock,
    /// The public URL the providers send people back to.
    pub public_url: url::Url,
    /// Single-flight refresh locks of this process, and its name on leases.
    pub refresh_locks: Arc<tokens::RefreshLocks>,
    /// Each provider's reachability and health summary, as this process last saw them.
    pub probes: Arc<health::Probes>,
    /// Appends audit events that need no transaction of their own, by group commit.
    pub audit: crate::base::store::audit::Writer,
    /// Rows read on nearly every request, kept in memory briefly (`base::hot`).
    pub hot: Arc<crate::base::hot::HotRows>,
}

impl Ctx {
    /// The one redirect URI for a service: derived from the public URL, never from a request.
    pub fn redirect_uri(&self, service: &str) -> String {
        crate::base::config::redirect_uri(&self.public_url, service)
    }
}
