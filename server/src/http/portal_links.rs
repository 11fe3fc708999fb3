//! Portal links: a backend asks for a short-lived, single-use URL that opens its user's own
//! Connections page (connect, reconnect, disconnect their services, nothing else) without a
//! password, for platforms that link to it from their own settings page. Opening the link
//! shows a page of the hub first; only its Continue button (an origin-guarded POST) uses the
//! link up and signs this browser in as that user. Never for an administrator.

use super::api_key::{user_or_new, ApiKey};
use super::api_v1::ErrorBody;
use super::connect_links::{issue, refused, LinkCreated};
use super::error::ApiError;
use super::limits::Limit;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::store::{self, connect_links};
use crate::domain::oauth::flow;
use crate::state::AppState;
use app::model::admin::ApiScope;
use app::model::Role;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use tower_sessions::Session;
use utoipa::ToSchema;

/// What a backend asks a portal link for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortalLink {
    /// The platform's own id for the user, or the hub's.
    user_id: String,
    /// A relative path on the hub to land on (default `/connections`).
    return_to: Option<String>,
}

fn is_admin() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "user_is_admin",
        "Portal links are for end users; administrators sign in.",
    )
}

/// A single-use URL, valid 10 minutes, that opens this user's own Connections page
#[utoipa::path(
    post,
    path = "/api/v1/portal-links",
    operation_id = "createPortalLink",
    description = "Requires an API key with the `connections:write` scope. A `user_id` the hub \
                   does not know yet is created when the key also has `users:write`.",
    request_body = NewPortalLink,
    responses(
        (status = 201, description = "Success", body = LinkCreated),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 403, description = "`user_disabled`", body = ErrorBody),
        (status = 404, description = "`unknown_user`", body = ErrorBody),
        (status = 409, description = "`user_is_admin`: administrators sign in instead", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    body: Result<Json<NewPortalLink>, JsonRejection>,
) -> Result<(StatusCode, Json<LinkCreated>), ApiError> {
    key.require(ApiScope::ConnectionsWrite)?;
    let Json(body) = body.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON with user_id and optionally return_to.",
        )
    })?;
    let user = user_or_new(&state, &key, &origin, &body.user_id).await?;
    if user.role() == Role::Admin {
        return Err(is_admin());
    }
    let return_to = flow::safe_return_to(body.return_to.as_deref());
    let link = connect_links::NewLink {
        user_id: &user.id,
        provider: connect_links::PORTAL,
        return_to: &return_to,
        created_by: &key.0.id,
        expected_account: None,
    };
    issue(&state, &key, &origin, link, Kind::PortalLinkCreated).await
}

/// The link's user, still enabled and not an administrator; or the refusal, audited.
async fn target(
    state: &AppState,
    origin: &Origin,
    link: Result<connect_links::Model, connect_links::Refused>,
) -> Result<(connect_links::Model, store::users::Model), ApiError> {
    let why = match link {
        Ok(link) if link.provider == connect_links::PORTAL => {
            let user = store::users::by_id(&state.db, &link.user_id).await?;
            match user.filter(|u| !u.disabled && u.role() != Role::Admin) {
                Some(user) => return Ok((link, user)),
                None => "link_target_gone",
            }
        }
        Ok(_) => "link_unknown",
        Err(why) => why.code(),
    };
    let event = Event::new(Kind::ConnectLinkRejected, origin).failed(why);
    store::audit::append(&state.db, event).await?;
    Err(refused())
}

async fn limited(state: &AppState, origin: &Origin) -> Result<(), ApiError> {
    let address = origin.ip.as_deref().unwrap_or_default();
    state
        .limits
        .take(Limit::Callback, address)
        .await
        .map_err(|e| ApiError { html: true, ..e })
}

/// `GET /portal/{token}`: names whose connections the link opens; uses nothing up.
pub async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    origin: Origin,
) -> Result<Response, ApiError> {
    limited(&state, &origin).await?;
    let link = connect_links::peek(&state.db, &token, state.clock.now()).await?;
    let (_, user) = target(&state, &origin, link).await?;
    let who = user.name.as_ref().unwrap_or(&user.username);
    Ok(super::continue_page::confirm(
        &format!("Open {who}'s connections?"),
        &format!(
            "This link opens {who}'s connections on ATOM Connect in this browser, to connect \
             and disconnect {who}'s services. Continue only if you are {who}; the link then \
             stops working."
        ),
        &format!("/portal/{token}"),
        "Open my connections",
        None,
    ))
}

/// `POST /portal/{token}`, from the link's page: uses the link up, signs this browser in as
/// its user (a new session id), and on to the Connections page.
pub async fn proceed(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    origin: Origin,
) -> Result<Response, ApiError> {
    limited(&state, &origin).await?;
    let link = connect_links::consume(&state.db, &token, state.clock.now()).await?;
    let (link, user) = target(&state, &origin, link).await?;
    super::session::start_session(&session, &user, state.clock.now()).await?;
    let event = Event::new(Kind::PortalLinkOpened, &origin)
        .by(&user.id)
        .reason(&format!("link:{}", link.id));
    store::audit::append(&state.db, event).await?;
    Ok(Redirect::to(&link.return_to).into_response())
}
