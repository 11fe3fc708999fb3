//! Charts drawn by the app as SVG: no script, no external library. Every chart has a title
//! for screen readers and a table with the same numbers under "Show as table".

use crate::model::overview::FlowBucket;
use leptos::prelude::*;

/// One coloured part of a bar, with what it counts.
#[derive(Clone)]
pub struct Segment {
    pub name: &'static str,
    pub color: &'static str,
    pub value: u64,
}

/// A row of a horizontal bar chart: its label, its parts (stacked) and the text after it.
#[derive(Clone)]
pub struct BarRow {
    pub label: String,
    pub segments: Vec<Segment>,
    pub text: String,
}

pub const GREEN: &str = "#15803d";
pub const RED: &str = "#b91c1c";
pub const AMBER: &str = "#d97706";
pub const SLATE: &str = "#94a3b8";
pub const INDIGO: &str = "#4338ca";
pub const LIGHT_INDIGO: &str = "#a5b4fc";
const INK: &str = "#334155";

const ROW: f64 = 16.0;
const BAR: f64 = 220.0;

/// Horizontal bars, one per row, scaled to the longest.
#[component]
pub fn BarChart(title: &'static str, rows: Vec<BarRow>, empty: &'static str) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="text-sm text-slate-600">{empty}</p> }.into_any();
    }
    let max = rows
        .iter()
        .map(|r| r.segments.iter().map(|s| s.value).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let legend = legend(rows.first().map(|r| r.segments.clone()).unwrap_or_default());
    let table = rows.clone();
    view! {
        // Rows of HTML, so labels wrap instead of being cut (on a phone too); each bar is a
        // small SVG stretched to the space left (no inline styles: the CSP forbids them).
        <div role="img" aria-label=title class="max-w-2xl space-y-1">
            {rows.into_iter().map(|row| {
                let mut x = 0.0;
                let parts = row.segments.iter().filter(|s| s.value > 0).map(|s| {
                    let w = s.value as f64 / max * BAR;
                    let rect = view! {
                        <rect x=x y=0 width=w.max(1.0) height=ROW fill=s.color>
                            <title>{format!("{}: {} {}", row.label, s.value, s.name)}</title>
                        </rect>
                    };
                    x += w;
                    rect
                }).collect_view();
                view! {
                    <div class="flex items-center gap-2 text-sm text-slate-700">
                        <span data-bar-label class="w-28 shrink-0 text-right leading-tight break-words sm:w-40">
                            {row.label.clone()}</span>
                        <svg viewBox=format!("0 0 {BAR} {ROW}") preserveAspectRatio="none"
                            class="h-4 min-w-0 flex-1">{parts}</svg>
                        <span class="w-20 shrink-0 text-xs sm:w-28 sm:text-sm">{row.text.clone()}</span>
                    </div>
                }
            }).collect_view()}
        </div>
        {legend}
        <AsTable title>
            <tbody>
                {table.into_iter().map(|row| view! {
                    <tr><th scope="row" class="pr-4 font-medium">{row.label}</th>
                        <td>{row.segments.iter().map(|s| format!("{} {}", s.value, s.name))
                            .collect::<Vec<_>>().join(", ")}</td></tr>
                }).collect_view()}
            </tbody>
        </AsTable>
    }
    .into_any()
}

/// The chart's numbers as a table, behind a disclosure (for screen readers and for reading).
#[component]
fn AsTable(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <details class="mt-2 text-sm">
            <summary class="cursor-pointer text-indigo-800">"Show as table"</summary>
            <table class="mt-2 text-left">
                <caption class="sr-only">{title}</caption>
                {children()}
            </table>
        </details>
    }
}

fn legend(segments: Vec<Segment>) -> impl IntoView {
    (segments.len() > 1).then(|| {
        view! {
            <ul class="mt-1 flex flex-wrap gap-3 text-xs text-slate-700">
                {segments.into_iter().map(|s| view! {
                    <li class="flex items-center gap-1">
                        <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill=s.color/></svg>
                        {s.name}
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

/// The flows of each column, stacked by how they ended.
fn flow_segments(bucket: &FlowBucket) -> Vec<Segment> {
    let c = &bucket.counts;
    vec![
        Segment {
            name: "completed",
            color: GREEN,
            value: c.completed,
        },
        Segment {
            name: "failed",
            color: RED,
            value: c.failed,
        },
        Segment {
            name: "abandoned",
            color: AMBER,
            value: c.abandoned,
        },
        Segment {
            name: "in progress",
            color: SLATE,
            value: c.in_progress,
        },
    ]
}

const PLOT_HEIGHT: f64 = 160.0;
const COLUMN: f64 = 28.0;

/// Connect flows over time: a column per period, stacked by outcome.
#[component]
pub fn FlowChart(title: &'static str, buckets: Vec<FlowBucket>) -> impl IntoView {
    let max = buckets
        .iter()
        .map(|b| b.counts.started)
        .max()
        .unwrap_or(0)
        .max(1);
    let label_every = buckets.len().div_ceil(8).max(1);
    let width = 40.0 + COLUMN * buckets.len() as f64;
    let height = PLOT_HEIGHT + 40.0;
    let table = buckets.clone();
    let legend = legend(buckets.first().map(flow_segments).unwrap_or_default());
    view! {
        <div class="overflow-x-auto" tabindex="0" role="group" aria-label="Chart, scrolls sideways on small screens">
        <svg role="img" aria-label=title viewBox=format!("0 0 {width} {height}") class="w-full min-w-[36rem]">
            <title>{title}</title>
            <line x1="36" y1=PLOT_HEIGHT + 10.0 x2=width y2=PLOT_HEIGHT + 10.0 stroke=SLATE/>
            <text x="32" y="16" text-anchor="end" font-size="11" fill=INK>{max}</text>
            <text x="32" y=PLOT_HEIGHT + 10.0 text-anchor="end" font-size="11" fill=INK>"0"</text>
            {buckets.into_iter().enumerate().map(|(i, bucket)| {
                let x = 40.0 + COLUMN * i as f64;
                let mut top = PLOT_HEIGHT + 10.0;
                let parts = flow_segments(&bucket).into_iter().filter(|s| s.value > 0).map(|s| {
                    let h = s.value as f64 / max as f64 * PLOT_HEIGHT;
                    top -= h;
                    view! {
                        <rect x=x + 3.0 y=top width=COLUMN - 6.0 height=h.max(1.0) fill=s.color>
                            <title>{format!("{}: {} {}", bucket.label, s.value, s.name)}</title>
                        </rect>
                    }
                }).collect_view();
                let label = (i % label_every == 0).then(|| view! {
                    <text x=x + COLUMN / 2.0 y=PLOT_HEIGHT + 28.0 text-anchor="middle" font-size="11" fill=INK>
                        {bucket.label.clone()}</text>
                });
                view! { {parts} {label} }
            }).collect_view()}
        </svg>
        </div>
        {legend}
        <AsTable title>
            <thead><tr>
                <th scope="col" class="pr-4">"From (UTC)"</th><th scope="col" class="pr-4">"Started"</th>
                <th scope="col" class="pr-4">"Completed"</th><th scope="col" class="pr-4">"Failed"</th>
                <th scope="col" class="pr-4">"Abandoned"</th><th scope="col">"In progress"</th>
            </tr></thead>
            <tbody>
                {table.into_iter().map(|b| view! {
                    <tr><td class="pr-4">{b.label}</td><td>{b.counts.started}</td>
                        <td>{b.counts.completed}</td><td>{b.counts.failed}</td>
                        <td>{b.counts.abandoned}</td><td>{b.counts.in_progress}</td></tr>
                }).collect_view()}
            </tbody>
        </AsTable>
    }
}
