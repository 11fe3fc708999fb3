//! Single sign-on routes (domain::sso): `GET /auth/sso` sends the browser to the
//! organisation's provider (PKCE, state, optional `login_hint`), `GET /auth/sso/callback`
//! signs in the person the provider vouches for. The pending sign-in lives in the browser's
//! session: the state's hash and the sealed PKCE verifier, for ten minutes, used once.

use super::continue_page::notice;
use super::error::ApiError;
use super::limits::Limit;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::base::vault::Binding;
use crate::domain::oauth::callback::CallbackParams;
use crate::domain::sso::{self, SsoError};
use crate::state::AppState;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use oauth2::PkceCodeVerifier;
use secrecy::ExposeSecret;
use tower_sessions::Session;

const PENDING_KEY: &str = "sso_pending";

#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    state_hash: String,
    /// The PKCE verifier, sealed to this pending sign-in (base64url).
    verifier_sealed: String,
    issuer: Option<String>,
    expires_at: i64,
}

fn binding(state_hash: &str) -> Binding<'_> {
    Binding {
        table: "sessions",
        row_id: state_hash,
        user_id: "",
        provider: "sso",
        field: "pkce_verifier",
    }
}

/// `?login_hint=` of the start route (OpenID Connect Core §3.1.2.1).
#[derive(serde::Deserialize)]
pub struct Start {
    login_hint: Option<String>,
}

fn refused(state: &AppState, why: &str, status: StatusCode) -> Response {
    let name = state
        .catalog
        .sign_in()
        .map_or_else(|| "single sign-on".to_string(), |p| p.display_name.clone());
    let mut page = notice(
        "You were not signed in",
        &format!("{name}: {why}"),
        Some(("/signin", "Back to sign-in")),
    );
    *page.status_mut() = status;
    page
}

/// The single sign-on provider, or the page saying there is none.
fn configured(
    state: &AppState,
) -> Result<std::sync::Arc<crate::base::providers::Provider>, Response> {
    state.catalog.sign_in().ok_or_else(|| {
        refused(
            state,
            "single sign-on is not configured here.",
            StatusCode::NOT_FOUND,
        )
    })
}

/// `GET /auth/sso`: to the provider.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    Query(start): Query<Start>,
) -> Result<Response, ApiError> {
    let provider = match configured(&state) {
        Ok(provider) => provider,
        Err(page) => return Ok(page),
    };
    let address = origin.ip.as_deref().unwrap_or_default();
    state
        .limits
        .take(Limit::SignInAddress, address)
        .await
        .map_err(|e| ApiError { html: true, ..e })?;
    let redirect_uri = callback_uri(&state);
    let begun = match crate::domain::oauth::begin_sign_in(&state, &provider, &redirect_uri).await {
        Ok(begun) => begun,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            return Ok(refused(
                &state,
                "the provider cannot be reached right now.",
                StatusCode::BAD_GATEWAY,
            ));
        }
    };
    let mut url = begun.authorize_url;
    if let Some(hint) = start.login_hint.filter(|h| !h.is_empty() && h.len() <= 254) {
        url.query_pairs_mut().append_pair("login_hint", &hint);
    }
    let state_hash = store::digest(begun.state.expose_secret());
    use base64::Engine;
    let sealed = state.vault.seal(
        begun.verifier.expose_secret().as_bytes(),
        &binding(&state_hash),
    );
    let pending = Pending {
        verifier_sealed: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed),
        state_hash,
        issuer: begun.issuer,
        expires_at: (state.clock.now() + chrono::Duration::minutes(10)).timestamp(),
    };
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Redirect::to(url.as_str()).into_response())
}

fn callback_uri(state: &AppState) -> String {
    let mut url = state.config.server.public_url.clone();
    url.set_path("/auth/sso/callback");
    url.set_query(None);
    url.to_string()
}

/// `GET /auth/sso/callback`: the code exchanged, the claims read, the person signed in.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let provider = match configured(&state) {
        Ok(provider) => provider,
        Err(page) => return Ok(page),
    };
    let settings = state
        .config
        .auth
        .oidc
        .clone()
        .ok_or_else(ApiError::internal)?;
    let failed = |why: &str| {
        let event = Event::new(Kind::SignIn, &origin)
            .provider(&provider.service)
            .failed(why);
        let db = state.db.clone();
        async move { store::audit::append(&db, event).await }
    };
    let pending: Option<Pending> = session.remove(PENDING_KEY).await.ok().flatten();
    let params = CallbackParams::parse(query.as_deref()).ok();
    let valid = match (&pending, &params) {
        (Some(p), Some(params)) => {
            p.state_hash == store::digest(&params.state)
                && p.expires_at > state.clock.now().timestamp()
                && p.issuer
                    .as_ref()
                    .is_none_or(|iss| params.iss.as_ref() == Some(iss))
        }
        _ => false,
    };
    let (Some(pending), Some(params), true) = (pending, params, valid) else {
        failed("sso_invalid_state").await?;
        return Ok(refused(
            &state,
            "this sign-in has expired or was not started in this browser. Start again.",
            StatusCode::BAD_REQUEST,
        ));
    };
    if params.error.is_some() {
        failed("sso_cancelled").await?;
        return Ok(refused(
            &state,
            "the sign-in was cancelled.",
            StatusCode::BAD_REQUEST,
        ));
    }
    let outcome = async {
        let code = params.code.as_ref().ok_or(SsoError::Provider)?;
        use base64::Engine;
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&pending.verifier_sealed)
            .map_err(|_| SsoError::Provider)?;
        let verifier = state
            .vault
            .open(&sealed, &binding(&pending.state_hash))
            .map_err(|_| SsoError::Provider)?;
        let verifier = PkceCodeVerifier::new(
            String::from_utf8(verifier.expose_secret().clone()).map_err(|_| SsoError::Provider)?,
        );
        let endpoints = provider
            .endpoints(&state.http)
            .await
            .map_err(|_| SsoError::Provider)?;
        let grant = crate::domain::oauth::exchange::exchange_code(
            &state.http,
            &provider,
            endpoints,
            code,
            &callback_uri(&state),
            Some(&verifier),
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "single sign-on code exchange failed");
            SsoError::Provider
        })?;
        let claims = sso::claims(&state, &settings, endpoints, &grant.tokens.access_token).await?;
        sso::user_for(&state, &provider, &settings, claims, &origin).await
    }
    .await;
    let user = match outcome {
        Ok(user) => user,
        Err(e) => {
            failed(e.code()).await?;
            let status = match e {
                SsoError::Provider => StatusCode::BAD_GATEWAY,
                SsoError::Db => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::FORBIDDEN,
            };
            return Ok(refused(&state, &format!("{e}."), status));
        }
    };
    super::session::start_session(&session, &user, state.clock.now()).await?;
    let event = Event::new(Kind::SignIn, &origin)
        .by(&user.id)
        .provider(&provider.service)
        .reason("sso");
    store::audit::append(&state.db, event).await?;
    Ok(Redirect::to("/connections").into_response())
}
