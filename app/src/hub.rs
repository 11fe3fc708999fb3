//! The port the server implements: server functions reach the server's logic only through it.

use crate::model::admin::{ApiKeyRow, AuditFilter, AuditPage, ProviderRow, UserRow};
use crate::model::overview::{Overview, Window};
use crate::model::{ConnectionsView, CurrentUser};

#[derive(Debug, Clone, PartialEq)]
pub enum HubError {
    /// Something failed on the server; the text is safe to show.
    Unavailable(String),
}

impl std::fmt::Display for HubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(text) => f.write_str(text),
        }
    }
}

#[async_trait::async_trait]
pub trait Hub: Send + Sync + 'static {
    async fn connections(&self, user: &CurrentUser) -> Result<ConnectionsView, HubError>;
    /// Every user (admin pages; the caller's role is checked before).
    async fn users(&self, admin: &CurrentUser) -> Result<Vec<UserRow>, HubError>;
    /// Every API key, live and revoked, without the keys themselves.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, HubError>;
    /// One page of the audit log, newest first.
    async fn audit(&self, filter: AuditFilter) -> Result<AuditPage, HubError>;
    /// Every known provider: configuration, the redirect URI, health.
    async fn providers(&self) -> Result<Vec<ProviderRow>, HubError>;
    /// The admin overview's charts and newest events.
    async fn overview(&self, window: Window) -> Result<Overview, HubError>;
}

/// How the server hands the hub to server functions (through Leptos context).
pub type SharedHub = std::sync::Arc<dyn Hub>;
