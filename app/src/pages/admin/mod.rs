//! The admin area (role admin): the overview, users, API keys, providers and the audit log. Changes are plain form posts to the
//! server (they work without JavaScript, and passwords and keys never pass this crate).

pub mod audit;
pub mod keys;
pub mod overview;
pub mod providers;
pub mod users;

use crate::api::account::current_account;
use crate::components::nav::{Flash, Nav};
use crate::model::notice::Notice;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The frame of every admin page: navigation, the message a form redirected with, content.
#[component]
fn AdminFrame(title: &'static str, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| current_account());
    let query = use_query_map().get_untracked();
    let message = Notice::from_query(query.get("done"), query.get("error"))
        .map(|notice| (notice.ok(), notice.text()));
    view! {
        <main class="mx-auto max-w-5xl p-6">
            <Suspense fallback=|| ()>
                {move || me.get().and_then(Result::ok).map(|user| view! { <Nav user title/> })}
            </Suspense>
            <Flash message/>
            {children()}
        </main>
    }
}

const INPUT: &str = "rounded border border-slate-300 p-2";
const BUTTON: &str = "rounded bg-indigo-700 px-3 py-2 font-medium text-white hover:bg-indigo-800";
const SMALL_BUTTON: &str = "rounded border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100";
