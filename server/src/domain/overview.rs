//! The admin overview's numbers: connections by provider and state, connect flows by how they
//! ended, refresh outcomes and the time each flow step takes. Counts only, never a secret.

use crate::base::store::{audit, connections, flow_stats};
use crate::domain::oauth::flow::FLOW_LIFETIME_MINUTES;
use crate::domain::Ctx;
use app::model::overview::{
    percentile, Count, FlowBucket, FlowCounts, Overview, ProviderConnections, StepTiming, Window,
};
use app::model::ConnectionState;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// At most this many flows are read for one overview (a busy week is sampled from its start).
const MAX_FLOWS: u64 = 200_000;
/// The newest audit events shown under the charts.
const RECENT: u64 = 8;

/// The admin overview for the `window` ending now.
pub async fn build(ctx: &Ctx, window: Window) -> Result<Overview, DbErr> {
    let now = ctx.clock.now();
    let (count, width) = window.buckets();
    let since = now - chrono::Duration::seconds(width * count as i64);
    let mut flows = flow_stats::since(&ctx.db, since, MAX_FLOWS).await?;
    flows.extend(flow_stats::pending_since(&ctx.db, since).await?);
    let (buckets, totals) = flow_buckets(&flows, window, since, now);
    let events = audit::search(&ctx.db, &audit::Search::default(), RECENT).await?;
    Ok(Overview {
        window,
        connections: connections_by_provider(ctx, now).await?,
        flows: buckets,
        totals,
        failures: sorted(
            flows
                .iter()
                .filter(|f| f.outcome == flow_stats::FAILED)
                .map(|f| f.reason.clone().unwrap_or_else(|| "unknown".into())),
        ),
        refreshes: refreshes(ctx, since).await?,
        steps: step_timings(&flows),
        recent: crate::domain::audit_log::rows(&ctx.db, events).await?,
    })
}

async fn connections_by_provider(
    ctx: &Ctx,
    now: DateTime<Utc>,
) -> Result<Vec<ProviderConnections>, DbErr> {
    // Counted by the database: a hundred thousand connections stay a handful of rows.
    let by_status = connections::count_by_status(&ctx.db).await?;
    let expired = connections::count_expired(&ctx.db, now).await?;
    let mut by_provider: BTreeMap<String, ProviderConnections> = BTreeMap::new();
    for (service, status, n) in by_status {
        let entry = by_provider.entry(service.clone()).or_insert_with(|| {
            let display_name = ctx
                .catalog
                .get(&service)
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| service.clone());
            ProviderConnections {
                service,
                display_name,
                connected: 0,
                expired: 0,
                needs_reauth: 0,
            }
        });
        if status == ConnectionState::Connected {
            entry.connected += n as u64;
        } else {
            entry.needs_reauth += n as u64;
        }
    }
    for (service, n) in expired {
        if let Some(entry) = by_provider.get_mut(&service) {
            entry.expired += n as u64;
            entry.connected = entry.connected.saturating_sub(n as u64);
        }
    }
    Ok(by_provider.into_values().collect())
}

/// How a flow stands: abandoned once its ten minutes passed without an end.
fn classify(flow: &flow_stats::Model, now: DateTime<Utc>, counts: &mut FlowCounts) {
    counts.started += 1;
    match flow.outcome.as_str() {
        flow_stats::COMPLETED => counts.completed += 1,
        flow_stats::FAILED => counts.failed += 1,
        _ if now - flow.started_at > chrono::Duration::minutes(FLOW_LIFETIME_MINUTES) => {
            counts.abandoned += 1
        }
        _ => counts.in_progress += 1,
    }
}

fn flow_buckets(
    flows: &[flow_stats::Model],
    window: Window,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<FlowBucket>, FlowCounts) {
    let (count, width) = window.buckets();
    let format = match window {
        Window::Week => "%a %d",
        _ => "%H:%M",
    };
    let mut buckets: Vec<FlowBucket> = (0..count)
        .map(|i| FlowBucket {
            label: (since + chrono::Duration::seconds(width * i as i64))
                .format(format)
                .to_string(),
            counts: FlowCounts::default(),
        })
        .collect();
    let mut totals = FlowCounts::default();
    for flow in flows {
        let index = ((flow.started_at - since).num_seconds() / width).clamp(0, count as i64 - 1);
        classify(flow, now, &mut buckets[index as usize].counts);
        classify(flow, now, &mut totals);
    }
    (buckets, totals)
}

/// Refreshes in the window: `succeeded`, or the reason of a failure (kept tokens or a
/// connection that now needs its user).
async fn refreshes(ctx: &Ctx, since: DateTime<Utc>) -> Result<Vec<Count>, DbErr> {
    let rows = audit::refresh_outcomes(&ctx.db, since).await?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (outcome, reason, n) in rows {
        let code = if outcome == "success" {
            "succeeded".to_string()
        } else {
            reason.unwrap_or_else(|| "unknown".into())
        };
        *counts.entry(code).or_default() += n as u64;
    }
    Ok(ranked(counts))
}

/// Codes counted, most frequent first (ties by code).
fn sorted(codes: impl Iterator<Item = String>) -> Vec<Count> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for code in codes {
        *counts.entry(code).or_default() += 1;
    }
    ranked(counts)
}

fn ranked(counts: BTreeMap<String, u64>) -> Vec<Count> {
    let mut list: Vec<Count> = counts
        .into_iter()
        .map(|(code, count)| Count { code, count })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count));
    list
}

/// p50 and p95 of each step, over the flows that reached its end.
fn step_timings(flows: &[flow_stats::Model]) -> Vec<StepTiming> {
    type Span = fn(&flow_stats::Model) -> Option<(DateTime<Utc>, DateTime<Utc>)>;
    let steps: [(&str, Span); 4] = [
        ("At the provider", |f| Some((f.started_at, f.returned_at?))),
        ("Code exchange", |f| Some((f.returned_at?, f.exchanged_at?))),
        ("Identity and save", |f| {
            (f.outcome == flow_stats::COMPLETED).then_some((f.exchanged_at?, f.finished_at?))
        }),
        ("Whole flow", |f| {
            (f.outcome == flow_stats::COMPLETED).then_some((f.started_at, f.finished_at?))
        }),
    ];
    steps
        .into_iter()
        .map(|(step, span)| {
            let mut samples: Vec<u64> = flows
                .iter()
                .filter_map(span)
                .map(|(from, to)| (to - from).num_milliseconds().max(0) as u64)
                .collect();
            samples.sort_unstable();
            StepTiming {
                step: step.to_string(),
                samples: samples.len() as u64,
                p50_ms: percentile(&samples, 50),
                p95_ms: percentile(&samples, 95),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(started: DateTime<Utc>, outcome: &str, ms: [i64; 3]) -> flow_stats::Model {
        let at = |offset: i64| Some(started + chrono::Duration::milliseconds(offset));
        flow_stats::Model {
            id: crate::base::store::new_id(),
            provider: "github".into(),
            started_at: started,
            returned_at: at(ms[0]),
            exchanged_at: at(ms[1]),
            finished_at: at(ms[2]),
            outcome: outcome.into(),
            reason: None,
        }
    }

    #[test]
    fn flows_fall_into_their_columns_and_old_pending_ones_are_abandoned() {
        let now = Utc::now();
        let since = now - chrono::Duration::hours(1);
        let mut stale = flow(since, flow_stats::PENDING, [0, 0, 0]);
        stale.returned_at = None;
        let fresh = flow(
            now - chrono::Duration::minutes(1),
            flow_stats::PENDING,
            [0, 0, 0],
        );
        let done = flow(
            now - chrono::Duration::minutes(2),
            flow_stats::COMPLETED,
            [900, 1000, 1100],
        );
        let (buckets, totals) = flow_buckets(&[stale, fresh, done], Window::Hour, since, now);
        assert_eq!(buckets.len(), 12);
        assert_eq!(buckets[0].counts.abandoned, 1);
        assert_eq!(buckets[11].counts.started, 2);
        assert_eq!(
            (
                totals.started,
                totals.completed,
                totals.abandoned,
                totals.in_progress
            ),
            (3, 1, 1, 1)
        );
    }

    #[test]
    fn step_times_come_from_the_recorded_timestamps() {
        let now = Utc::now();
        let flows = [
            flow(now, flow_stats::COMPLETED, [1000, 1200, 1500]),
            flow(now, flow_stats::COMPLETED, [3000, 3100, 3300]),
            flow(now, flow_stats::FAILED, [500, 600, 700]),
        ];
        let steps = step_timings(&flows);
        let provider = &steps[0];
        assert_eq!(
            (provider.samples, provider.p50_ms, provider.p95_ms),
            (3, 1000, 3000)
        );
        let whole = &steps[3];
        assert_eq!((whole.samples, whole.p50_ms, whole.p95_ms), (2, 1500, 3300));
    }
}
