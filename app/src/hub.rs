//! The port the server implements: server functions reach the server's logic only through it.

use crate::model::admin::{ApiKeyRow, AuditFilter, AuditPage, ProviderRow, UserRow};
use crate::model::error::AppError;
use crate::model::overview::{Overview, Window};
use crate::model::{ConnectionsView, CurrentUser};

#[async_trait::async_trait]
pub trait Hub: Send + Sync + 'static {
    async fn connections(&self, user: &CurrentUser) -> Result<ConnectionsView, AppError>;
    /// Every user (admin pages; the caller's role is checked before).
    async fn users(&self, admin: &CurrentUser) -> Result<Vec<UserRow>, AppError>;
    /// Every API key, live and revoked, without the keys themselves.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, AppError>;
    /// One page of the audit log, newest first.
    async fn audit(&self, filter: AuditFilter) -> Result<AuditPage, AppError>;
    /// Every known provider: configuration, the redirect URI, health.
    async fn providers(&self) -> Result<Vec<ProviderRow>, AppError>;
    /// The admin overview's charts and newest events.
    async fn overview(&self, window: Window) -> Result<Overview, AppError>;
    /// How the sign-in page offers to sign in (public).
    async fn sign_in_options(&self) -> Result<crate::model::SignInOptions, AppError>;
}

/// How the server hands the hub to server functions (through Leptos context).
pub type SharedHub = std::sync::Arc<dyn Hub>;
