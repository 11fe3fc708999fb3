//! The Hub the UI's server functions call: read models for the screens, never a secret.

use crate::state::AppState;
use crate::store;
use app::hub::{Hub, HubError};
use app::model::{ConnectionCard, ConnectionState, ConnectionsView, CurrentUser};

pub struct ServerHub {
    state: AppState,
}

impl ServerHub {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// How a stored connection looks to its user right now.
pub fn connection_state(row: Option<&store::connections::Model>) -> ConnectionState {
    match row {
        None => ConnectionState::NotConnected,
        Some(c) if c.status == store::connections::CONNECTED => match c.expires_at {
            Some(at) if at <= chrono::Utc::now() => ConnectionState::Expired,
            _ => ConnectionState::Connected,
        },
        Some(_) => ConnectionState::NeedsReauth,
    }
}

#[async_trait::async_trait]
impl Hub for ServerHub {
    async fn connections(&self, user: &CurrentUser) -> Result<ConnectionsView, HubError> {
        let rows = store::connections::for_user(&self.state.db, &user.id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing connections failed");
                HubError::Unavailable("Your connections could not be loaded. Try again.".into())
            })?;
        let cards = self
            .state
            .catalog
            .all()
            .map(|provider| {
                let row = rows.iter().find(|r| r.provider == provider.service);
                ConnectionCard {
                    service: provider.service.clone(),
                    display_name: provider.display_name.clone(),
                    sandbox: provider.sandbox,
                    state: connection_state(row),
                    account: row.map(|r| r.account_name.clone()),
                    scopes: row
                        .map(|r| {
                            r.granted_scopes
                                .split(' ')
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    connected_at: row.map(|r| r.created_at.to_rfc3339()),
                }
            })
            .collect();
        Ok(ConnectionsView {
            user: user.clone(),
            cards,
        })
    }
}
