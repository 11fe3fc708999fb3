//! The isomorphic UI crate: screens, data shapes and server-function signatures.
//! It never holds a secret: tokens, keys and the database live in the server crate.

pub mod api;
mod components;
#[cfg(feature = "ssr")]
pub mod hub;
pub mod model;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 min-h-screen">
                <App/>
            </body>
        </html>
    }
}

/// Who may open a page. The server mounts each page in the route group that enforces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Only the signed-out: someone signed in goes to their connections (the sign-in page).
    SignedOut,
    /// A signed-in user.
    SignedIn,
    /// A signed-in administrator.
    Admin,
}

/// Every page of [`App`] with who may open it (a page missing here is mounted admin-only).
pub const PAGES: &[(&str, Access)] = &[
    ("/signin", Access::SignedOut),
    ("/setup", Access::Public),
    ("/connections", Access::SignedIn),
    ("/account", Access::SignedIn),
    ("/admin", Access::Admin),
    ("/admin/users", Access::Admin),
    ("/admin/keys", Access::Admin),
    ("/admin/audit", Access::Admin),
    ("/admin/providers", Access::Admin),
];

/// Who may open the page at `path`.
pub fn page_access(path: &str) -> Access {
    PAGES
        .iter()
        .find(|(page, _)| *page == path)
        .map_or(Access::Admin, |(_, access)| *access)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/atom.css"/>
        <Title text="ATOM Connect"/>
        <Router>
            <Routes fallback=|| view! {
                <main class="mx-auto max-w-4xl p-8">
                    <h1 class="text-2xl font-semibold">"Page not found."</h1>
                    <p class="mt-4"><a class="text-indigo-800 underline" href="/connections">
                        "Back to your connections"</a></p>
                </main>
            }>
                // Async too: single sign-on and password sign-in are offered as configured,
                // in the page as it arrives (it works without JavaScript).
                <Route path=path!("/signin") view=pages::signin::SignInPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=pages::setup::SetupPage/>
                // Async: the whole page arrives rendered, so it works without JavaScript.
                <Route path=path!("/connections") view=pages::connections::ConnectionsPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::account::AccountPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=pages::admin::overview::OverviewPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view=pages::admin::users::UsersPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/admin/keys") view=pages::admin::keys::KeysPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage
                    ssr=SsrMode::Async/>
                <Route path=path!("/admin/providers") view=pages::admin::providers::ProvidersPage
                    ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
