use crate::model::error::AppError;
use crate::model::ConnectionsView;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_connections")]
pub async fn list_connections() -> Result<ConnectionsView, AppError> {
    super::answer(async { super::hub()?.connections(&super::current_user()?).await }.await)
}
