use super::{AdminFrame, BUTTON, INPUT, SMALL_BUTTON};
use crate::api::admin::list_api_keys;
use crate::model::admin::{ApiKeyRow, ApiScope};
use leptos::prelude::*;

#[component]
pub fn KeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_api_keys());
    view! {
        <AdminFrame title="API keys">
            <section class="mb-8 rounded-xl bg-white p-5 shadow">
                <h2 class="mb-1 text-lg font-semibold">"Create an API key"</h2>
                <p class="mb-3 text-sm text-slate-700">
                    "The platform's backend services send it as " <code>"Authorization: Bearer …"</code>
                    ". It is shown once, right after you create it."
                </p>
                <form method="post" action="/admin/keys/new" class="flex flex-col gap-3">
                    <label class="flex max-w-sm flex-col text-sm font-medium">"Name"
                        <input name="name" required maxlength="64" autocomplete="off" class=INPUT/></label>
                    <fieldset class="flex flex-col gap-1 text-sm">
                        <legend class="font-medium">"Scopes"</legend>
                        {ApiScope::ALL.into_iter().map(|scope| view! {
                            <label class="flex items-center gap-2">
                                <input type="checkbox" name=scope.form_name() value="on"/>
                                <code>{scope.as_str()}</code>" — "{scope.meaning()}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <div><button type="submit" class=BUTTON>"Create key"</button></div>
                </form>
            </section>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || keys.get().map(|result| match result {
                    Ok(rows) => view! { <KeyTable rows/> }.into_any(),
                    Err(_) => view! {
                        <p role="alert" class="text-red-800">"The keys could not be loaded."</p>
                    }.into_any(),
                })}
            </Suspense>
        </AdminFrame>
    }
}

#[component]
fn KeyTable(rows: Vec<ApiKeyRow>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl bg-white shadow">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"API keys"</caption>
                <thead class="bg-slate-100"><tr>
                    <th scope="col" class="p-3">"Name"</th>
                    <th scope="col" class="p-3">"Key starts with"</th>
                    <th scope="col" class="p-3">"Scopes"</th>
                    <th scope="col" class="p-3">"Created (UTC)"</th>
                    <th scope="col" class="p-3">"Last used"</th>
                    <th scope="col" class="p-3">"State"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <KeyLine row/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyLine(row: ApiKeyRow) -> impl IntoView {
    let action = format!("/admin/keys/{}/revoke", row.id);
    view! {
        <tr data-key=row.name.clone() class="border-t border-slate-200">
            <td class="p-3 font-medium">{row.name.clone()}</td>
            <td class="p-3"><code>{format!("{}…", row.prefix)}</code></td>
            <td class="p-3">{row.scopes.join(", ")}</td>
            <td class="p-3">{row.created_at.clone()}</td>
            <td class="p-3">{row.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
            <td class="p-3">
                {if row.revoked {
                    view! { <span>"Revoked"</span> }.into_any()
                } else {
                    view! {
                        <form method="post" action=action>
                            <button type="submit" class=SMALL_BUTTON
                                aria-label=format!("Revoke {}", row.name)>"Revoke"</button>
                        </form>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
