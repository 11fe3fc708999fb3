//! The authorization endpoint every emulated family shares: the checks that must not redirect
//! (client, redirect URI, state, PKCE), the family's own checks, the consent page with a Login
//! field and Authorize/Cancel buttons, and the code handed back through the redirect URI.

use super::grants::{CodeGrant, Family, Params};
use super::page::{escape, layout};
use super::{random_token, Sandbox};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, MethodRouter};
use axum::Form;
use std::time::Instant;

/// Why an authorization request is refused.
pub enum Refusal {
    /// A 400 page: the request is malformed or the redirect URI is not trusted.
    Page(&'static str),
    /// Back to the (already checked) redirect URI with `error`, `error_description` and `state`.
    Redirect(&'static str, &'static str),
}

/// A family's own authorize checks, run after the shared ones.
pub type Check = fn(&Params) -> Result<(), Refusal>;

/// GET shows the consent page, POST records the user's decision.
pub fn authorize(family: &'static Family, check: Check) -> MethodRouter<Sandbox> {
    get(move |Query(q): Query<Params>| async move { consent_page(family, &q, check) }).post(
        move |State(sandbox): State<Sandbox>, Form(form): Form<Params>| async move {
            decide(&sandbox, family, form, check)
        },
    )
}

/// A parameter that must be present with one of the allowed values.
pub fn require(q: &Params, key: &str, allowed: &[&str], refusal: Refusal) -> Result<(), Refusal> {
    match q.get(key) {
        Some(v) if allowed.contains(&v.as_str()) => Ok(()),
        _ => Err(refusal),
    }
}

/// A parameter that, when present, must have one of the allowed values.
pub fn optional(q: &Params, key: &str, allowed: &[&str], refusal: Refusal) -> Result<(), Refusal> {
    match q.get(key) {
        Some(v) if !allowed.contains(&v.as_str()) => Err(refusal),
        _ => Ok(()),
    }
}

fn shared_checks(family: &Family, q: &Params) -> Result<(), &'static str> {
    if q.get("client_id").map(String::as_str) != Some(family.client_id) {
        return Err("Unknown client_id.");
    }
    if !q
        .get("redirect_uri")
        .is_some_and(|r| redirect_allowed(r, family.services))
    {
        return Err("The redirect_uri is not registered for this application.");
    }
    if q.get("state").is_none_or(|s| s.is_empty()) {
        return Err("This sandbox requires a state parameter.");
    }
    match (
        q.get("code_challenge").map(String::as_str),
        q.get("code_challenge_method").map(String::as_str),
    ) {
        (None, None) | (Some(_), Some("S256")) => Ok(()),
        _ => Err("code_challenge_method must be S256 with a code_challenge."),
    }
}

/// A sandbox client registers only loopback redirect URIs ending in one of its callback paths.
pub fn redirect_allowed(redirect_uri: &str, services: &[&str]) -> bool {
    let Ok(url) = url::Url::parse(redirect_uri) else {
        return false;
    };
    let loopback = matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    ) || url.host_str().is_some_and(|h| h.starts_with("127."));
    matches!(url.scheme(), "http" | "https")
        && loopback
        && services
            .iter()
            .any(|s| url.path() == format!("/api/auth/{s}/callback"))
        && url.query().is_none()
        && url.fragment().is_none()
}

fn bad_request(family: &Family, message: &str) -> Response {
    let title = format!("Sandbox {}: bad request", family.title);
    let body = format!("<p>{}</p>", escape(message));
    (StatusCode::BAD_REQUEST, layout(&title, &body)).into_response()
}

/// Back to the client with these pairs and the state (the redirect URI was checked).
fn back(q: &Params, pairs: &[(&str, &str)]) -> Response {
    let redirect_uri = q
        .get("redirect_uri")
        .map(String::as_str)
        .unwrap_or_default();
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    target.query_pairs_mut().extend_pairs(pairs).append_pair(
        "state",
        q.get("state").map(String::as_str).unwrap_or_default(),
    );
    Redirect::to(target.as_str()).into_response()
}

/// Runs every check; `Err` is the response to send instead of going on.
fn checked(family: &Family, q: &Params, check: Check) -> Result<(), Box<Response>> {
    shared_checks(family, q).map_err(|m| Box::new(bad_request(family, m)))?;
    check(q).map_err(|refusal| {
        Box::new(match refusal {
            Refusal::Page(message) => bad_request(family, message),
            Refusal::Redirect(error, description) => {
                back(q, &[("error", error), ("error_description", description)])
            }
        })
    })
}

fn consent_page(family: &Family, q: &Params, check: Check) -> Response {
    if let Err(response) = checked(family, q, check) {
        return *response;
    }
    let fields: String = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "login" | "decision"))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let scopes = ["scope", "user_scope"]
        .iter()
        .filter_map(|k| q.get(*k))
        .map(|s| escape(s))
        .collect::<Vec<_>>()
        .join(" ");
    let scopes = if scopes.is_empty() {
        "(none)".into()
    } else {
        scopes
    };
    // A hint suggests the account, as the providers document it (GitHub's `login`, Google's
    // and Microsoft's `login_hint`): the login field starts with it; the user may change it.
    let suggested = q
        .get("login")
        .or_else(|| q.get("login_hint"))
        .and_then(|hint| hint.split('@').next())
        .filter(|login| !login.is_empty())
        .unwrap_or("sandbox-user");
    let suggested = escape(suggested);
    let title = escape(family.title);
    let body = format!(
        "<h1>Sandbox {title}</h1><p>Authorize <strong>ATOM Connect</strong> to use your \
         sandbox {title} account. Requested scopes: <code>{scopes}</code></p>\
         <form method=\"post\">{fields}\
         <label for=\"login\">Login</label>\
         <input id=\"login\" name=\"login\" value=\"{suggested}\" required maxlength=\"39\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>"
    );
    layout(&format!("Sandbox {}: authorize", family.title), &body).into_response()
}

fn decide(sandbox: &Sandbox, family: &Family, mut form: Params, check: Check) -> Response {
    let login = form.remove("login").unwrap_or_default();
    let decision = form.remove("decision").unwrap_or_default();
    if let Err(response) = checked(family, &form, check) {
        return *response;
    }
    if decision != "allow" {
        return back(
            &form,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The user has denied your application access.",
                ),
            ],
        );
    }
    let login = login.trim();
    if login.is_empty()
        || login.len() > 39
        || !login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return bad_request(family, "A login is 1 to 39 letters, digits or hyphens.");
    }
    let code = random_token("");
    let mut inner = sandbox.lock();
    let first_consent = inner
        .consented
        .insert((family.client_id.to_string(), login.to_string()));
    inner.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: family.client_id.to_string(),
            redirect_uri: form.get("redirect_uri").cloned().unwrap_or_default(),
            code_challenge: form.get("code_challenge").cloned(),
            login: login.to_string(),
            first_consent,
            params: form.clone(),
            issued: Instant::now(),
        },
    );
    drop(inner);
    back(&form, &[("code", &code)])
}
