//! Providers turned on and off by administrators: the setting and its audit event in one
//! transaction. Every instance reads the setting from the database.

use crate::base::audit::{Event, Kind};
use crate::base::store;
use crate::domain::users::Actor;
use sea_orm::{DatabaseConnection, DbErr};

/// Turns new connections to `service` on or off.
pub async fn set_enabled(
    db: &DatabaseConnection,
    service: &str,
    enabled: bool,
    actor: &Actor,
) -> Result<(), DbErr> {
    let kind = if enabled {
        Kind::ProviderEnabled
    } else {
        Kind::ProviderDisabled
    };
    let mut event = Event::new(kind, &actor.origin).provider(service);
    event.actor = actor.id.clone();
    let txn = crate::base::store::begin(&db).await?;
    store::provider_settings::set(&txn, service, enabled, event.at).await?;
    store::audit::append(&txn, event).await?;
    txn.commit().await
}
