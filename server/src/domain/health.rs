//! A provider's health, as `/api/{service}/health` and the admin Providers page show it: the
//! last reachability probe, the last day's connect flows, and whether the provider refuses
//! the app's client credentials.

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

/// The newest reachability probe of each provider (written by the prober job).
#[derive(Default)]
pub struct Probes {
    results: RwLock<HashMap<String, Probe>>,
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
    }
}

/// A provider's health, as its health route and the Providers page show it.
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

/// The health of `service` now.
pub async fn of(ctx: &Ctx, probes: &Probes, service: &str) -> Result<Health, sea_orm::DbErr> {
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
