//! Providers turned on and off by administrators: the setting and its audit event in one
//! transaction. Every instance reads the setting from the database, kept for a moment
//! (`base::hot`): a change applies at once on the instance that made it, and within a second
//! on the others.

use crate::base::audit::{Event, Kind};
use crate::base::store;
use crate::domain::users::Actor;
use sea_orm::{DatabaseConnection, DbErr};

/// Whether new connect flows to `service` may start.
pub async fn is_enabled(ctx: &crate::domain::Ctx, service: &str) -> Result<bool, DbErr> {
    let kept = ctx.hot.providers_enabled.read_through(service, || async {
        store::provider_settings::is_enabled(&ctx.db, service)
            .await
            .map(Some)
    });
    Ok(kept.await?.is_none_or(|enabled| *enabled))
}

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
