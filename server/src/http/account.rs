//! Signing in and out, and the request facts every audit event records (client address,
//! user agent).

use super::auth::SignedIn;
use super::limits::{address_group, Limit};
use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::LazyLock;
use tower_sessions::Session;

/// Verified against for unknown users, so both failures take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(crate::base::passwords::dummy_hash);
/// The client's address: the peer, or the last X-Forwarded-For hop when the peer is one of
/// the configured trusted proxies.
pub fn client_address(parts: &Parts, trusted: &[std::net::IpAddr]) -> Option<String> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let last_hop = forwarded.and_then(|v| v.rsplit(',').next()).map(str::trim);
    let hop = last_hop
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .unwrap_or(peer);
    Some(hop.to_string())
}

/// The client's address and user agent, for the audit log and the rate limits.
impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_address(parts, &state.config.server.trusted_proxies);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Origin {
            ip,
            user_agent,
            clock: state.clock.clone(),
        })
    }
}

/// Checks a password off the async threads; an unknown user costs the same argon2id work.
pub async fn password_matches(user: Option<&store::users::Model>, password: String) -> bool {
    // A user the platform provisioned has no password: the same work as an unknown name, and
    // never a match (not even with the dummy hash's own password).
    let hash = user
        .map(|u| u.password_hash.clone())
        .filter(|hash| hash != store::users::NO_PASSWORD);
    let has_password = hash.is_some();
    let matches =
        crate::base::passwords::verify(password, hash.unwrap_or_else(|| DUMMY_HASH.clone())).await;
    matches && has_password
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, super::error::ApiError> {
    if !state.config.auth.password_sign_in {
        let mut page = super::continue_page::notice(
            "Password sign-in is off",
            "This hub signs people in through single sign-on only.",
            Some(("/signin", "Back to sign-in")),
        );
        *page.status_mut() = axum::http::StatusCode::FORBIDDEN;
        return Ok(page);
    }
    let throttled = |e: super::error::ApiError| e.for_browser(&headers);
    let address = address_group(origin.ip.as_deref().unwrap_or_default());
    let account = form.username.to_lowercase();
    let limits = &state.limits;
    limits
        .take(Limit::SignInAddress, &address)
        .await
        .map_err(throttled)?;
    // Per account from this address: a stranger elsewhere does not spend the owner's quota.
    let pair = format!("{account}|{address}");
    limits
        .take(Limit::SignInAccount, &pair)
        .await
        .map_err(throttled)?;
    let user = if form.username.len() <= 64 {
        store::users::by_username(&state.db, &form.username).await?
    } else {
        None
    };
    // From an address this account never signed in from, a shared quota per account holds
    // back guesses spread over many addresses; the owner's usual addresses are not in it.
    let known = match &user {
        Some(user) => store::audit::signed_in_from(&state.db, &user.id, state.clock.now())
            .await?
            .iter()
            .any(|ip| address_group(ip) == address),
        None => false,
    };
    if !known {
        limits
            .take(Limit::SignInUnknown, &account)
            .await
            .map_err(throttled)?;
    }
    let matches = password_matches(user.as_ref(), form.password.clone()).await;
    let user = user.filter(|u| matches && !u.disabled);
    let Some(user) = user else {
        let event = Event::new(Kind::SignIn, &origin).failed("bad_credentials");
        store::audit::append(&state.db, event).await?;
        return Ok(Redirect::to("/signin?error=1").into_response());
    };
    // A failure leaves the old hash, which still verifies: the sign-in goes on.
    if let Err(e) = crate::domain::users::upgrade_hash(&state.db, &user, form.password).await {
        tracing::warn!(error = %e, "moving a password hash to the current parameters failed");
    }
    super::session::start_session(&session, &user, state.clock.now()).await?;
    store::audit::append(&state.db, Event::new(Kind::SignIn, &origin).by(&user.id)).await?;
    Ok(Redirect::to("/connections").into_response())
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    signed_in: Option<SignedIn>,
) -> Result<Response, super::error::ApiError> {
    // The session goes first: the audit event tells every instance's open streams to check
    // their session (PostgreSQL notifies them as it commits), and a stream that checked before
    // the session was gone would stay open.
    session
        .flush()
        .await
        .map_err(|_| super::error::ApiError::internal())?;
    if let Some(SignedIn { user, .. }) = signed_in {
        store::audit::append(&state.db, Event::new(Kind::SignOut, &origin).by(&user.id)).await?;
    }
    Ok(Redirect::to("/signin").into_response())
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use axum::extract::ConnectInfo;
    use std::net::{IpAddr, SocketAddr};

    fn parts(peer: &str, forwarded: Option<&str>) -> axum::http::request::Parts {
        let mut builder = axum::http::Request::builder();
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut parts = builder.body(()).expect("request").into_parts().0;
        let addr: SocketAddr = format!("{peer}:4000").parse().expect("addr");
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let spoofed = parts("192.0.2.7", Some("198.51.100.1"));
        assert_eq!(
            client_address(&spoofed, &[proxy]).as_deref(),
            Some("192.0.2.7")
        );
        let proxied = parts("10.0.0.1", Some("198.51.100.1, 203.0.113.9"));
        assert_eq!(
            client_address(&proxied, &[proxy]).as_deref(),
            Some("203.0.113.9")
        );
        let garbage = parts("10.0.0.1", Some("not an address"));
        assert_eq!(
            client_address(&garbage, &[proxy]).as_deref(),
            Some("10.0.0.1")
        );
    }
}
