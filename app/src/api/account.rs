use crate::model::CurrentUser;
use leptos::prelude::*;

/// Who is signed in (the account page and the navigation).
#[server(prefix = "/rpc", endpoint = "current_account")]
pub async fn current_account() -> Result<CurrentUser, ServerFnError> {
    super::current_user()
}
