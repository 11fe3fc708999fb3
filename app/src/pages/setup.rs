use crate::model::notice::Notice;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// First start: the one-time setup link leads here to create the first administrator.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let problem = Notice::from_query(None, query.get("error")).map(Notice::text);
    let input = "rounded border border-slate-300 p-2";
    view! {
        <main class="mx-auto mt-16 max-w-sm rounded-xl bg-white p-8 shadow">
            <h1 class="mb-2 text-2xl font-semibold">"Set up ATOM Connect"</h1>
            <p class="mb-6 text-sm text-slate-700">
                "Create the first administrator. This link works once."
            </p>
            {problem.map(|text| view! {
                <p role="alert" class="mb-4 rounded bg-red-50 p-3 text-red-800">{text}</p>
            })}
            <form method="post" action="/auth/setup" class="flex flex-col gap-3">
                <label for="username" class="text-sm font-medium">"Username"</label>
                <input id="username" name="username" autocomplete="username" required class=input/>
                <label for="password" class="text-sm font-medium">"Password"</label>
                <input id="password" name="password" type="password" minlength="8"
                    autocomplete="new-password" required class=input/>
                <label for="confirm_password" class="text-sm font-medium">"Password again"</label>
                <input id="confirm_password" name="confirm_password" type="password" minlength="8"
                    autocomplete="new-password" required class=input/>
                <button type="submit"
                    class="mt-2 rounded bg-indigo-700 p-2 font-medium text-white hover:bg-indigo-800">
                    "Create administrator"
                </button>
            </form>
        </main>
    }
}
