//! `GET /admin/audit/export`: the audit events matching the viewer's filter, newest first, as
//! a JSON-lines download (at most 100,000 events; the command `atom audit export` has no cap).

use super::auth::Admin;
use super::error::ApiError;
use crate::base::store;
use crate::domain::audit_log::{self, FilterError};
use crate::state::AppState;
use app::model::admin::AuditFilter;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

const CAP: usize = 100_000;

pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    _admin: Admin,
    Query(mut filter): Query<AuditFilter>,
) -> Result<Response, ApiError> {
    filter.before = None;
    let search = match audit_log::search(&state.db, &filter).await {
        Ok(search) => search,
        Err(FilterError::BadDate) => {
            let message = "Dates are written YYYY-MM-DD.";
            return Err(
                ApiError::new(StatusCode::BAD_REQUEST, "bad_date", message).for_browser(&headers)
            );
        }
        Err(FilterError::Db(e)) => return Err(e.into()),
    };
    let mut out = Vec::new();
    if let Some(mut search) = search {
        let mut count = 0;
        while count < CAP {
            let batch = store::audit::search(&state.db, &search, 1000).await?;
            let Some(last) = batch.last() else { break };
            search.before = Some(last.seq);
            for event in &batch {
                serde_json::to_writer(&mut out, event).map_err(|_| ApiError::internal())?;
                out.push(b'\n');
            }
            count += batch.len();
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"atom-audit.jsonl\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response())
}
