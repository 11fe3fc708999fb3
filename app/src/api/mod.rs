//! Server functions, by area. Each authorizes itself, then makes one call on the Hub port.

pub mod account;
pub mod admin;
pub mod connections;

#[cfg(feature = "ssr")]
use crate::model::error::AppError;

/// The prefix of every administrators' function (`#[server(prefix = "/rpc/admin")]`): the
/// server mounts the functions under it in the admin route group, the others in the signed-in
/// group.
pub const ADMIN_PREFIX: &str = "/rpc/admin/";

/// The prefix of the functions anyone may call, signed in or not (the sign-in page's).
pub const PUBLIC_PREFIX: &str = "/rpc/public/";

/// The signed-in user on this request (the server's session middleware put it there).
#[cfg(feature = "ssr")]
pub(crate) fn current_user() -> Result<crate::model::CurrentUser, AppError> {
    use leptos::prelude::*;
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::model::CurrentUser>().cloned())
        .ok_or(AppError::SignInRequired)
}

/// The server's side of the port.
#[cfg(feature = "ssr")]
pub(crate) fn hub() -> Result<crate::hub::SharedHub, AppError> {
    leptos::prelude::use_context::<crate::hub::SharedHub>().ok_or(AppError::Unreachable)
}

/// The signed-in user if an administrator.
#[cfg(feature = "ssr")]
pub(crate) fn current_admin() -> Result<crate::model::CurrentUser, AppError> {
    let user = current_user()?;
    if user.is_admin() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A server function's answer: a failure also sets the response's status (401, 403, 404,
/// 400 or 503) from the error's type.
#[cfg(feature = "ssr")]
pub(crate) fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    use leptos::prelude::use_context;
    let Err(error) = &result else {
        return result;
    };
    // A form posted without JavaScript is answered by a redirect back to its page, with the
    // error in the URL: that answer keeps its redirect status.
    let form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if let (false, Some(response)) = (form_post, use_context::<leptos_axum::ResponseOptions>()) {
        let status = http::StatusCode::from_u16(error.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
    }
    result
}
