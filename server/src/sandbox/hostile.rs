//! A hostile authorization server, under `/hostile`: everything a malicious or broken provider
//! can send back, for the tests to prove the hub stores, follows and executes none of it. The
//! consent page offers one button per behaviour; the code carries the chosen one to the token
//! endpoint. Configure it as a generic `kind = "oauth2"` provider (client and secret are not
//! checked): authorize `/hostile/authorize`, token `/hostile/token`, userinfo
//! `/hostile/userinfo`.

use super::page::{escape, layout};
use super::random_token;
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use std::collections::HashMap;
use std::time::Duration;

/// Markup that runs script if a page ever renders it as HTML.
pub const SCRIPT_NAME: &str = "<img src=x onerror=\"alert('name')\">";
/// The same, in an email address that breaks out of an attribute.
pub const SCRIPT_EMAIL: &str = "\"><script>alert('email')</script>@evil.test";
/// An `error_description` that is a script.
pub const SCRIPT_DESCRIPTION: &str = "<script>alert('description')</script>";
/// An `error_uri` that is a script.
pub const SCRIPT_URI: &str = "javascript:alert('uri')";

/// What the hostile server does after consent (the button's value, carried in the code).
const BEHAVIOURS: &[(&str, &str)] = &[
    (
        "identity",
        "Connect an account whose name and email are markup",
    ),
    ("deny", "Refuse with a script as the description and URI"),
    ("error_markup", "Refuse with markup as the error code"),
    (
        "redirect",
        "Answer the token request with a 307 to another endpoint",
    ),
    ("huge", "Answer the token request with 3 MiB of JSON"),
    ("trickle", "Answer the token request one byte a second"),
    ("truncated", "Cut the token answer off half-way"),
    ("not_json", "Answer the token request with an HTML page"),
    (
        "absurd_expiry",
        "Issue a token that expires in 10^20 seconds",
    ),
];

pub fn router() -> Router<super::Sandbox> {
    Router::new()
        .route("/authorize", get(consent).post(decide))
        .route("/token", axum::routing::post(token))
        .route("/userinfo", get(userinfo))
}

async fn consent(Query(query): Query<HashMap<String, String>>) -> Response {
    let fields: String = ["redirect_uri", "state"]
        .iter()
        .filter_map(|k| query.get(*k).map(|v| (k, v)))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let buttons: String = BEHAVIOURS
        .iter()
        .map(|(value, label)| {
            format!("<button type=\"submit\" name=\"behaviour\" value=\"{value}\">{label}</button>")
        })
        .collect();
    let body = format!(
        "<h1>Sandbox hostile provider</h1><p>Pick what this provider does next.</p>\
         <form method=\"post\">{fields}{buttons}</form>"
    );
    layout("Sandbox hostile provider", &body).into_response()
}

async fn decide(Form(form): Form<HashMap<String, String>>) -> Response {
    let (Some(redirect_uri), Some(state)) = (form.get("redirect_uri"), form.get("state")) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri and state").into_response();
    };
    let behaviour = form
        .get("behaviour")
        .map(String::as_str)
        .unwrap_or_default();
    let Ok(mut back) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri").into_response();
    };
    {
        let mut query = back.query_pairs_mut();
        match behaviour {
            "deny" => query
                .append_pair("error", "access_denied")
                .append_pair("error_description", SCRIPT_DESCRIPTION)
                .append_pair("error_uri", SCRIPT_URI),
            "error_markup" => query
                .append_pair("error", SCRIPT_NAME)
                .append_pair("error_description", SCRIPT_DESCRIPTION),
            other if BEHAVIOURS.iter().any(|(b, _)| *b == other) => {
                query.append_pair("code", &format!("{other}.{}", random_token("")))
            }
            _ => return (StatusCode::BAD_REQUEST, "behaviour").into_response(),
        }
        .append_pair("state", state);
    }
    Redirect::to(back.as_str()).into_response()
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn tokens(expires_in: &str) -> Response {
    json(format!(
        r#"{{"access_token":"{}","refresh_token":"{}","token_type":"Bearer","expires_in":{expires_in}}}"#,
        random_token("hostile-"),
        random_token("hostile-refresh-"),
    ))
}

async fn token(Form(form): Form<HashMap<String, String>>) -> Response {
    let behaviour = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => form
            .get("code")
            .and_then(|c| c.split_once('.'))
            .map(|(b, _)| b.to_string())
            .unwrap_or_default(),
        Some("refresh_token") => "identity".to_string(),
        _ => String::new(),
    };
    match behaviour.as_str() {
        "identity" => tokens("3600"),
        "absurd_expiry" => tokens("100000000000000000000"),
        "redirect" => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/trap")],
        )
            .into_response(),
        "huge" => json(format!(
            r#"{{"access_token":"huge","padding":"{}"}}"#,
            "x".repeat(3 * 1024 * 1024)
        )),
        "trickle" => {
            let bytes = futures::stream::unfold((), |()| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b" ")), ()))
            });
            let head = futures::stream::once(async { Ok(Bytes::from_static(b"{")) });
            let body = Body::from_stream(futures::StreamExt::chain(head, bytes));
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        "truncated" => {
            let half = Bytes::from_static(br#"{"access_token":"trunc"#);
            let body = futures::stream::iter([
                Ok(half),
                Err(std::io::Error::other("the connection drops")),
            ]);
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_LENGTH, "64"),
                ],
                Body::from_stream(body),
            )
                .into_response()
        }
        "not_json" => (
            [(header::CONTENT_TYPE, "text/html")],
            format!("<html><body>{SCRIPT_DESCRIPTION}</body></html>"),
        )
            .into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            json(r#"{"error":"invalid_grant"}"#.to_string()),
        )
            .into_response(),
    }
}

/// OpenID Connect userinfo's shape, every field markup.
async fn userinfo() -> Response {
    let body = serde_json::json!({
        "sub": "<svg onload=alert('sub')>",
        "name": SCRIPT_NAME,
        "preferred_username": SCRIPT_NAME,
        "email": SCRIPT_EMAIL,
    });
    json(body.to_string())
}
