use crate::model::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// Who is signed in (the account page and the navigation).
#[server(prefix = "/rpc", endpoint = "current_account")]
pub async fn current_account() -> Result<CurrentUser, AppError> {
    super::answer(super::current_user())
}
