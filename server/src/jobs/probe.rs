//! Provider reachability, probed in the background and cached: health answers never wait on
//! a provider. Any HTTP answer from the token endpoint counts as reachable.

use crate::state::AppState;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub reachable: bool,
    pub checked_at: String,
    pub latency_ms: u64,
    /// timeout, connect, discovery or other: never the provider's text.
    pub error: Option<&'static str>,
}

#[derive(Default)]
pub struct Probes {
    results: RwLock<HashMap<String, Probe>>,
}

impl Probes {
    pub fn get(&self, service: &str) -> Option<Probe> {
        self.results
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(service)
            .cloned()
    }

    fn set(&self, service: &str, probe: Probe) {
        self.results
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(service.to_string(), probe);
    }
}

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
            checked_at: chrono::Utc::now().to_rfc3339(),
            latency_ms: started.elapsed().as_millis() as u64,
            error: outcome.err(),
        };
        if !probe.reachable {
            tracing::warn!(provider = %provider.service, error = ?probe.error, "provider unreachable");
        }
        crate::metrics::provider_up(&provider.service, probe.reachable);
        state.probes.set(&provider.service, probe);
    });
    futures::future::join_all(probes).await;
}
