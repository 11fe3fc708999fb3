use crate::model::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// How the sign-in page offers to sign in: single sign-on, passwords, or both.
#[server(prefix = "/rpc/public", endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<crate::model::SignInOptions, AppError> {
    let hub = super::hub();
    super::answer(match hub {
        Ok(hub) => hub.sign_in_options().await,
        Err(e) => Err(e),
    })
}

/// Who is signed in (the account page and the navigation).
#[server(prefix = "/rpc", endpoint = "current_account")]
pub async fn current_account() -> Result<CurrentUser, AppError> {
    super::answer(super::current_user())
}
