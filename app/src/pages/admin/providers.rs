use super::{AdminFrame, SMALL_BUTTON};
use crate::api::admin::list_providers;
use crate::model::admin::ProviderRow;
use leptos::prelude::*;

/// Every provider: is it configured, which redirect URI to register, and how it is doing.
#[component]
pub fn ProvidersPage() -> impl IntoView {
    let providers = Resource::new(|| (), |_| list_providers());
    view! {
        <AdminFrame title="Providers">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || providers.get().map(|result| match result {
                    Ok(rows) => view! {
                        <div class="grid gap-4 md:grid-cols-2">
                            {rows.into_iter().map(|row| view! { <ProviderHealth row/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(_) => view! {
                        <p role="alert" class="text-red-800">"The providers could not be loaded."</p>
                    }.into_any(),
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// Plain words for a provider's status, and whether it needs someone.
fn status_text(status: &str) -> (&'static str, bool) {
    match status {
        "ok" => ("Working", false),
        "degraded" => ("Most connect flows failed in the last day", true),
        "unreachable" => ("Unreachable from the hub", true),
        "client_rejected" => (
            "Refuses the client id or secret: fix the configuration",
            true,
        ),
        _ => ("Not configured: set its client id and secret", true),
    }
}

#[component]
fn ProviderHealth(row: ProviderRow) -> impl IntoView {
    let (text, attention) = status_text(&row.status);
    let badge = if attention {
        "rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900"
    } else {
        "rounded-full bg-green-100 px-2 py-0.5 text-xs font-medium text-green-900"
    };
    let probe = match (row.latency_ms, row.probe_error.clone()) {
        (_, Some(error)) => format!("last probe failed: {error}"),
        (Some(ms), None) => format!("last probe answered in {ms} ms"),
        (None, None) => "not probed yet".to_string(),
    };
    view! {
        <article data-provider=row.service.clone() class="rounded-xl bg-white p-5 shadow">
            <div class="flex items-center justify-between gap-2">
                <div class="flex items-center gap-3">
                    <img src=row.logo.clone() alt="" width="32" height="32" class="h-8 w-8"/>
                    <h2 class="text-lg font-semibold">{row.display_name.clone()}</h2>
                </div>
                <span data-status=row.status.clone() class=badge>{text}</span>
            </div>
            <dl class="mt-3 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
                <dt class="font-medium">"Redirect URI"</dt>
                <dd><code class="break-all">{row.redirect_uri.clone()}</code></dd>
                {row.configured.then(|| view! {
                    <dt class="font-medium">"Source"</dt>
                    <dd>{if row.sandbox { "Local sandbox (development)" } else { "The real provider" }}</dd>
                    <dt class="font-medium">"Reachability"</dt>
                    <dd>{probe}</dd>
                    <dt class="font-medium">"Last 24 h"</dt>
                    <dd>{format!("{} connected, {} failed", row.flows_succeeded_24h, row.flows_failed_24h)}
                        {row.last_failure_reason.clone().map(|r| format!(" (last failure: {r})"))}</dd>
                })}
            </dl>
            <form method="post" action=format!("/admin/providers/{}/enabled", row.service)
                class="mt-4 flex items-center gap-3 text-sm">
                <input type="hidden" name="enabled" value=(!row.enabled).to_string()/>
                <span data-testid=format!("enabled-{}", row.service)>
                    {if row.enabled { "Users can connect it." } else { "Turned off: no new connections." }}
                </span>
                <button type="submit" class=SMALL_BUTTON>
                    {if row.enabled { "Turn off" } else { "Turn on" }}
                    <span class="sr-only">{format!(" {}", row.display_name)}</span>
                </button>
            </form>
        </article>
    }
}
