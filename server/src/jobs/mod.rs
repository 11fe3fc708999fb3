//! Background loops: each skips missed ticks, survives a run that panics, and ends when the
//! server stops (a run in progress finishes first).

pub mod liveness;
pub mod probe;
pub mod refresher;
pub mod revocations;
pub mod webhooks;

use crate::base::metrics;
use crate::base::store;
use crate::state::AppState;
use futures::FutureExt;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Starts every background job for this instance; they end once `state.shutdown` is
/// cancelled (await the set to know they have).
pub fn spawn(state: &AppState) -> JoinSet<()> {
    let mut jobs = JoinSet::new();
    every(
        &mut jobs,
        "cleanup",
        Duration::from_secs(600),
        state.clone(),
        state.shutdown.clone(),
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
            match crate::domain::audit_log::expire(
                &state.db,
                &state.config.audit,
                state.clock.now(),
            )
            .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    events = n,
                    "audit events past their retention left the database"
                ),
                Err(e) => tracing::warn!(error = %e, "audit retention failed"),
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
        "limits",
        Duration::from_secs(60),
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            state.limits.shrink().await;
            crate::http::audit_repeated_refusals(&state).await;
        },
    );
    every(
        &mut jobs,
        "password_areas",
        crate::base::passwords::IDLE,
        state.clone(),
        state.shutdown.clone(),
        |_| async move {
            crate::base::passwords::release_idle(crate::base::passwords::IDLE);
        },
    );
    if state.limits.shares_counts() {
        every(
            &mut jobs,
            "limits_flush",
            Duration::from_millis(250),
            state.clone(),
            state.shutdown.clone(),
            |state| async move { state.limits.flush().await },
        );
    }
    every(
        &mut jobs,
        "audit_chain",
        Duration::from_secs(5),
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            if let Err(e) = crate::domain::audit_chain::seal(&state.db, state.clock.now()).await {
                tracing::warn!(error = %e, "sealing audit events failed");
            }
        },
    );
    let refresh_every = Duration::from_secs(state.config.jobs.refresh_interval_seconds.max(1));
    every(
        &mut jobs,
        "refresher",
        refresh_every,
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            refresher::refresh_due(&state).await;
        },
    );
    let liveness_every = Duration::from_secs(state.config.jobs.liveness_interval_seconds.max(1));
    every(
        &mut jobs,
        "liveness",
        liveness_every,
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            liveness::check_never_expiring(&state).await;
        },
    );
    let retry_every = Duration::from_secs(state.config.jobs.revocation_interval_seconds.max(1));
    every(
        &mut jobs,
        "revocations",
        retry_every,
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            revocations::retry_due(&state).await;
        },
    );
    let webhook_every = Duration::from_secs(state.config.jobs.webhook_interval_seconds.max(1));
    every(
        &mut jobs,
        "webhooks",
        webhook_every,
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            webhooks::deliver_due(&state).await;
        },
    );
    let probe_every = Duration::from_secs(state.config.jobs.probe_interval_seconds.max(1));
    every(
        &mut jobs,
        "probe",
        probe_every,
        state.clone(),
        state.shutdown.clone(),
        |state| async move {
            probe::probe_all(&state).await;
        },
    );
    if let Some(checkpoints) = store::checkpoints::Checkpoints::of(&state.config.database.url) {
        every(
            &mut jobs,
            "wal_checkpoint",
            store::checkpoints::EVERY,
            checkpoints,
            state.shutdown.clone(),
            |checkpoints| async move {
                checkpoints.run().await;
            },
        );
    }
    jobs.spawn(forget_changed_accounts(state.clone()));
    jobs
}

/// Drops the sessions, users and connections kept in memory when the audit log says an
/// account changed (a sign-out, a password, role or disabled change, a deletion) or a
/// connection did (a refresh, a reconnect, a disconnect), and the provider switches when an
/// administrator turned one, on whichever instance or job made the change: on PostgreSQL
/// this instance hears of it as it commits.
async fn forget_changed_accounts(state: AppState) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = state.events.subscribe();
    loop {
        let heard = tokio::select! {
            () = state.shutdown.cancelled() => return,
            heard = changes.recv() => heard,
        };
        match heard {
            Ok(crate::events::Change::Account { .. }) | Err(RecvError::Lagged(_)) => {
                state.hot.users.forget_all();
                state.hot.sessions.forget_all();
                state.hot.connections.forget_all();
                state.hot.providers_enabled.forget_all();
            }
            Ok(crate::events::Change::Connection { user_id, provider }) => {
                state.hot.forget_connections(&user_id, &provider);
            }
            Ok(crate::events::Change::Everyone) => state.hot.providers_enabled.forget_all(),
            Ok(_) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// Runs `job` now and then every `period`, skipping ticks missed while it ran, until `stop`.
/// A run that panics is logged and counted (`atom_job_panics_total{task}`), and the job runs
/// again on its next tick: no background job ever stops for good.
fn every<S, F, Fut>(
    jobs: &mut JoinSet<()>,
    name: &'static str,
    period: Duration,
    state: S,
    stop: CancellationToken,
    job: F,
) where
    S: Clone + Send + 'static,
    F: Fn(S) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    jobs.spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => {
                    let run = std::panic::AssertUnwindSafe(job(state.clone()));
                    if run.catch_unwind().await.is_err() {
                        tracing::error!(job = name, "a background job panicked; it runs again next tick");
                        metrics::job_panicked(name);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_job_that_panics_runs_again_and_every_job_ends_on_stop() {
        let runs = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let mut jobs = JoinSet::new();
        every(
            &mut jobs,
            "test",
            Duration::from_millis(10),
            runs.clone(),
            stop.clone(),
            |runs: Arc<AtomicUsize>| async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first run fails");
                }
            },
        );
        while runs.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stop.cancel();
        let ended = tokio::time::timeout(Duration::from_secs(2), jobs.join_next()).await;
        assert!(
            matches!(ended, Ok(Some(Ok(())))),
            "the loop ended, not panicked"
        );
    }
}
