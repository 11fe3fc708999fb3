//! A provider's health, as `/api/{service}/health` and the admin Providers page show it: the
//! last reachability probe, the last day's connect flows, and whether the provider refuses
//! the app's client credentials. The day of flows is counted from the audit log (by index) at
//! most once per [`SUMMARY_SECONDS`] per provider and instance, whatever the traffic on the
//! route or the flows: a call costs the same with no flows as with a million (issue 19; it
//! counted on every call, and every flow made the next call count again). This instance's
//! own flows are added to the summary as they end ([`Probes::flow_ended`]) and its refresh
//! outcomes drop it, so what it just did shows; other instances' flows show within
//! `SUMMARY_SECONDS`.

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

    /// A connect flow of this process ended (its audit event written): counted into the
    /// summary at once, so the route shows it without counting the day again. `failure` is
    /// its reason code.
    pub fn flow_ended(
        &self,
        service: &str,
        at: chrono::DateTime<chrono::Utc>,
        failure: Option<&str>,
    ) {
        let mut summaries = self.summaries.write().unwrap_or_else(|p| p.into_inner());
        let Some((_, health)) = summaries.get_mut(service) else {
            return;
        };
        let flows = &mut health.flows_24h;
        match failure {
            None => {
                flows.succeeded += 1;
                flows.last_success_at = Some(at.to_rfc3339());
                // A new connection shows the client credentials work again.
                health.client_rejected_at = None;
            }
            Some(reason) => {
                flows.failed += 1;
                flows.last_failure_at = Some(at.to_rfc3339());
                flows.last_failure_reason = Some(reason.to_string());
            }
        }
        health.judge();
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
    let mut health = Health {
        status: "ok",
        reachability: probes.get(service),
        flows_24h: store::audit::flow_stats(&ctx.db, service, since).await?,
        success_rate_24h: None,
        client_rejected_at: store::audit::client_rejected_at(&ctx.db, service).await?,
    };
    health.judge();
    Ok(health)
}

impl Health {
    /// The success rate and the status, from what was counted.
    fn judge(&mut self) {
        let flows = &self.flows_24h;
        let total = flows.succeeded + flows.failed;
        self.success_rate_24h = (total > 0).then(|| flows.succeeded as f64 / total as f64);
        self.status = match (&self.reachability, self.success_rate_24h) {
            _ if self.client_rejected_at.is_some() => "client_rejected",
            (Some(probe), _) if !probe.reachable => "unreachable",
            (_, Some(rate)) if total >= 4 && rate < 0.5 => "degraded",
            _ => "ok",
        };
    }
}
