use super::{AdminFrame, BUTTON, INPUT};
use crate::api::admin::list_audit;
use crate::model::admin::{AuditFilter, AuditPage, AUDIT_KINDS};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The audit log, newest first, filtered by the query string (a plain GET form: it works
/// without JavaScript), 50 events a page, exportable as JSON lines.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| {
            let text = |k: &str| q.get(k).filter(|v| !v.is_empty());
            AuditFilter {
                user: text("user"),
                provider: text("provider"),
                kind: text("kind"),
                outcome: text("outcome"),
                from: text("from"),
                to: text("to"),
                before: q.get("before").and_then(|b| b.parse().ok()),
            }
        })
    });
    let page = Resource::new(move || filter.get(), list_audit);
    view! {
        <AdminFrame title="Audit log">
            {move || view! { <Filters filter=filter.get()/> }}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Ok(page) => view! { <Events page filter=filter.get_untracked()/> }.into_any(),
                    Err(error) => view! {
                        <p role="alert" class="text-red-800">{error.to_string()}</p>
                    }.into_any(),
                })}
            </Suspense>
        </AdminFrame>
    }
}

#[component]
fn Filters(filter: AuditFilter) -> impl IntoView {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let kind = value(&filter.kind);
    let outcome = value(&filter.outcome);
    let export = format!("/admin/audit/export?{}", filter.query(None));
    view! {
        <form method="get" action="/admin/audit"
            class="mb-6 flex flex-wrap items-end gap-3 rounded-xl bg-white p-5 shadow">
            <label class="flex flex-col text-sm font-medium">"User"
                <input name="user" value=value(&filter.user) autocomplete="off" class=INPUT/></label>
            <label class="flex flex-col text-sm font-medium">"Provider"
                <input name="provider" value=value(&filter.provider) autocomplete="off" class=INPUT/></label>
            <label class="flex flex-col text-sm font-medium">"Event"
                <select name="kind" class=INPUT>
                    <option value="">"Any"</option>
                    {AUDIT_KINDS.iter().map(|k| view! {
                        <option value=*k selected=kind == *k>{*k}</option>
                    }).collect_view()}
                </select></label>
            <label class="flex flex-col text-sm font-medium">"Outcome"
                <select name="outcome" class=INPUT>
                    <option value="">"Any"</option>
                    <option value="success" selected=outcome == "success">"Success"</option>
                    <option value="failure" selected=outcome == "failure">"Failure"</option>
                </select></label>
            <label class="flex flex-col text-sm font-medium">"From (UTC)"
                <input name="from" type="date" value=value(&filter.from) class=INPUT/></label>
            <label class="flex flex-col text-sm font-medium">"To (UTC)"
                <input name="to" type="date" value=value(&filter.to) class=INPUT/></label>
            <button type="submit" class=BUTTON>"Filter"</button>
            <a href=export rel="external" class="px-2 py-2 text-indigo-800 underline">"Export (JSON lines)"</a>
        </form>
    }
}

#[component]
fn Events(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let older = page
        .older
        .map(|before| format!("/admin/audit?{}", filter.query(Some(before))));
    let empty = page.rows.is_empty();
    view! {
        <div class="overflow-x-auto rounded-xl bg-white shadow">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Audit events, newest first"</caption>
                <thead class="bg-slate-100"><tr>
                    <th scope="col" class="p-3">"When (UTC)"</th>
                    <th scope="col" class="p-3">"Event"</th>
                    <th scope="col" class="p-3">"Outcome"</th>
                    <th scope="col" class="p-3">"By"</th>
                    <th scope="col" class="p-3">"User"</th>
                    <th scope="col" class="p-3">"Provider"</th>
                    <th scope="col" class="p-3">"Address"</th>
                    <th scope="col" class="p-3">"Reason"</th>
                </tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|e| {
                        let kind = e.kind.clone();
                        view! {
                        <tr data-event=kind class="border-t border-slate-200">
                            <td class="whitespace-nowrap p-3">{e.at}</td>
                            <td class="p-3 font-mono">{e.kind}</td>
                            <td class="p-3">{e.outcome}</td>
                            <td class="p-3">{e.actor.unwrap_or_default()}</td>
                            <td class="p-3">{e.subject.unwrap_or_default()}</td>
                            <td class="p-3">{e.provider.unwrap_or_default()}</td>
                            <td class="p-3">{e.ip.unwrap_or_default()}</td>
                            <td class="p-3">{e.reason.unwrap_or_default()}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
        {empty.then(|| view! { <p class="mt-4">"No events match."</p> })}
        {older.map(|href| view! {
            <p class="mt-4"><a href=href class="text-indigo-800 underline">"Older events"</a></p>
        })}
    }
}
