use crate::model::scopes::describe;
use crate::model::{ConnectionCard, ConnectionState, OtherAccount};
use leptos::prelude::*;

/// One provider: its state, the connected account and the one action that fits.
#[component]
pub fn ProviderCard(card: ConnectionCard) -> impl IntoView {
    let status = match (card.state, &card.account) {
        (ConnectionState::Connected, Some(account)) => format!("Connected as {account}"),
        (ConnectionState::Connected, None) => "Connected".to_string(),
        (ConnectionState::NotConnected, _) => "Not connected".to_string(),
        (ConnectionState::Expired | ConnectionState::NeedsReauth, _) => {
            "Needs attention".to_string()
        }
    };
    let service = card.service.clone();
    let connected = card.state != ConnectionState::NotConnected;
    let connect_label = if connected { "Reconnect" } else { "Connect" };
    let show_connect = card.enabled
        && (card.state != ConnectionState::Connected || !card.missing_scopes.is_empty());
    let granted = describe(&card.scopes);
    let requested = describe(&card.requested_scopes);
    // Named, so that with several accounts exactly this one goes.
    let disconnect_url = match &card.connection_id {
        Some(id) => format!("/api/auth/{service}/disconnect?connection={id}"),
        None => format!("/api/auth/{service}/disconnect"),
    };
    let others = card.others.clone();
    let display_name = card.display_name.clone();
    view! {
        <article data-provider=service.clone() class="rounded-xl bg-white p-5 shadow">
            <div class="flex items-center justify-between gap-3">
                <div class="flex items-center gap-3">
                    // Decorative: the name is right next to it.
                    <img src=card.logo.clone() alt="" width="32" height="32" class="h-8 w-8"/>
                    <h2 class="text-lg font-semibold">{card.display_name.clone()}</h2>
                </div>
                {card.sandbox.then(|| view! {
                    <span class="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900">
                        "Sandbox"
                    </span>
                })}
            </div>
            <p data-testid=format!("status-{service}") class="mt-2 text-sm">{status}</p>
            {card.connection_id.clone().map(|id| view! {
                <AccountName service=service.clone() connection_id=id label=card.label.clone()/>
            })}
            {card.connected_at.clone().map(|at| view! {
                <p class="mt-1 text-xs text-slate-600">
                    "Connected " {at} " UTC"
                    {card.refreshed_at.clone().map(|at| format!(" · refreshed {at} UTC"))}
                </p>
            })}
            {(!granted.is_empty()).then(|| view! {
                <p class="mt-1 text-xs text-slate-600">"Allowed to: " {granted}</p>
            })}
            {attention(card.state, &card.display_name).map(|text| view! {
                <p data-testid=format!("attention-{service}") class="mt-2 rounded bg-amber-50 p-2 text-xs text-amber-900">
                    {text}
                </p>
            })}
            {(!card.enabled).then(|| view! {
                <p class="mt-2 rounded bg-slate-100 p-2 text-xs text-slate-700">
                    "Your administrator has turned off new connections to this service."
                </p>
            })}
            {(!card.missing_scopes.is_empty()).then(|| view! {
                <p data-testid=format!("missing-{service}") class="mt-2 rounded bg-amber-50 p-2 text-xs text-amber-900">
                    "Fewer permissions were granted than asked for: ATOM Connect may not "
                    {describe(&card.missing_scopes)}
                    ". Some features may not work; Reconnect to grant them."
                </p>
            })}
            {(!connected).then(|| view! {
                <p class="mt-1 text-xs text-slate-600">
                    "Connect takes you to " {card.display_name.clone()}
                    ", where you approve access and come back here."
                    {(!requested.is_empty()).then(|| format!(" It will ask to {requested}."))}
                </p>
            })}
            <div class="mt-4 flex gap-2">
                {show_connect.then(|| view! {
                    <form method="post" action=format!("/api/auth/{service}/authorize")>
                        <button type="submit"
                            class="rounded bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800">
                            {connect_label}
                        </button>
                    </form>
                })}
                // A disclosure, not a dialog: the confirmation works with and without JavaScript.
                {connected.then(|| view! {
                    <details class="flex-1">
                        <summary class="inline-block cursor-pointer list-none rounded border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100">
                            "Disconnect"
                        </summary>
                        <div class="mt-2 rounded bg-slate-100 p-3 text-sm">
                            <p>{format!(
                                "Disconnect {name}? ATOM Connect asks {name} to revoke its access \
                                 and forgets the tokens; services that use this connection stop \
                                 working until you connect again.",
                                name = card.display_name
                            )}</p>
                            <form method="post" action=disconnect_url.clone()>
                                <button type="submit"
                                    class="mt-2 rounded bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-800">
                                    {format!("Yes, disconnect {}", card.display_name)}
                                </button>
                            </form>
                        </div>
                    </details>
                })}
            </div>
            {(!others.is_empty()).then(|| view! {
                <ul class="mt-4 flex flex-col gap-2 border-t border-slate-200 pt-3" aria-label=format!("Other {display_name} accounts")>
                    {others.into_iter().map(|other| view! {
                        <OtherAccountLine service=service.clone() display_name=display_name.clone() other/>
                    }).collect_view()}
                </ul>
            })}
            {(connected && card.enabled).then(|| view! {
                <form method="post" action=format!("/api/auth/{service}/authorize?another=true") class="mt-3">
                    <button type="submit" class="text-sm font-medium text-indigo-800 underline hover:text-indigo-950">
                        "Add another account"
                    </button>
                </form>
            })}
        </article>
    }
}

/// Another account of the service: its state and its own Disconnect.
#[component]
fn OtherAccountLine(service: String, display_name: String, other: OtherAccount) -> impl IntoView {
    let name = other
        .account
        .clone()
        .unwrap_or_else(|| "another account".to_string());
    let status = match other.state {
        ConnectionState::Connected => format!("Connected as {name}"),
        ConnectionState::NotConnected => "Not connected".to_string(),
        ConnectionState::Expired | ConnectionState::NeedsReauth => {
            format!("{name}: needs attention (Add another account and sign in as {name} again)")
        }
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 text-sm" data-connection=other.connection_id.clone()>
            <span>
                <span data-testid=format!("status-{service}-{}", other.connection_id)>{status}</span>
                <span class="ml-2 text-xs text-slate-600">"since " {other.connected_at} " UTC"</span>
                <AccountName service=service.clone() connection_id=other.connection_id.clone() label=other.label.clone()/>
            </span>
            <details>
                <summary class="inline-block cursor-pointer list-none rounded border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-100">
                    {format!("Disconnect {name}")}
                </summary>
                <form method="post" action=format!("/api/auth/{service}/disconnect?connection={}", other.connection_id)>
                    <button type="submit"
                        class="mt-2 rounded bg-red-700 px-3 py-1 text-sm font-medium text-white hover:bg-red-800">
                        {format!("Yes, disconnect {name} from {display_name}")}
                    </button>
                </form>
            </details>
        </li>
    }
}

/// What went wrong with a connection that needs its user, and what to do.
fn attention(state: ConnectionState, name: &str) -> Option<String> {
    match state {
        ConnectionState::NeedsReauth => Some(format!(
            "{name} no longer accepts this connection: access was removed at {name}, or it \
             ran out. Reconnect to keep using it."
        )),
        ConnectionState::Expired => Some(format!(
            "The access to {name} expired and could not be renewed yet. If this stays, \
             Reconnect."
        )),
        _ => None,
    }
}

/// The name the user gave an account, and the form that changes it (a disclosure: it works
/// with and without JavaScript).
#[component]
fn AccountName(service: String, connection_id: String, label: Option<String>) -> impl IntoView {
    let action = format!("/api/auth/{service}/label?connection={connection_id}");
    view! {
        <span class="mt-1 inline-flex flex-wrap items-center gap-2 text-xs">
            {label.clone().map(|label| view! {
                <span data-testid=format!("label-{connection_id}") class="rounded-full bg-indigo-50 px-2 py-0.5 font-medium text-indigo-900">
                    {label}
                </span>
            })}
            <details>
                <summary class="cursor-pointer text-slate-700 underline">"Name this account"</summary>
                <form method="post" action=action class="mt-1 flex items-center gap-2">
                    <label class="flex items-center gap-1">"Name"
                        <input name="label" maxlength="64" value=label.unwrap_or_default()
                            class="rounded border border-slate-300 px-2 py-1 text-xs"/>
                    </label>
                    <button type="submit" class="rounded border border-slate-300 px-2 py-1 font-medium hover:bg-slate-100">
                        "Save name"
                    </button>
                </form>
            </details>
        </span>
    }
}
