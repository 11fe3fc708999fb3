//! After a connect link's callback: the visitor is not signed in, so the outcome has a page of
//! its own. Success names the provider account now connected, with a one-click undo (for
//! whoever approved the wrong account); a failure says why (a link that expected another
//! account stored nothing). The undo works once, from this browser, for ten minutes, and only
//! on the connection the link made.

use super::error::ApiError;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::providers::Provider;
use crate::base::store;
use crate::domain::oauth::flow::{CompleteError, Completed};
use crate::state::AppState;
use app::model::CurrentUser;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

const DONE_KEY: &str = "connect_link_done";

/// What this browser may see and undo after its link's flow.
#[derive(serde::Serialize, serde::Deserialize)]
struct Done {
    user_id: String,
    who: String,
    provider: String,
    connection_id: String,
    account: String,
    return_to: String,
    expires_at: i64,
}

/// The callback's answer for a link's flow: to the "connected as" page, or a page that says
/// why nothing was connected.
pub async fn after_callback(
    state: &AppState,
    session: &Session,
    provider: &Provider,
    user: &CurrentUser,
    outcome: Result<Completed, CompleteError>,
) -> Result<Response, ApiError> {
    let service = &provider.display_name;
    let failed = |why: String| {
        super::continue_page::notice(&format!("{service} was not connected"), &why, None)
    };
    let done = match outcome {
        Ok(done) => done,
        Err(CompleteError(failure)) => {
            return Ok(with_status(
                StatusCode::BAD_REQUEST,
                failed(failure.message(service)),
            ))
        }
    };
    let return_to = done.return_to;
    // The account just connected: Undo must never reach another of the user's accounts.
    let row =
        store::connections::of_account(&state.db, &user.id, &provider.service, &done.account_id)
            .await?;
    let Some(row) = row else {
        return Ok(failed(format!(
            "{service} was disconnected again meanwhile."
        )));
    };
    let name = store::users::by_id(&state.db, &user.id)
        .await?
        .and_then(|u| u.name)
        .unwrap_or_else(|| user.username.clone());
    let done = Done {
        user_id: user.id.clone(),
        who: name,
        provider: provider.service.clone(),
        connection_id: row.id,
        account: if row.account_name.is_empty() {
            row.account_id
        } else {
            row.account_name
        },
        return_to,
        expires_at: (state.clock.now() + chrono::Duration::minutes(10)).timestamp(),
    };
    session
        .insert(DONE_KEY, done)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Redirect::to("/connect/done").into_response())
}

fn with_status(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response
}

fn nothing(title: &str) -> Response {
    with_status(
        StatusCode::BAD_REQUEST,
        super::continue_page::notice(
            title,
            "This page works once, for ten minutes, in the browser that used the link.",
            None,
        ),
    )
}

async fn current(state: &AppState, session: &Session) -> Option<Done> {
    let done: Done = session.get(DONE_KEY).await.ok().flatten()?;
    (done.expires_at > state.clock.now().timestamp()).then_some(done)
}

fn display_name(state: &AppState, service: &str) -> String {
    state
        .catalog
        .get(service)
        .map_or_else(|| service.to_string(), |p| p.display_name.clone())
}

/// `GET /connect/done`: "GitHub connected as …", Undo, and the way on.
pub async fn page(State(state): State<AppState>, session: Session) -> Response {
    let Some(done) = current(&state, &session).await else {
        return nothing("Nothing to show");
    };
    let service = display_name(&state, &done.provider);
    let (account, who) = (&done.account, &done.who);
    super::continue_page::confirm(
        &format!("{service} connected as {account}"),
        &format!(
            "{account} is now connected for {who} on ATOM Connect. Not the {service} account \
             you meant? Undo removes it here and gives its access back to {service}."
        ),
        "/connect/done",
        &format!("Undo: disconnect {account}"),
        Some((&done.return_to, "Done")),
    )
}

/// `POST /connect/done` (origin-guarded): disconnects the link's connection, once.
pub async fn undo(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
) -> Result<Response, ApiError> {
    let Some(done) = current(&state, &session).await else {
        return Ok(nothing("Nothing to undo"));
    };
    let _ = session.remove::<Done>(DONE_KEY).await;
    let service = display_name(&state, &done.provider);
    let row = store::connections::by_id(&state.db, &done.connection_id).await?;
    let Some(row) = row.filter(|r| r.user_id == done.user_id && r.provider == done.provider) else {
        return Ok(nothing("Nothing to undo"));
    };
    let provider = state.catalog.get(&done.provider);
    let mut event = Event::new(Kind::Disconnected, &origin);
    event.subject = Some(done.user_id.clone());
    crate::domain::disconnect::disconnect(&state, row, provider.as_deref(), event).await?;
    Ok(super::continue_page::notice(
        &format!("{service} disconnected"),
        &format!(
            "{} is no longer connected for {} and its access was given back to {service}.",
            done.account, done.who
        ),
        Some((&done.return_to, "Done")),
    ))
}
