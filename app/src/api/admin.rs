//! Reads for the admin pages. The server mounts these in its admin route group, which refuses
//! non-administrators with 403; each function checks the role again.

use crate::model::admin::{ApiKeyRow, AuditFilter, AuditPage, ProviderRow, UserRow};
use crate::model::error::AppError;
use crate::model::overview::{Overview, Window};
use leptos::prelude::*;

#[server(prefix = "/rpc/admin", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    super::answer(async { super::hub()?.users(&super::current_admin()?).await }.await)
}

#[server(prefix = "/rpc/admin", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, AppError> {
    super::answer(
        async {
            super::current_admin()?;
            super::hub()?.api_keys().await
        }
        .await,
    )
}

// JSON in: the filter's optional fields survive the round trip (the URL-encoded default
// loses them and the call fails after client-side navigation).
#[server(prefix = "/rpc/admin", endpoint = "list_audit", input = leptos::server_fn::codec::Json)]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPage, AppError> {
    super::answer(
        async {
            super::current_admin()?;
            super::hub()?.audit(filter).await
        }
        .await,
    )
}

#[server(prefix = "/rpc/admin", endpoint = "list_providers")]
pub async fn list_providers() -> Result<Vec<ProviderRow>, AppError> {
    super::answer(
        async {
            super::current_admin()?;
            super::hub()?.providers().await
        }
        .await,
    )
}

#[server(prefix = "/rpc/admin", endpoint = "overview", input = leptos::server_fn::codec::Json)]
pub async fn load_overview(window: Window) -> Result<Overview, AppError> {
    super::answer(
        async {
            super::current_admin()?;
            super::hub()?.overview(window).await
        }
        .await,
    )
}
