//! Signed-request checks for the Trello sandbox: the consumer key, HMAC-SHA1 signature over
//! method, URI, query, form body and protocol parameters (RFC 5849 section 3.4), fresh
//! timestamps and never-reused nonces; and the live access grant behind a signed API call.

use super::oauth1_verify::{base_string, parse_header, signature_matches};
use super::trello::CONSUMER_KEY;
use super::{Sandbox, SANDBOX_CLIENT_SECRET};
use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// A timestamp may be this many seconds off; nonces are remembered as long.
const CLOCK_SKEW: u64 = 300;
const MAX_BODY: usize = 16 * 1024;

/// A refusal in Trello's manner: a status and a short plain-text reason.
pub struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

pub fn refuse(status: StatusCode, message: &'static str) -> Refused {
    Refused(status, message)
}

/// A request as it reached the sandbox (path before nesting), for signature checking.
pub struct Signed {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Signed {
    /// Whether the request carries an OAuth 2.0 Bearer token instead of a 1.0a signature.
    pub fn has_bearer(&self) -> bool {
        self.headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "))
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl<S: Send + Sync> FromRequest<S> for Signed {
    type Rejection = Refused;

    async fn from_request(request: Request, _: &S) -> Result<Self, Refused> {
        let (parts, body) = request.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?;
        Ok(Self {
            method: parts.method,
            uri,
            headers: parts.headers,
            body,
        })
    }
}

impl Signed {
    /// The protocol parameters of the request's Authorization header, or a 401.
    pub fn protocol(&self) -> Result<BTreeMap<String, String>, Refused> {
        let header = self.headers.get(header::AUTHORIZATION);
        let params = header
            .and_then(|v| v.to_str().ok())
            .and_then(parse_header)
            .ok_or_else(|| {
                refuse(
                    StatusCode::UNAUTHORIZED,
                    "missing or malformed OAuth header",
                )
            })?;
        if params.get("oauth_consumer_key").map(String::as_str) != Some(CONSUMER_KEY) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "invalid key"));
        }
        Ok(params)
    }

    /// Checks method, version, timestamp, nonce and the HMAC-SHA1 signature made with the
    /// consumer secret and `token_secret`; records the nonce only once all of that passed.
    pub fn verify(
        &self,
        sandbox: &Sandbox,
        mut params: BTreeMap<String, String>,
        token_secret: &str,
    ) -> Result<BTreeMap<String, String>, Refused> {
        let invalid = || refuse(StatusCode::UNAUTHORIZED, "invalid signature");
        let sent = params.remove("oauth_signature").ok_or_else(invalid)?;
        let version_ok = params.get("oauth_version").is_none_or(|v| v == "1.0");
        if params.get("oauth_signature_method").map(String::as_str) != Some("HMAC-SHA1")
            || !version_ok
        {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "unsupported signature method",
            ));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let timestamp = params
            .get("oauth_timestamp")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| t.abs_diff(now) <= CLOCK_SKEW)
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "timestamp expired"))?;
        let nonce = params
            .get("oauth_nonce")
            .filter(|n| !n.is_empty() && n.len() <= 64)
            .cloned()
            .ok_or_else(invalid)?;
        let mut all: Vec<(String, String)> = params.clone().into_iter().collect();
        let query = self.uri.query().unwrap_or_default();
        all.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        let form = self.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
        if form {
            all.extend(url::form_urlencoded::parse(&self.body).into_owned());
        } else if !self.body.is_empty() {
            return Err(refuse(StatusCode::BAD_REQUEST, "unexpected body"));
        }
        let host = self.headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let host = host.ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "no Host"))?;
        let base_uri = format!("http://{}{}", host.to_ascii_lowercase(), self.uri.path());
        let base = base_string(self.method.as_str(), &base_uri, &all);
        if !signature_matches(&sent, &base, SANDBOX_CLIENT_SECRET, token_secret) {
            return Err(invalid());
        }
        let token = params.get("oauth_token").cloned().unwrap_or_default();
        let mut store = sandbox.trello_store();
        store
            .nonces
            .retain(|(_, t, _)| t.abs_diff(now) <= CLOCK_SKEW);
        if !store.nonces.insert((nonce, timestamp, token)) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "nonce already used"));
        }
        Ok(params)
    }
}

/// The signed request's access grant, checked live, or a 401.
pub fn authorized(sandbox: &Sandbox, signed: &Signed) -> Result<String, Refused> {
    let params = signed.protocol()?;
    let token = params.get("oauth_token").cloned().unwrap_or_default();
    let grant = sandbox
        .trello_store()
        .tokens
        .get(&token)
        .filter(|g| g.live())
        .map(|g| g.secret.clone());
    let secret = grant.ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "invalid token"))?;
    signed.verify(sandbox, params, &secret)?;
    Ok(token)
}
