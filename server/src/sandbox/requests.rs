//! Reading token-endpoint requests strictly, as every family needs: client credentials (Basic,
//! body or either), bodies only in their declared format, RFC 6749 error answers.

use super::grants::{Family, Params};
use super::SANDBOX_CLIENT_SECRET;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;

/// HTTP Basic credentials, form-decoded as RFC 6749 2.3.1 asks.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

/// Whether these are the family's sandbox client credentials.
pub fn client_ok(family: &Family, id: Option<&str>, secret: Option<&str>) -> bool {
    id == Some(family.client_id) && secret == Some(SANDBOX_CLIENT_SECRET)
}

/// Where a token endpoint takes the client's credentials from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body only.
    Body,
    /// HTTP Basic only.
    Basic,
    /// Basic when the header is sent, else the body; never both (RFC 6749 2.3).
    Either,
}

/// Whether the request carries the family's client credentials the accepted way.
pub fn client_authenticated(
    family: &Family,
    headers: &HeaderMap,
    form: &Params,
    auth: ClientAuth,
) -> bool {
    let basic = basic_credentials(headers);
    let in_body = form.contains_key("client_secret");
    let (id, secret) = match (auth, basic) {
        (ClientAuth::Basic, Some(b)) | (ClientAuth::Either, Some(b)) if !in_body => b,
        (ClientAuth::Body, _) | (ClientAuth::Either, None) => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
        _ => return false,
    };
    client_ok(family, Some(&id), Some(&secret))
}

/// An RFC 6749 error answer.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim())
}

/// The body's form parameters, only when it is declared form-encoded.
pub fn form_body(headers: &HeaderMap, body: &[u8]) -> Option<Params> {
    (content_type(headers)? == "application/x-www-form-urlencoded")
        .then(|| url::form_urlencoded::parse(body).into_owned().collect())
}

/// The body's JSON object, only when it is declared JSON.
pub fn json_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    (content_type(headers)? == "application/json")
        .then(|| serde_json::from_slice(body).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("a%3Ab:s%20t");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("a:b".to_string(), "s t".to_string()))
        );
    }
}
