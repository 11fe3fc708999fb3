//! Trello's authorize page (`/1/OAuthAuthorizeToken`): the application's name, scopes and
//! expiration, a Login field, Authorize and Cancel. Authorize sends the browser back with
//! `oauth_token` and `oauth_verifier`; Cancel with `oauth_token` and `denied` only.

use super::page::{escape, layout};
use super::trello::{bad_page, Approval, REQUEST_LIFETIME};
use super::{random_token, Sandbox};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::BTreeMap;

type Params = BTreeMap<String, String>;

const SCOPES: &[&str] = &["read", "write", "account"];
const EXPIRATIONS: &[&str] = &["never", "30days", "1day", "1hour"];

/// The request token's callback if it is pending (issued, unexpired, not yet decided), and
/// the scope and expiration asked for (Trello's defaults: `read`, `30days`).
fn checked(sandbox: &Sandbox, q: &Params) -> Result<(String, String, String), &'static str> {
    let token = q.get("oauth_token").map(String::as_str).unwrap_or_default();
    let callback = sandbox
        .trello_store()
        .requests
        .get(token)
        .filter(|r| r.approval.is_none() && r.issued.elapsed() <= REQUEST_LIFETIME)
        .map(|r| r.callback.clone())
        .ok_or("Invalid token.")?;
    let scope = q.get("scope").map(String::as_str).unwrap_or("read");
    if scope.split(',').any(|s| !SCOPES.contains(&s)) {
        return Err("Invalid scope.");
    }
    let expiration = q.get("expiration").map(String::as_str).unwrap_or("30days");
    if !EXPIRATIONS.contains(&expiration) {
        return Err("Invalid expiration.");
    }
    Ok((callback, scope.to_string(), expiration.to_string()))
}

pub async fn authorize_page(State(sandbox): State<Sandbox>, Query(q): Query<Params>) -> Response {
    let (_, scope, expiration) = match checked(&sandbox, &q) {
        Ok(checked) => checked,
        Err(message) => return bad_page(message),
    };
    let name = q
        .get("name")
        .map(String::as_str)
        .unwrap_or("An unknown application");
    let hidden: String = ["oauth_token", "name", "scope", "expiration"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (k, v)))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<h1>Sandbox Trello</h1><p>Let <strong>{name}</strong> use your sandbox Trello \
         account? Permissions: <code>{scope}</code>; expiration: <code>{expiration}</code>.</p>\
         <form method=\"post\">{hidden}\
         <label for=\"login\">Login</label>\
         <input id=\"login\" name=\"login\" value=\"sandbox-user\" required maxlength=\"39\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>",
        name = escape(name),
        scope = escape(&scope),
        expiration = escape(&expiration),
    );
    layout("Sandbox Trello: authorize", &body).into_response()
}

pub async fn decide(State(sandbox): State<Sandbox>, Form(mut form): Form<Params>) -> Response {
    let login = form.remove("login").unwrap_or_default();
    let decision = form.remove("decision").unwrap_or_default();
    let (callback, _scope, expiration) = match checked(&sandbox, &form) {
        Ok(checked) => checked,
        Err(message) => return bad_page(message),
    };
    let Ok(mut target) = url::Url::parse(&callback) else {
        return bad_page("Invalid return_url.");
    };
    let token = form.get("oauth_token").cloned().unwrap_or_default();
    if decision != "allow" {
        sandbox.trello_store().requests.remove(&token);
        target
            .query_pairs_mut()
            .append_pair("oauth_token", &token)
            .append_pair("denied", "true");
        return Redirect::to(target.as_str()).into_response();
    }
    let login = login.trim();
    if login.is_empty()
        || login.len() > 39
        || !login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return bad_page("A login is 1 to 39 letters, digits or hyphens.");
    }
    let verifier = random_token("");
    if let Some(request) = sandbox.trello_store().requests.get_mut(&token) {
        request.approval = Some(Approval {
            login: login.to_string(),
            verifier: verifier.clone(),
            expiration,
        });
    }
    target
        .query_pairs_mut()
        .append_pair("oauth_token", &token)
        .append_pair("oauth_verifier", &verifier);
    Redirect::to(target.as_str()).into_response()
}
