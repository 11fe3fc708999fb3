//! The one-time setup link: while no administrator exists, `atom serve` prints a link; the
//! browser that opens it may create the first administrator, once. The token leaves the URL
//! at once (303 to /setup) and waits in the session as a hash.

use super::error::ApiError;
use super::session::start_session;
use crate::base::audit::Origin;
use crate::base::store;
use crate::domain::users::{self, Actor, UserError};
use crate::state::AppState;
use app::model::notice::Notice;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

const SETUP_KEY: &str = "setup";

pub async fn open(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let hash = store::digest(&token);
    if token.len() > 64
        || !store::setup_tokens::is_live(&state.db, &hash, state.clock.now()).await?
    {
        return Ok(Redirect::to("/setup?error=expired").into_response());
    }
    session.cycle_id().await.map_err(|_| ApiError::internal())?;
    session
        .insert(SETUP_KEY, hash)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Redirect::to("/setup").into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    username: String,
    password: String,
    confirm_password: String,
}

pub async fn complete(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, ApiError> {
    let back = |notice: Notice| Ok(Redirect::to(&notice.redirect_to("/setup")).into_response());
    let Ok(Some(hash)) = session.get::<String>(SETUP_KEY).await else {
        return back(Notice::Expired);
    };
    if users::check_username(&form.username).is_err() {
        return back(Notice::BadName);
    }
    if users::check_password(&form.password).is_err() {
        return back(Notice::WeakPassword);
    }
    if form.password != form.confirm_password {
        return back(Notice::Mismatch);
    }
    if store::users::by_username(&state.db, &form.username)
        .await?
        .is_some()
    {
        return back(Notice::Exists);
    }
    if !store::setup_tokens::consume(&state.db, &hash, state.clock.now()).await? {
        return back(Notice::Expired);
    }
    let _ = session.remove::<String>(SETUP_KEY).await;
    let actor = Actor {
        id: None,
        origin,
        via: "setup_link",
    };
    let user = match users::add(&state.db, &form.username, &form.password, true, &actor).await {
        Ok(user) => user,
        Err(UserError::Db(e)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "the setup link's administrator was refused");
            return back(Notice::Expired);
        }
    };
    start_session(&session, &user, state.clock.now())
        .await
        .map_err(|e| e.for_browser(&headers))?;
    Ok(Redirect::to("/admin/users").into_response())
}
