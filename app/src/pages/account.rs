use crate::api::account::current_account;
use crate::components::nav::{Flash, Nav};
use crate::model::notice::Notice;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The signed-in user's own account: who they are, and a password change (a plain form post
/// to the server, so it works without JavaScript and the password never passes this crate).
#[component]
pub fn AccountPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_account());
    let query = use_query_map().get_untracked();
    // `?changed=1` after a password change (the redirect tests and bookmarks know).
    let message = if query.get("changed").is_some() {
        Some(Notice::PasswordChanged)
    } else {
        Notice::from_query(None, query.get("error"))
    }
    .map(|notice| (notice.ok(), notice.text()));
    let input = "rounded border border-slate-300 p-2";
    view! {
        <main class="mx-auto max-w-4xl p-6">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || me.get().map(|result| result.ok().map(|user| view! {
                    <Nav user=user.clone() title="Account"/>
                    <Flash message/>
                    <p class="mb-6">"Signed in as " <strong>{user.username.clone()}</strong>
                        {if user.is_admin() { " (administrator)" } else { "" }}</p>
                }))}
            </Suspense>
            <section class="max-w-sm rounded-xl bg-white p-6 shadow">
                <h2 class="mb-4 text-lg font-semibold">"Change password"</h2>
                <form method="post" action="/auth/password" class="flex flex-col gap-3">
                    <label for="current_password" class="text-sm font-medium">"Current password"</label>
                    <input id="current_password" name="current_password" type="password"
                        autocomplete="current-password" required class=input/>
                    <label for="new_password" class="text-sm font-medium">"New password"</label>
                    <input id="new_password" name="new_password" type="password" minlength="8"
                        autocomplete="new-password" required class=input/>
                    <label for="confirm_password" class="text-sm font-medium">"New password again"</label>
                    <input id="confirm_password" name="confirm_password" type="password" minlength="8"
                        autocomplete="new-password" required class=input/>
                    <button type="submit"
                        class="mt-2 rounded bg-indigo-700 p-2 font-medium text-white hover:bg-indigo-800">
                        "Change password"
                    </button>
                </form>
            </section>
        </main>
    }
}
