//! `GET /api/events`: server-sent events telling a signed-in user's pages what changed: their
//! own connections, and for administrators that new audit events exist. At most
//! `limits.streams_per_user` streams per user and `limits.streams_per_address` per address are
//! open at once; a stream ends with its session (sign-out, password or role change, disabled,
//! timeouts), whichever instance ended it, and when the server stops.

use super::account::client_address;
use super::auth::SignedIn;
use super::error::ApiError;
use super::limits::StreamSlot;
use crate::events::Change;
use crate::state::AppState;
use app::model::CurrentUser;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tower_sessions::session::Id;
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
    let watch = Watch {
        changes: state.events.subscribe(),
        closed: Box::pin(state.events.closed()),
        recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
        session_id: session.id(),
        user,
        state,
        _slot: slot,
    };
    // The answer's body reads the changes itself (no task and channel per stream): a change
    // wakes each open stream once, and a stream the browser closed is dropped with its body.
    let events = futures::stream::unfold(watch, |mut watch| async move {
        let event = watch.next().await?;
        Some((Ok(event), watch))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One open stream: what it listens to and whose it is.
struct Watch {
    state: AppState,
    user: CurrentUser,
    session_id: Option<Id>,
    changes: broadcast::Receiver<Change>,
    closed: Pin<Box<dyn Future<Output = ()> + Send>>,
    recheck: tokio::time::Interval,
    /// Counted against the caps until the stream is dropped.
    _slot: StreamSlot,
}

impl Watch {
    /// The next event this stream's page may hear; None when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let session_may_have_ended = tokio::select! {
                () = &mut self.closed => return None,
                _ = self.recheck.tick() => true,
                change = self.changes.recv() => match change {
                    Ok(Change::Account { user_id }) => user_id == self.user.id,
                    Ok(change) => match visible(&change, &self.user) {
                        Some(event) => return Some(event),
                        None => false,
                    },
                    // Missed some: tell the page to reload everything.
                    Err(RecvError::Lagged(_)) => {
                        return Some(Event::default().event("connection").data("*"))
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if session_may_have_ended
                && ended(&self.state, self.session_id.as_ref(), &self.user).await
            {
                return None;
            }
        }
    }
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
async fn ended(state: &AppState, session_id: Option<&Id>, user: &CurrentUser) -> bool {
    match session_id {
        Some(id) => !super::session::still_signed_in(state, id, &user.id).await,
        // A connect link's grant is no session: it never opens a stream.
        None => true,
    }
}
