use crate::api::connections::list_connections;
use crate::components::{live, nav::Nav, provider_card::ProviderCard};
use crate::model::{ConnectFailure, ConnectionsView, Revocation};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The user's connections: one card per provider, updated live over server-sent events.
#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_connections());
    let hydrated = RwSignal::new(false);
    // The cards last shown: a failed reload (the network dropped) keeps them on screen.
    let shown = StoredValue::new(None::<ConnectionsView>);
    Effect::new(move |_| {
        hydrated.set(true);
        live::on_change(&["connection"], move || data.refetch());
    });
    view! {
        <main data-hydrated=move || hydrated.get().to_string() class="mx-auto max-w-4xl p-6">
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || data.get().map(|result| match (result, shown.get_value()) {
                    (Ok(view), _) => {
                        shown.set_value(Some(view.clone()));
                        view! { <Connections view/> }.into_any()
                    }
                    (Err(_), Some(view)) => {
                        retry_soon(move || data.refetch());
                        view! {
                            <p role="alert" class="mb-4 rounded bg-amber-50 p-3 text-amber-900">
                                "The hub could not be reached: what you see may be out of date. \
                                 Trying again…"
                            </p>
                            <Connections view/>
                        }.into_any()
                    }
                    (Err(error), None) => view! {
                        <p role="alert" class="text-red-800">{error.to_string()}</p>
                    }.into_any(),
                })}
            </Transition>
        </main>
    }
}

/// Asks again in a few seconds (in the browser only).
fn retry_soon(again: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    set_timeout(again, std::time::Duration::from_secs(5));
    #[cfg(not(feature = "hydrate"))]
    let _ = again;
}

#[component]
fn Connections(view: ConnectionsView) -> impl IntoView {
    let flash = flash_message(&view);
    view! {
        <Nav user=view.user.clone() title="Connections"/>
        {flash.map(|(ok, text)| view! {
            <p role="status" class=if ok { "mb-4 rounded bg-green-50 p-3 text-green-900" }
                else { "mb-4 rounded bg-amber-50 p-3 text-amber-900" }>{text}</p>
        })}
        <section aria-live="polite" class="grid gap-4 sm:grid-cols-2">
            {view.cards.into_iter().map(|card| view! { <ProviderCard card/> }).collect_view()}
        </section>
    }
}

/// The message after a connect flow, from the fixed set: the query only picks which one.
fn flash_message(view: &ConnectionsView) -> Option<(bool, String)> {
    let query = use_query_map().get_untracked();
    let name_of = |service: &str| {
        view.cards
            .iter()
            .find(|c| c.service == service)
            .map(|c| c.display_name.clone())
    };
    if let Some(name) = query.get("connected").and_then(|s| name_of(&s)) {
        return Some((true, format!("{name} connected.")));
    }
    if let Some(name) = query.get("disconnected").and_then(|s| name_of(&s)) {
        let revocation = query
            .get("revocation")
            .and_then(|code| Revocation::parse(&code))
            .unwrap_or(Revocation::RevocationFailed);
        return Some((revocation.confirmed(), revocation.message(&name)));
    }
    let code = query.get("error")?;
    let name = query
        .get("service")
        .and_then(|s| name_of(&s))
        .unwrap_or_else(|| "the provider".to_string());
    let message = ConnectFailure::parse(&code).map_or_else(
        || ConnectFailure::fallback_message(&name),
        |failure| failure.message(&name),
    );
    Some((false, message))
}
