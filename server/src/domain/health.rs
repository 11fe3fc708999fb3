//! A provider's health, as `/api/{service}/health` and the admin Providers page show it: the
//! last reachability probe, the last day's connect flows, and whether the provider refuses
//! the app's client credentials. The day of flows is counted from the audit log at most once
//! per [`SUMMARY_SECONDS`] per provider and instance, whatever the traffic on the route (it
//! was counted on every call); this instance's own flows and refresh outcomes drop the
//! summary at once, so what it just did shows.

use crate::base::store::{self, audit::FlowStats};
use crate::domain::Ctx;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::RwLock;

/// The newest reachability probe of one provider.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    /// Any HTTP answer from the token endpoint.
    pub reachable: bool,
    /// When, RFC 3339.
    pub checked_at: String,
    /// How long the answer took.
    pub latency_ms: u64,
    /// timeout, connect, discovery or other: never the provider's text.
    pub error: Option<&'static str>,
}

/// How long a computed health summary is served before it is counted again.
pub const SUMMARY_SECONDS: i64 = 30;

/// The newest reachability probe of each provider (written by the prober job), and each
/// provider's health summary as last counted.
#[derive(Default)]
pub struct Probes {
    results: RwLock<HashMap<String, Probe>>,
    summaries: RwLock<HashMap<String, (chrono::DateTime<chrono::Utc>, Health)>>,
}

impl Probes {
    /// The newest probe of a service, if there was one yet.
    pub fn get(&self, service: &str) -> Option<Probe> {
        self.results
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(service)
            .cloned()
    }

    /// Keeps the newest probe of a service.
    pub fn set(&self, service: &str, probe: Probe) {
        self.results
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(service.to_string(), probe);
        self.forget(service);
    }

    /// Drops a service's summary: something changed that it counts.
    pub fn forget(&self, service: &str) {
        self.summaries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(service);
    }

    fn summary(&self, service: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Health> {
        let summaries = self.summaries.read().unwrap_or_else(|p| p.into_inner());
        let (at, health) = summaries.get(service)?;
        (now - *at < chrono::Duration::seconds(SUMMARY_SECONDS)).then(|| health.clone())
    }

    fn keep(&self, service: &str, at: chrono::DateTime<chrono::Utc>, health: Health) {
        self.summaries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(service.to_string(), (at, health));
    }
}

/// A provider's health, as its health route and the Providers page show it.
#[derive(Clone)]
pub struct Health {
    /// ok, degraded, unreachable or client_rejected.
    pub status: &'static str,
    /// The newest reachability probe.
    pub reachability: Option<Probe>,
    /// Connect flows in the last day.
    pub flows_24h: FlowStats,
    /// Their success rate, when there were any.
    pub success_rate_24h: Option<f64>,
    /// When the provider last refused the hub's client credentials.
    pub client_rejected_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The health of `service`: the summary counted within the last [`SUMMARY_SECONDS`], or
/// counted now.
pub async fn of(ctx: &Ctx, service: &str) -> Result<Health, sea_orm::DbErr> {
    let now = ctx.clock.now();
    if let Some(health) = ctx.probes.summary(service, now) {
        return Ok(health);
    }
    let health = count(ctx, &ctx.probes, service).await?;
    ctx.probes.keep(service, now, health.clone());
    Ok(health)
}

async fn count(ctx: &Ctx, probes: &Probes, service: &str) -> Result<Health, sea_orm::DbErr> {
    let since = ctx.clock.now() - chrono::Duration::hours(24);
    let flows = store::audit::flow_stats(&ctx.db, service, since).await?;
    let total = flows.succeeded + flows.failed;
    let success_rate = (total > 0).then(|| flows.succeeded as f64 / total as f64);
    let reachability = probes.get(service);
    let client_rejected_at = store::audit::client_rejected_at(&ctx.db, service).await?;
    let status = match (&reachability, success_rate) {
        _ if client_rejected_at.is_some() => "client_rejected",
        (Some(probe), _) if !probe.reachable => "unreachable",
        (_, Some(rate)) if total >= 4 && rate < 0.5 => "degraded",
        _ => "ok",
    };
    Ok(Health {
        status,
        reachability,
        flows_24h: flows,
        success_rate_24h: success_rate,
        client_rejected_at,
    })
}
