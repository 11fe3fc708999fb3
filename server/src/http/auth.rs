//! Who may call a route is decided by the group it is mounted in (`http::router`): each group
//! has a layer that refuses the signed-out (and, for the admin group, non-administrators)
//! before any handler runs. Handlers take the typed [`SignedIn`] or [`Admin`] extractor,
//! never an optional user they must check by hand.

use super::error::ApiError;
use super::session::SessionBinding;
use app::model::CurrentUser;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::convert::Infallible;

/// A signed-in user, with the flow binding of their browser session.
pub struct SignedIn {
    pub user: CurrentUser,
    pub binding: String,
}

/// A signed-in administrator.
pub struct Admin(pub CurrentUser);

fn signed_in(parts: &Parts) -> Option<SignedIn> {
    let user = parts.extensions.get::<CurrentUser>()?.clone();
    let binding = parts.extensions.get::<SessionBinding>()?.0.clone();
    Some(SignedIn { user, binding })
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "This part of ATOM Connect is for administrators.",
    )
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        signed_in(parts).ok_or_else(|| ApiError::sign_in_required().for_browser(&parts.headers))
    }
}

/// For the few public routes that answer the signed-out in their own documented way.
impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedIn {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(signed_in(parts))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let SignedIn { user, .. } =
            <SignedIn as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Admin(user))
        } else {
            Err(forbidden().for_browser(&parts.headers))
        }
    }
}

/// What a group answers the signed-out.
#[derive(Clone, Copy)]
pub enum SignedOut {
    /// Pages and the forms on them: to the sign-in page.
    ToSignIn,
    /// Calls (server functions, the event stream, forms posted by scripts): 401.
    Unauthorized,
}

impl SignedOut {
    fn answer(self, request: &Request) -> Response {
        match self {
            Self::ToSignIn => Redirect::to("/signin").into_response(),
            Self::Unauthorized => ApiError::sign_in_required()
                .for_browser(request.headers())
                .into_response(),
        }
    }
}

/// The layer of the signed-in group.
pub async fn need_user(State(answer): State<SignedOut>, request: Request, next: Next) -> Response {
    if request.extensions().get::<CurrentUser>().is_none() {
        return answer.answer(&request);
    }
    next.run(request).await
}

/// The layer of the admin group: the signed-out as `answer` says, other users 403.
pub async fn need_admin(State(answer): State<SignedOut>, request: Request, next: Next) -> Response {
    match request.extensions().get::<CurrentUser>() {
        None => answer.answer(&request),
        Some(user) if !user.is_admin() => {
            forbidden().for_browser(request.headers()).into_response()
        }
        Some(_) => next.run(request).await,
    }
}

/// The layer of the sign-in page: someone signed in already goes to their connections.
pub async fn signed_out_only(request: Request, next: Next) -> Response {
    if request.extensions().get::<CurrentUser>().is_some() {
        return Redirect::to("/connections").into_response();
    }
    next.run(request).await
}
