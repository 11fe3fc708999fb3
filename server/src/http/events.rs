//! `GET /api/events`: server-sent events telling a signed-in user's pages what changed: their
//! own connections, and for administrators that new audit events exist.

use super::auth::SignedIn;
use super::error::ApiError;
use crate::events::Change;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use std::convert::Infallible;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};
use tokio_stream::StreamExt;

pub async fn stream(
    State(state): State<AppState>,
    SignedIn { user, .. }: SignedIn,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let events =
        BroadcastStream::new(state.events.subscribe()).filter_map(move |item| match item {
            Ok(Change::Connection { user_id, provider }) if user_id == user.id => {
                Some(Ok(Event::default().event("connection").data(provider)))
            }
            Ok(Change::Everyone) => Some(Ok(Event::default().event("connection").data("*"))),
            // Only that something happened: the dashboard asks again, with its role checked.
            Ok(Change::Audit) if user.is_admin() => {
                Some(Ok(Event::default().event("audit").data("")))
            }
            Ok(_) => None,
            // Missed some: tell the page to reload everything.
            Err(BroadcastStreamRecvError::Lagged(_)) => {
                Some(Ok(Event::default().event("connection").data("*")))
            }
        });
    let events = futures::StreamExt::take_until(events, state.events.closed());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
