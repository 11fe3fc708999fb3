//! Server functions, by area. Each authorizes itself, then makes one call on the Hub port.

pub mod account;
pub mod admin;
pub mod connections;

/// The prefix of every administrators' function (`#[server(prefix = "/rpc/admin")]`): the
/// server mounts the functions under it in the admin route group, the others in the signed-in
/// group.
pub const ADMIN_PREFIX: &str = "/rpc/admin/";

#[cfg(feature = "ssr")]
pub(crate) fn current_user() -> Result<crate::model::CurrentUser, leptos::prelude::ServerFnError> {
    use leptos::prelude::*;
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::model::CurrentUser>().cloned())
        .ok_or_else(|| ServerFnError::new("Please sign in."))
}

#[cfg(feature = "ssr")]
pub(crate) fn hub() -> Result<crate::hub::SharedHub, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<crate::hub::SharedHub>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("The hub is not available."))
}

/// The signed-in user if an administrator; otherwise the answer becomes 403.
#[cfg(feature = "ssr")]
pub(crate) fn current_admin() -> Result<crate::model::CurrentUser, leptos::prelude::ServerFnError> {
    use leptos::prelude::*;
    let user = current_user()?;
    if user.is_admin() {
        return Ok(user);
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    Err(ServerFnError::new("This is for administrators."))
}
