//! Provider reachability, probed in the background and cached: health answers never wait on
//! a provider. Any HTTP answer from the token endpoint counts as reachable.

use crate::domain::health::Probe;
use crate::state::AppState;
use std::time::{Duration, Instant};

pub async fn probe_all(state: &AppState) {
    let probes = state.catalog.all().map(|provider| async move {
        let started = Instant::now();
        let outcome = match provider.endpoints(&state.http).await {
            Err(_) => Err("discovery"),
            Ok(endpoints) => {
                let request = state.http.get(endpoints.token_url.clone()).timeout(Duration::from_secs(5));
                match request.send().await {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_timeout() => Err("timeout"),
                    Err(e) if e.is_connect() => Err("connect"),
                    Err(_) => Err("other"),
                }
            }
        };
        let probe = Probe {
            reachable: outcome.is_ok(),
            checked_at: state.clock.now().to_rfc3339(),
            latency_ms: started.elapsed().as_millis() as u64,
            error: outcome.err(),
        };
        if !probe.reachable {
            tracing::warn!(provider = %provider.service, error = ?probe.error, "provider unreachable");
        }
        crate::base::metrics::provider_up(&provider.service, probe.reachable);
        state.probes.set(&provider.service, probe);
    });
    futures::future::join_all(probes).await;
}
