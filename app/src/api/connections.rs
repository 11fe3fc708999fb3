use crate::model::ConnectionsView;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_connections")]
pub async fn list_connections() -> Result<ConnectionsView, ServerFnError> {
    let user = super::current_user()?;
    super::hub()?
        .connections(&user)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}
