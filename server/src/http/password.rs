//! Changing one's own password: the current one is required (and rate-limited like sign-in);
//! the change ends every other session of the user and gives this browser a new session id.

use super::account::password_matches;
use super::auth::SignedIn;
use super::error::ApiError;
use super::limits::Limit;
use super::session::start_session;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::domain::users::{change_password, UserError};
use crate::state::AppState;
use app::model::notice::Notice;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    headers: HeaderMap,
    SignedIn { user, .. }: SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    // The same quota as signing in to this account from this address: guessing the current
    // password here is no cheaper, and a stranger elsewhere does not spend it.
    let address = super::limits::address_group(origin.ip.as_deref().unwrap_or_default());
    let key = format!("{}|{address}", user.username.to_lowercase());
    state
        .limits
        .take(Limit::SignInAccount, &key)
        .await
        .map_err(|e| e.for_browser(&headers))?;
    let back = |notice: Notice| Ok(Redirect::to(&notice.redirect_to("/account")).into_response());
    let Some(row) = store::users::by_id(&state.db, &user.id).await? else {
        return Err(ApiError::sign_in_required().for_browser(&headers));
    };
    if !password_matches(Some(&row), form.current_password).await {
        let event = Event::new(Kind::PasswordChanged, &origin)
            .by(&user.id)
            .failed("bad_credentials");
        store::audit::append(&state.db, event).await?;
        return back(Notice::WrongPassword);
    }
    if form.new_password != form.confirm_password {
        return back(Notice::Mismatch);
    }
    let epoch = match change_password(&state.db, &row, &form.new_password, &origin).await {
        Ok(epoch) => epoch,
        Err(UserError::WeakPassword) => return back(Notice::WeakPassword),
        Err(e) => {
            tracing::error!(error = %e, "changing a password failed");
            return Err(ApiError::internal().for_browser(&headers));
        }
    };
    let moved = store::users::Model {
        session_epoch: epoch,
        ..row
    };
    start_session(&session, &moved, state.clock.now()).await?;
    Ok(Redirect::to("/account?changed=1").into_response())
}
