//! A provider's health, as `/api/{service}/health` and the admin Providers page show it: the
//! last reachability probe, the last day's connect flows, and whether the provider refuses
//! the app's client credentials.

use crate::jobs::probe::Probe;
use crate::state::AppState;
use crate::store::{self, audit::FlowStats};

pub struct Health {
    /// ok, degraded, unreachable or client_rejected.
    pub status: &'static str,
    pub reachability: Option<Probe>,
    pub flows_24h: FlowStats,
    pub success_rate_24h: Option<f64>,
    pub client_rejected_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn of(state: &AppState, service: &str) -> Result<Health, sea_orm::DbErr> {
    let since = chrono::Utc::now() - chrono::Duration::hours(24);
    let flows = store::audit::flow_stats(&state.db, service, since).await?;
    let total = flows.succeeded + flows.failed;
    let success_rate = (total > 0).then(|| flows.succeeded as f64 / total as f64);
    let reachability = state.probes.get(service);
    let client_rejected_at = store::audit::client_rejected_at(&state.db, service).await?;
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
