//! Reads for the admin pages. The router refuses /rpc/admin/* to non-administrators with 403;
//! each function checks the role again.

use crate::model::admin::{ApiKeyRow, AuditFilter, AuditPage, ProviderRow, UserRow};
use crate::model::overview::{Overview, Window};
use leptos::prelude::*;

#[server(prefix = "/rpc/admin", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, ServerFnError> {
    let admin = super::current_admin()?;
    super::hub()?
        .users(&admin)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

#[server(prefix = "/rpc/admin", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, ServerFnError> {
    super::current_admin()?;
    super::hub()?
        .api_keys()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

// JSON in: the filter's optional fields survive the round trip (the URL-encoded default
// loses them and the call fails after client-side navigation).
#[server(prefix = "/rpc/admin", endpoint = "list_audit", input = leptos::server_fn::codec::Json)]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPage, ServerFnError> {
    super::current_admin()?;
    super::hub()?
        .audit(filter)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

#[server(prefix = "/rpc/admin", endpoint = "list_providers")]
pub async fn list_providers() -> Result<Vec<ProviderRow>, ServerFnError> {
    super::current_admin()?;
    super::hub()?
        .providers()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

#[server(prefix = "/rpc/admin", endpoint = "overview", input = leptos::server_fn::codec::Json)]
pub async fn load_overview(window: Window) -> Result<Overview, ServerFnError> {
    super::current_admin()?;
    super::hub()?
        .overview(window)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}
