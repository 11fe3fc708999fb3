//! Background loops: each skips missed ticks and ends when the server stops (a run in
//! progress finishes first).

pub mod liveness;
pub mod probe;
pub mod refresher;
pub mod revocations;
pub mod webhooks;

use crate::base::store;
use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinSet;

/// Starts every background job for this instance; they end once `state.shutdown` is
/// cancelled (await the set to know they have).
pub fn spawn(state: &AppState) -> JoinSet<()> {
    let mut jobs = JoinSet::new();
    every(
        &mut jobs,
        Duration::from_secs(600),
        state.clone(),
        |state| async move {
            if let Err(e) = store::sessions::delete_expired(&state.db, state.clock.now()).await {
                tracing::warn!(error = %e, "session cleanup failed");
            }
            if let Err(e) = store::flows::delete_expired(&state.db, state.clock.now()).await {
                tracing::warn!(error = %e, "flow cleanup failed");
            }
            if let Err(e) = store::connect_links::delete_expired(&state.db, state.clock.now()).await
            {
                tracing::warn!(error = %e, "connect link cleanup failed");
            }
            if let Err(e) = store::webhooks::delete_old(&state.db, 7, state.clock.now()).await {
                tracing::warn!(error = %e, "webhook outbox cleanup failed");
            }
            let keep = state.config.jobs.flow_stats_retention_days;
            if let Err(e) =
                store::flow_stats::delete_older_than(&state.db, keep, state.clock.now()).await
            {
                tracing::warn!(error = %e, "flow analytics cleanup failed");
            }
        },
    );
    every(
        &mut jobs,
        Duration::from_secs(60),
        state.clone(),
        |state| async move {
            state.limits.shrink();
        },
    );
    let refresh_every = Duration::from_secs(state.config.jobs.refresh_interval_seconds.max(1));
    every(
        &mut jobs,
        refresh_every,
        state.clone(),
        |state| async move {
            refresher::refresh_due(&state).await;
        },
    );
    let liveness_every = Duration::from_secs(state.config.jobs.liveness_interval_seconds.max(1));
    every(
        &mut jobs,
        liveness_every,
        state.clone(),
        |state| async move {
            liveness::check_never_expiring(&state).await;
        },
    );
    let retry_every = Duration::from_secs(state.config.jobs.revocation_interval_seconds.max(1));
    every(&mut jobs, retry_every, state.clone(), |state| async move {
        revocations::retry_due(&state).await;
    });
    let webhook_every = Duration::from_secs(state.config.jobs.webhook_interval_seconds.max(1));
    every(
        &mut jobs,
        webhook_every,
        state.clone(),
        |state| async move {
            webhooks::deliver_due(&state).await;
        },
    );
    let probe_every = Duration::from_secs(state.config.jobs.probe_interval_seconds.max(1));
    every(&mut jobs, probe_every, state.clone(), |state| async move {
        probe::probe_all(&state).await;
    });
    jobs
}

/// Runs `job` now and then every `period`, skipping ticks missed while it ran.
fn every<F, Fut>(jobs: &mut JoinSet<()>, period: Duration, state: AppState, job: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = state.shutdown.clone();
    jobs.spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => job(state.clone()).await,
            }
        }
    });
}
