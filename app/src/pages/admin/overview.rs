use super::AdminFrame;
use crate::api::admin::load_overview;
use crate::components::charts::{
    BarChart, BarRow, FlowChart, Segment, AMBER, GREEN, INDIGO, LIGHT_INDIGO, RED,
};
use crate::components::live;
use crate::model::overview::{reason_label, Count, FlowCounts, Overview, Window};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The admin's live board: connections, connect flows, refreshes and step times, with the
/// newest audit events. New audit events anywhere make it ask again.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let query = use_query_map();
    let window = move || Window::parse(&query.read().get("window").unwrap_or_default());
    let data = Resource::new(window, load_overview);
    let hydrated = RwSignal::new(false);
    // At most one reload a second however busy the hub is: the last event is never lost.
    let queued = StoredValue::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        // `connection` too: a stream that fell behind says so with a `connection` event.
        live::on_change(&["audit", "connection"], move || {
            if queued.get_value() {
                return;
            }
            queued.set_value(true);
            set_timeout(
                move || {
                    queued.set_value(false);
                    data.refetch();
                },
                std::time::Duration::from_secs(1),
            );
        });
    });
    view! {
        <AdminFrame title="Overview">
            <div data-hydrated=move || hydrated.get().to_string()>
                <WindowPicker current=Signal::derive(window)/>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || data.get().map(|result| match result {
                        Ok(view) => view! { <Board view/> }.into_any(),
                        Err(_) => view! {
                            <p role="alert" class="text-red-800">"The overview could not be loaded."</p>
                        }.into_any(),
                    })}
                </Transition>
            </div>
        </AdminFrame>
    }
}

/// Links, not buttons: each period has its own URL and works without JavaScript.
#[component]
fn WindowPicker(current: Signal<Window>) -> impl IntoView {
    view! {
        <nav aria-label="Period" class="mb-4 flex gap-2 text-sm">
            {Window::ALL.into_iter().map(|w| view! {
                <a href=format!("/admin?window={}", w.as_str())
                    aria-current=move || (current.get() == w).then_some("page")
                    class="rounded border border-slate-300 px-3 py-1 aria-[current=page]:bg-indigo-700 aria-[current=page]:text-white">
                    {w.label()}
                </a>
            }).collect_view()}
        </nav>
    }
}

const CARD: &str = "rounded-xl bg-white p-5 shadow";

#[component]
fn Board(view: Overview) -> impl IntoView {
    let connections = view
        .connections
        .iter()
        .map(|p| BarRow {
            label: p.display_name.clone(),
            text: (p.connected + p.expired + p.needs_reauth).to_string(),
            segments: vec![
                Segment {
                    name: "connected",
                    color: GREEN,
                    value: p.connected,
                },
                Segment {
                    name: "expired",
                    color: AMBER,
                    value: p.expired,
                },
                Segment {
                    name: "needs reconnect",
                    color: RED,
                    value: p.needs_reauth,
                },
            ],
        })
        .collect();
    let steps = view
        .steps
        .iter()
        .filter(|s| s.samples > 0)
        .map(|s| BarRow {
            label: s.step.clone(),
            text: format!("{} / {}", duration(s.p50_ms), duration(s.p95_ms)),
            segments: vec![
                Segment {
                    name: "ms median",
                    color: INDIGO,
                    value: s.p50_ms,
                },
                Segment {
                    name: "ms more to the 95th percentile",
                    color: LIGHT_INDIGO,
                    value: s.p95_ms.saturating_sub(s.p50_ms),
                },
            ],
        })
        .collect();
    view! {
        <Counters totals=view.totals.clone()/>
        <section class=format!("{CARD} mb-4") aria-labelledby="flows-heading">
            <h2 id="flows-heading" class="mb-2 text-lg font-semibold">
                "Connect flows, " {view.window.label().to_lowercase()}</h2>
            <FlowChart title="Connect flows over time, by outcome" buckets=view.flows.clone()/>
        </section>
        <div class="mb-4 grid gap-4 lg:grid-cols-2">
            <section class=CARD aria-labelledby="connections-heading">
                <h2 id="connections-heading" class="mb-2 text-lg font-semibold">"Connections by provider"</h2>
                <BarChart title="Connections by provider and state" rows=connections
                    empty="No connections yet."/>
            </section>
            <section class=CARD aria-labelledby="failures-heading">
                <h2 id="failures-heading" class="mb-2 text-lg font-semibold">"Why flows failed"</h2>
                <BarChart title="Failed connect flows by reason" rows=counted(&view.failures, RED)
                    empty="No failed flows in this period."/>
            </section>
            <section class=CARD aria-labelledby="refresh-heading">
                <h2 id="refresh-heading" class="mb-2 text-lg font-semibold">"Token refreshes"</h2>
                <BarChart title="Token refreshes by outcome" rows=counted(&view.refreshes, INDIGO)
                    empty="No refreshes in this period."/>
            </section>
            <section class=CARD aria-labelledby="steps-heading">
                <h2 id="steps-heading" class="mb-2 text-lg font-semibold">"Time per step (median / 95th percentile)"</h2>
                <BarChart title="Time per connect flow step" rows=steps
                    empty="No finished flows in this period."/>
            </section>
        </div>
        <Recent view=view/>
    }
}

/// The period's totals, announced politely when they change.
#[component]
fn Counters(totals: FlowCounts) -> impl IntoView {
    let items = [
        ("started", "Started", totals.started),
        ("completed", "Completed", totals.completed),
        ("failed", "Failed", totals.failed),
        ("abandoned", "Abandoned", totals.abandoned),
        ("in_progress", "In progress", totals.in_progress),
    ];
    view! {
        <dl aria-live="polite" class="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-5">
            {items.into_iter().map(|(id, label, value)| view! {
                <div class="rounded-xl bg-white p-4 shadow">
                    <dt class="text-sm text-slate-600">{label}</dt>
                    <dd data-testid=format!("count-{id}") class="text-2xl font-semibold">{value}</dd>
                </div>
            }).collect_view()}
        </dl>
    }
}

#[component]
fn Recent(view: Overview) -> impl IntoView {
    view! {
        <section class=CARD aria-labelledby="recent-heading">
            <div class="mb-2 flex items-center justify-between">
                <h2 id="recent-heading" class="text-lg font-semibold">"Newest events"</h2>
                <a href="/admin/audit" class="text-sm text-indigo-800 underline">"Full audit log"</a>
            </div>
            <ul data-testid="recent-events" class="divide-y divide-slate-200 text-sm">
                {view.recent.into_iter().map(|e| {
                    let ok = e.outcome == "success";
                    let kind = e.kind.clone();
                    view! {
                    <li data-event=kind class="flex flex-wrap gap-x-3 py-2">
                        <span class="whitespace-nowrap text-slate-600">{e.at}</span>
                        <span class="font-mono">{e.kind}</span>
                        <span class=if ok { "text-green-800" } else { "text-red-800" }>{e.outcome}</span>
                        <span>{e.subject.or(e.actor).unwrap_or_default()}</span>
                        <span>{e.provider.unwrap_or_default()}</span>
                    </li>
                }}).collect_view()}
            </ul>
        </section>
    }
}

fn counted(counts: &[Count], color: &'static str) -> Vec<BarRow> {
    counts
        .iter()
        .map(|c| BarRow {
            label: reason_label(&c.code),
            text: c.count.to_string(),
            segments: vec![Segment {
                name: "",
                color,
                value: c.count,
            }],
        })
        .collect()
}

/// Milliseconds as people read them: "850 ms", "4.2 s".
fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
