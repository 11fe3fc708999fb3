//! The Hub the UI's server functions call: read models for the screens, never a secret.

use crate::base::{providers, store};
use crate::domain::connections::{connection_state, missing_scopes, split_scopes};
use crate::state::AppState;
use app::hub::Hub;
use app::model::admin::{ApiKeyRow, AuditFilter, AuditPage, ProviderRow, UserRow};
use app::model::error::{AppError, Loadable};
use app::model::overview::{Overview, Window};
use app::model::{ConnectionCard, ConnectionsView, CurrentUser, OtherAccount};

pub struct ServerHub {
    state: AppState,
}

impl ServerHub {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[async_trait::async_trait]
impl Hub for ServerHub {
    async fn connections(&self, user: &CurrentUser) -> Result<ConnectionsView, AppError> {
        let rows = store::connections::for_user(&self.state.db, &user.id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing connections failed");
                AppError::Unavailable(Loadable::Connections)
            })?;
        let disabled = store::provider_settings::disabled(&self.state.db)
            .await
            .map_err(unavailable(Loadable::Connections))?;
        let cards = self
            .state
            .catalog
            .all()
            .filter_map(|provider| {
                let mut mine = rows.iter().filter(|r| r.provider == provider.service);
                let row = mine.next();
                let now = self.state.clock.now();
                let others = mine
                    .map(|r| OtherAccount {
                        connection_id: r.id.clone(),
                        label: r.label.clone(),
                        state: connection_state(Some(r), now),
                        account: Some(r.account_name.clone()).filter(|n| !n.is_empty()),
                        connected_at: minute(r.created_at),
                    })
                    .collect();
                let enabled = !disabled.contains(&provider.service);
                if !enabled && row.is_none() {
                    return None;
                }
                Some(ConnectionCard {
                    service: provider.service.clone(),
                    display_name: provider.display_name.clone(),
                    sandbox: provider.sandbox,
                    state: connection_state(row, self.state.clock.now()),
                    account: row
                        .map(|r| r.account_name.clone())
                        .filter(|name| !name.is_empty()),
                    requested_scopes: provider.scopes.clone(),
                    scopes: row
                        .map(|r| split_scopes(&r.granted_scopes))
                        .unwrap_or_default(),
                    missing_scopes: row
                        .map(|r| {
                            missing_scopes(&r.requested_scopes, &r.granted_scopes)
                                .into_iter()
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    connected_at: row.map(|r| minute(r.created_at)),
                    refreshed_at: row.and_then(|r| r.last_refreshed_at).map(minute),
                    logo: providers::logo(&provider.service),
                    enabled,
                    connection_id: row.map(|r| r.id.clone()),
                    label: row.and_then(|r| r.label.clone()),
                    others,
                })
            })
            .collect();
        Ok(ConnectionsView {
            user: user.clone(),
            cards,
        })
    }

    async fn users(&self, admin: &CurrentUser) -> Result<Vec<UserRow>, AppError> {
        let rows = store::users::list(&self.state.db)
            .await
            .map_err(unavailable(Loadable::Users))?;
        Ok(rows
            .into_iter()
            .map(|u| UserRow {
                is_me: u.id == admin.id,
                role: u.role(),
                created_at: minute(u.created_at),
                id: u.id,
                username: u.username,
                disabled: u.disabled,
            })
            .collect())
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, AppError> {
        let rows = store::api_keys::list(&self.state.db)
            .await
            .map_err(unavailable(Loadable::ApiKeys))?;
        Ok(rows
            .into_iter()
            .map(|k| ApiKeyRow {
                scopes: split_scopes(&k.scopes),
                created_at: minute(k.created_at),
                last_used_at: k.last_used_at.map(minute),
                revoked: k.revoked_at.is_some(),
                id: k.id,
                name: k.name,
                prefix: k.prefix,
            })
            .collect())
    }

    async fn audit(&self, filter: AuditFilter) -> Result<AuditPage, AppError> {
        let db = &self.state.db;
        let search = match crate::domain::audit_log::search(db, &filter).await {
            Ok(Some(search)) => search,
            Ok(None) => {
                return Ok(AuditPage {
                    rows: Vec::new(),
                    older: None,
                })
            }
            Err(crate::domain::audit_log::FilterError::BadDate) => return Err(AppError::BadDate),
            Err(crate::domain::audit_log::FilterError::Db(e)) => {
                return Err(unavailable(Loadable::AuditLog)(e))
            }
        };
        let mut events = store::audit::search(db, &search, AUDIT_PAGE + 1)
            .await
            .map_err(unavailable(Loadable::AuditLog))?;
        let more = events.len() as u64 > AUDIT_PAGE;
        events.truncate(AUDIT_PAGE as usize);
        let older = more.then(|| events.last().map(|e| e.seq)).flatten();
        let rows = crate::domain::audit_log::rows(db, events)
            .await
            .map_err(unavailable(Loadable::AuditLog))?;
        Ok(AuditPage { rows, older })
    }

    async fn providers(&self) -> Result<Vec<ProviderRow>, AppError> {
        let state = &self.state;
        let disabled = store::provider_settings::disabled(&state.db)
            .await
            .map_err(unavailable(Loadable::Providers))?;
        let mut rows = Vec::new();
        for service in state.catalog.names() {
            let redirect_uri = state.config.redirect_uri(&service);
            let (enabled, logo) = (!disabled.contains(&service), providers::logo(&service));
            let Some(provider) = state.catalog.get(&service) else {
                rows.push(ProviderRow {
                    display_name: service.clone(),
                    service,
                    configured: false,
                    sandbox: false,
                    redirect_uri,
                    status: "not_configured".into(),
                    latency_ms: None,
                    probe_error: None,
                    flows_succeeded_24h: 0,
                    flows_failed_24h: 0,
                    last_failure_reason: None,
                    enabled,
                    logo,
                });
                continue;
            };
            let health = crate::domain::health::of(state, &service)
                .await
                .map_err(unavailable(Loadable::Providers))?;
            rows.push(ProviderRow {
                service,
                display_name: provider.display_name.clone(),
                configured: true,
                sandbox: provider.sandbox,
                redirect_uri,
                status: health.status.into(),
                latency_ms: health.reachability.as_ref().map(|p| p.latency_ms),
                probe_error: health
                    .reachability
                    .and_then(|p| p.error.map(str::to_string)),
                flows_succeeded_24h: health.flows_24h.succeeded,
                flows_failed_24h: health.flows_24h.failed,
                last_failure_reason: health.flows_24h.last_failure_reason,
                enabled,
                logo,
            });
        }
        Ok(rows)
    }

    async fn overview(&self, window: Window) -> Result<Overview, AppError> {
        crate::domain::overview::build(&self.state, window)
            .await
            .map_err(unavailable(Loadable::Overview))
    }

    async fn sign_in_options(&self) -> Result<app::model::SignInOptions, AppError> {
        Ok(app::model::SignInOptions {
            sso: self.state.catalog.sign_in().map(|p| p.display_name.clone()),
            password: self.state.config.auth.password_sign_in,
        })
    }
}

/// Events per page in the audit viewer.
const AUDIT_PAGE: u64 = 50;

/// A time as people read it in a table: to the minute, UTC.
fn minute(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// Logs the cause; the user sees only which thing could not be loaded.
fn unavailable(what: Loadable) -> impl Fn(sea_orm::DbErr) -> AppError {
    move |e| {
        tracing::error!(error = %e, ?what, "could not be loaded");
        AppError::Unavailable(what)
    }
}
