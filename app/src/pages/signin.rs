use crate::api::account::sign_in_options;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Sign-in: a plain form post to the server, so it works before (and without) hydration.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let failed = move || query.with(|q| q.get("error").is_some());
    let options = Resource::new(|| (), |_| sign_in_options());
    view! {
        <main class="mx-auto mt-16 max-w-sm rounded-xl bg-white p-8 shadow">
            <h1 class="mb-6 text-2xl font-semibold">"Sign in to ATOM Connect"</h1>
            <Show when=failed>
                <p role="alert" class="mb-4 rounded bg-red-50 p-3 text-red-800">
                    "Wrong username or password"
                </p>
            </Show>
            <Suspense fallback=|| ()>
                {move || {
                    let offered = options.get().and_then(Result::ok);
                    let sso = offered.as_ref().and_then(|o| o.sso.clone());
                    // The password form unless the hub says it is off.
                    let password = offered.is_none_or(|o| o.password);
                    view! {
                        {sso.map(|name| view! {
                            <a href="/auth/sso"
                                class="mb-4 block rounded border border-indigo-700 p-2 text-center font-medium text-indigo-800 hover:bg-indigo-50">
                                {format!("Sign in with {name}")}
                            </a>
                        })}
                        <Show when=move || password>
                            <form method="post" action="/auth/signin" class="flex flex-col gap-3">
                    <label for="username" class="text-sm font-medium">"Username"</label>
                    <input id="username" name="username" autocomplete="username" required
                        class="rounded border border-slate-300 p-2"/>
                    <label for="password" class="text-sm font-medium">"Password"</label>
                    <input id="password" name="password" type="password"
                        autocomplete="current-password" required
                        class="rounded border border-slate-300 p-2"/>
                    <button type="submit"
                        class="mt-2 rounded bg-indigo-700 p-2 font-medium text-white hover:bg-indigo-800">
                        "Sign in"
                    </button>
                </form>
                        </Show>
                    }
                }}
            </Suspense>
        </main>
    }
}
