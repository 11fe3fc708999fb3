use crate::model::CurrentUser;
use leptos::prelude::*;

/// The top bar on every signed-in page: where you are, who you are, and sign out.
#[component]
pub fn Nav(user: CurrentUser, title: &'static str) -> impl IntoView {
    let link = "rounded px-2 py-1 hover:bg-slate-200";
    view! {
        <header class="mb-6 flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold">{title}</h1>
            <nav aria-label="Main" class="flex flex-wrap items-center gap-2 text-sm">
                <a href="/connections" class=link>"Connections"</a>
                {user.is_admin().then(|| view! {
                    <a href="/admin" class=link>"Overview"</a>
                    <a href="/admin/users" class=link>"Users"</a>
                    <a href="/admin/keys" class=link>"API keys"</a>
                    <a href="/admin/providers" class=link>"Providers"</a>
                    <a href="/admin/audit" class=link>"Audit log"</a>
                })}
                <a href="/account" class=link>{format!("Account ({})", user.username)}</a>
                <form method="post" action="/auth/signout">
                    <button type="submit" class="rounded border border-slate-300 px-3 py-1">
                        "Sign out"
                    </button>
                </form>
            </nav>
        </header>
    }
}

/// A fixed message chosen by a query code (never text from the query itself).
#[component]
pub fn Flash(message: Option<(bool, &'static str)>) -> impl IntoView {
    message.map(|(ok, text)| {
        let class = if ok {
            "mb-4 rounded bg-green-50 p-3 text-green-900"
        } else {
            "mb-4 rounded bg-amber-50 p-3 text-amber-900"
        };
        view! { <p role="status" class=class>{text}</p> }
    })
}
