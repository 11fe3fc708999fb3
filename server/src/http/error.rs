//! The boundary error: user-safe text as JSON for programs, as a small page for browsers.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub html: bool,
    pub extra: Option<serde_json::Value>,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            html: false,
            extra: None,
            retry_after: None,
        }
    }

    /// Answer as a page when the caller is a browser navigating.
    pub fn for_browser(mut self, headers: &HeaderMap) -> Self {
        self.html = wants_html(headers);
        self
    }

    pub fn unknown_service(known: Vec<String>) -> Self {
        let mut e = Self::new(StatusCode::NOT_FOUND, "unknown_service", "No such service.");
        e.extra = Some(json!({ "known_services": known }));
        e
    }

    pub fn sign_in_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        )
    }

    /// 503 with Retry-After: the database cannot be reached (it passes).
    pub fn database_unavailable() -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The hub cannot reach its database right now. Try again shortly.",
        );
        error.retry_after = Some(5);
        error
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = if self.html {
            let body = format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ATOM Connect</title>\
                 </head><body><main><h1>Something needs your attention</h1><p>{}</p>\
                 <p><a href=\"/connections\">Back to your connections</a></p></main></body></html>",
                self.message
            );
            (self.status, Html(body)).into_response()
        } else {
            let mut body = json!({ "error": self.code, "message": self.message });
            if let (Some(extra), Some(map)) = (self.extra, body.as_object_mut()) {
                if let Some(fields) = extra.as_object() {
                    map.extend(fields.clone());
                }
            }
            (self.status, axum::Json(body)).into_response()
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.code == "invalid_api_key" {
            // RFC 6750 §3: a refused bearer credential names the scheme it wants.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// A database that cannot be reached is a 503 with Retry-After (it passes; callers and
    /// proxies retry); any other database error is ours, a 500.
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!(error = %e, "database error");
        if crate::base::store::unreachable(&e) {
            return Self::database_unavailable();
        }
        Self::internal()
    }
}

/// A browser navigation (or form post) accepts HTML; fetch() and programs ask for JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("text/html") && !accept.starts_with("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_with_retry_after_and_a_broken_query_a_500() {
        let down = ApiError::from(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout,
        ));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.retry_after, Some(5));
        let broken = ApiError::from(sea_orm::DbErr::Custom("no such table".into()));
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
