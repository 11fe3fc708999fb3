//! Connect links: a backend asks for a short-lived, single-use URL; the browser that opens it
//! may connect that one service for that one user, and nothing else (see session::grant_link).

use super::api_key::{user_or_new, ApiKey};
use super::api_v1::ErrorBody;
use super::error::ApiError;
use super::limits::Limit;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::providers::Lookup;
use crate::base::store::{self, connect_links};
use crate::domain::oauth::expected::{Expected, Unusable};
use crate::domain::oauth::flow::{self, StartError, Who};
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;

/// What a backend asks a connect link for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// The platform's own id for the user, or the hub's.
    user_id: String,
    service: String,
    /// A relative path on the hub to come back to (default `/connections`).
    return_to: Option<String>,
    /// The provider account expected (an email, login or account id): passed on to providers
    /// that take a hint (Google, Microsoft, GitHub, OpenID) and checked at the callback, where
    /// another account stores nothing and what the provider issued is revoked.
    #[schema(pattern = "^[!-~]{1,254}$")]
    login_hint: Option<String>,
    /// The domain the account's email must have (`example.com`); only for services whose
    /// identity answer carries an email (Gmail, Google Drive, Outlook, Teams, Dropbox, Asana).
    #[schema(pattern = "^[!-~]{1,254}$")]
    email_domain: Option<String>,
}

/// A connect link: its URL holds the token, shown this once.
#[derive(Serialize, ToSchema)]
pub struct LinkCreated {
    pub url: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// A single-use URL, valid 10 minutes, that lets the browser opening it connect this service for this user only
#[utoipa::path(
    post,
    path = "/api/v1/connect-links",
    operation_id = "createConnectLink",
    description = "Requires an API key with the `connections:write` scope. A `user_id` the hub \
                   does not know yet is created (with no name or email) when the key also has \
                   `users:write`; otherwise it is 404 `unknown_user`.",
    request_body = NewLink,
    responses(
        (status = 201, description = "Success", body = LinkCreated),
        (status = 400, description = "`bad_request`: malformed JSON; `invalid_request`: a malformed `login_hint` or `email_domain`", body = ErrorBody),
        (status = 403, description = "`user_disabled`: an administrator disabled this user", body = ErrorBody),
        (status = 404, description = "`unknown_user` or `unknown_service`", body = ErrorBody),
        (status = 409, description = "`provider_not_configured`", body = ErrorBody),
        (status = 422, description = "`unverifiable_email_domain`: an `email_domain` for a service whose identity answer has no email (Slack, Trello, GitHub, Notion)", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    body: Result<Json<NewLink>, JsonRejection>,
) -> Result<(StatusCode, Json<LinkCreated>), ApiError> {
    key.require(ApiScope::ConnectionsWrite)?;
    let Json(body) = body.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON with user_id, service and optionally return_to.",
        )
    })?;
    let provider = match state.catalog.lookup(&body.service) {
        Lookup::Ready(provider) => provider,
        Lookup::NotConfigured => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "provider_not_configured",
                "This service is not configured on this hub.",
            ))
        }
        Lookup::Unknown => return Err(ApiError::unknown_service(state.catalog.names())),
    };
    let expected = Expected::new(body.login_hint, body.email_domain)
        .checked(&provider)
        .map_err(|e| match e {
            Unusable::Malformed => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
            Unusable::NoEmail => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unverifiable_email_domain",
                e.to_string(),
            ),
        })?;
    let user = user_or_new(&state, &key, &origin, &body.user_id).await?;
    let return_to = flow::safe_return_to(body.return_to.as_deref());
    let link = connect_links::NewLink {
        user_id: &user.id,
        provider: &body.service,
        return_to: &return_to,
        created_by: &key.0.id,
        expected_account: expected.to_stored(),
    };
    issue(&state, &key, &origin, link, Kind::ConnectLinkCreated).await
}

/// Stores the link with its audit event (one transaction); its URL, shown this once.
pub(super) async fn issue(
    state: &AppState,
    key: &ApiKey,
    origin: &Origin,
    link: connect_links::NewLink<'_>,
    kind: Kind,
) -> Result<(StatusCode, Json<LinkCreated>), ApiError> {
    let (user_id, provider) = (link.user_id.to_string(), link.provider.to_string());
    let txn = crate::base::store::begin(&state.db).await?;
    let (row, token) = connect_links::create(&txn, link, state.clock.now()).await?;
    let mut event = key
        .event(kind, origin, &user_id)
        .reason(&format!("link:{}", row.id));
    if !provider.is_empty() {
        event = event.provider(&provider);
    }
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    use secrecy::ExposeSecret;
    let path = if provider.is_empty() {
        "portal"
    } else {
        "connect"
    };
    let mut url = state.config.server.public_url.clone();
    url.set_path(&format!("/{path}/{}", token.expose_secret()));
    url.set_query(None);
    Ok((
        StatusCode::CREATED,
        Json(LinkCreated {
            url: url.to_string(),
            expires_at: row.expires_at.to_rfc3339(),
        }),
    ))
}

/// Refused links: a page that says so (the link's own URL is never echoed).
pub(super) fn refused() -> ApiError {
    ApiError {
        html: true,
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_connect_link",
            "This connect link has expired or was already used. Links work once, for ten \
             minutes. Go back to the application that sent you here and ask for a new one.",
        )
    }
}

/// The link's user (still enabled) and provider (still ready), or the refusal, audited.
async fn target(
    state: &AppState,
    origin: &Origin,
    link: Result<connect_links::Model, connect_links::Refused>,
) -> Result<
    (
        connect_links::Model,
        store::users::Model,
        std::sync::Arc<crate::base::providers::Provider>,
    ),
    ApiError,
> {
    let link = match link {
        Ok(link) => link,
        Err(why) => {
            let event = Event::new(Kind::ConnectLinkRejected, origin).failed(why.code());
            store::audit::append(&state.db, event).await?;
            return Err(refused());
        }
    };
    let user = store::users::by_id(&state.db, &link.user_id)
        .await?
        .filter(|u| !u.disabled);
    let (Some(user), Lookup::Ready(provider)) = (user, state.catalog.lookup(&link.provider)) else {
        let event = Event::new(Kind::ConnectLinkRejected, origin)
            .provider(&link.provider)
            .failed("link_target_gone");
        store::audit::append(&state.db, event).await?;
        return Err(refused());
    };
    Ok((link, user, provider))
}

/// `GET /connect/{token}`: a page of the hub naming the service and the user the link
/// connects, whose Continue button posts back here. Opening the link uses nothing up: a chat
/// app's preview or a mail scanner cannot spend it, and someone it was forwarded to sees whose
/// connection they would be making before anything reaches the provider.
pub async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    origin: Origin,
) -> Result<Response, ApiError> {
    let address = origin.ip.as_deref().unwrap_or_default();
    state
        .limits
        .take(Limit::Callback, address)
        .await
        .map_err(|e| ApiError { html: true, ..e })?;
    let link = connect_links::peek(&state.db, &token, state.clock.now()).await?;
    let (link, user, provider) = target(&state, &origin, link).await?;
    let (service, who) = (
        &provider.display_name,
        user.name.as_ref().unwrap_or(&user.username),
    );
    let account = match Expected::from_stored(link.expected_account.as_deref()) {
        Expected {
            login_hint: Some(hint),
            ..
        } => format!("the {service} account {hint}"),
        Expected {
            email_domain: Some(domain),
            ..
        } => format!("a {service} account of {domain}"),
        _ => format!("the {service} account you approve next"),
    };
    Ok(super::continue_page::confirm(
        &format!("Connect {service} for {who}?"),
        &format!(
            "This link connects a {service} account to {who}'s connections on ATOM Connect. \
             Continue only if you are {who}: {account} is connected for {who}, and the link \
             then stops working."
        ),
        &format!("/connect/{token}"),
        &format!("Continue to {service}"),
        None,
    ))
}

/// `POST /connect/{token}`, from the link's page (the origin guard refuses other sites):
/// uses the link up, then 303 to the provider for its user and service.
pub async fn proceed(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    origin: Origin,
) -> Result<Response, ApiError> {
    let page = |e: ApiError| ApiError { html: true, ..e };
    let address = origin.ip.as_deref().unwrap_or_default();
    state
        .limits
        .take(Limit::Callback, address)
        .await
        .map_err(page)?;
    let link = connect_links::consume(&state.db, &token, state.clock.now()).await?;
    let (link, user, provider) = target(&state, &origin, link).await?;
    let binding =
        super::session::grant_link(&session, &user.id, &provider.service, state.clock.now())
            .await?;
    let mut event = Event::new(Kind::ConnectLinkOpened, &origin)
        .provider(&provider.service)
        .reason(&format!("link:{}", link.id));
    event.subject = Some(user.id.clone());
    store::audit::append(&state.db, event).await?;
    let current = user.current_user();
    let who = Who {
        user: &current,
        session_binding: &binding,
        origin: &origin,
    };
    let expected = Expected::from_stored(link.expected_account.as_deref());
    let url = flow::start(&state, &who, &provider, &link.return_to, &expected, false)
    .await
    .map_err(|e| match e {
        StartError::Disabled => page(super::connect::provider_disabled()),
        e => {
            tracing::warn!(error = %e, provider = %provider.service, "could not start a linked flow");
            page(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "The provider cannot be reached right now.",
            ))
        }
    })?;
    let mut response = Redirect::to(url.as_str()).into_response();
    // The link's token is in this page's URL: never send it on as a Referer.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
