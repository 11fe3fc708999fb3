//! `GET /api/events`: server-sent events telling a signed-in user's pages what changed: their
//! own connections, and for administrators that new audit events exist. At most
//! `limits.streams_per_user` streams per user and `limits.streams_per_address` per address are
//! open at once; a stream ends with its session (sign-out, password or role change, disabled,
//! timeouts), whichever instance ended it, and when the server stops.

use super::account::client_address;
use super::auth::SignedIn;
use super::error::ApiError;
use crate::events::Change;
use crate::state::AppState;
use app::model::CurrentUser;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

/// How often a stream checks its session even when nothing happened (timeouts).
const RECHECK: Duration = Duration::from_secs(60);

pub async fn stream(
    State(state): State<AppState>,
    SignedIn { user, .. }: SignedIn,
    session: Session,
    parts: Parts,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let address = client_address(&parts, &state.config.server.trusted_proxies).unwrap_or_default();
    let slot = state.limits.open_stream(&user.id, &address)?;
    let session_id = session.id();
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let mut changes = state.events.subscribe();
    let closed = state.events.closed();
    tokio::spawn(async move {
        let _slot = slot;
        tokio::pin!(closed);
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        loop {
            let event = tokio::select! {
                () = &mut closed => break,
                () = sender.closed() => break,
                _ = recheck.tick() => {
                    if ended(&state, session_id.as_ref(), &user).await {
                        break;
                    }
                    continue;
                }
                change = changes.recv() => match change {
                    Ok(Change::Account { user_id }) if user_id == user.id => {
                        if ended(&state, session_id.as_ref(), &user).await {
                            break;
                        }
                        continue;
                    }
                    Ok(change) => match visible(&change, &user) {
                        Some(event) => event,
                        None => continue,
                    },
                    // Missed some: tell the page to reload everything.
                    Err(RecvError::Lagged(_)) => Event::default().event("connection").data("*"),
                    Err(RecvError::Closed) => break,
                },
            };
            if sender.send(Ok(event)).await.is_err() {
                break;
            }
        }
    });
    let events = tokio_stream::wrappers::ReceiverStream::new(receiver);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// What of a change this user's pages may hear.
fn visible(change: &Change, user: &CurrentUser) -> Option<Event> {
    match change {
        Change::Connection { user_id, provider } if *user_id == user.id => {
            Some(Event::default().event("connection").data(provider))
        }
        Change::Everyone => Some(Event::default().event("connection").data("*")),
        // Only that something happened: the dashboard asks again, with its role checked.
        Change::Audit if user.is_admin() => Some(Event::default().event("audit").data("")),
        _ => None,
    }
}

/// Whether the stream's session no longer signs its user in.
async fn ended(
    state: &AppState,
    session_id: Option<&tower_sessions::session::Id>,
    user: &CurrentUser,
) -> bool {
    match session_id {
        Some(id) => !super::session::still_signed_in(state, id, &user.id).await,
        // A connect link's grant is no session: it never opens a stream.
        None => true,
    }
}
