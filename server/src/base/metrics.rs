//! Prometheus metrics, recorded: connect flows by provider and outcome, refreshes by
//! provider and outcome, provider reachability. No secrets and no user ids in labels. The
//! HTTP side (/metrics, request counting) is in `http::metrics`.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// The process's one recorder (metrics are process-wide by nature; every app in this
/// process, tests included, reports into it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Installs the recorder and its upkeep (once per process).
pub fn install() {
    let Some(handle) = handle() else {
        tracing::warn!("metrics recorder unavailable: /metrics will be empty");
        return;
    };
    // Histogram samples wait in a queue until someone drains them: a scrape does, but a hub
    // nobody scrapes grew by every request's latency sample (2.3 MiB a minute in the soak).
    // `install_recorder` leaves the draining to us; a plain thread needs no runtime.
    static UPKEEP: std::sync::Once = std::sync::Once::new();
    UPKEEP.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                handle.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "metrics upkeep thread did not start");
        }
    });
}

/// A connect flow started, completed or failed (with our fixed reason code).
pub fn flow(provider: &str, outcome: &'static str, reason: &str) {
    metrics::counter!(
        "atom_connect_flows_total",
        "provider" => provider.to_string(),
        "outcome" => outcome,
        "reason" => reason.to_string()
    )
    .increment(1);
}

/// A connect flow completed: the seconds from Connect to connected (the person's consent
/// included).
pub fn flow_duration(provider: &str, took: chrono::Duration) {
    let seconds = took.num_milliseconds().max(0) as f64 / 1000.0;
    metrics::histogram!("atom_connect_flow_duration_seconds", "provider" => provider.to_string())
        .record(seconds);
}

/// A request refused by the origin guard (audited at most once per address and minute).
pub fn cross_origin_refused() {
    metrics::counter!("atom_cross_origin_refused_total").increment(1);
}

/// A background job's run panicked (it runs again on its next tick).
pub fn job_panicked(job: &'static str) {
    metrics::counter!("atom_job_panics_total", "task" => job).increment(1);
}

/// How long the least recently checked never-expiring token has waited for its liveness check.
pub fn liveness_oldest_check(seconds: f64) {
    metrics::gauge!("atom_liveness_oldest_check_seconds").set(seconds);
}

/// A refresh succeeded, failed transiently, or found the grant dead.
pub fn refresh(provider: &str, outcome: &'static str) {
    metrics::counter!("atom_token_refreshes_total", "provider" => provider.to_string(), "outcome" => outcome)
        .increment(1);
}

/// The last reachability probe of a provider: 1 reachable, 0 not.
pub fn provider_up(provider: &str, reachable: bool) {
    metrics::gauge!("atom_provider_up", "provider" => provider.to_string()).set(if reachable {
        1.0
    } else {
        0.0
    });
}

/// A call through the proxy: the provider's status (or the hub's own reason when it did not
/// call: `cooldown`, `unreachable`) and the time to the provider's answer.
pub fn proxy_call(provider: &str, status: &str, took: std::time::Duration) {
    metrics::counter!(
        "atom_proxy_requests_total",
        "provider" => provider.to_string(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("atom_proxy_request_duration_seconds", "provider" => provider.to_string())
        .record(took.as_secs_f64());
}
