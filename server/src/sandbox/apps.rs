//! The sandbox's "authorized apps" page: what a user sees in their account settings at the
//! provider, where removing an app revokes every token of its grant. Tests and newcomers use
//! it to play a user revoking access outside ATOM Connect.

use super::grants::Params;
use super::page::{escape, layout};
use super::Sandbox;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::BTreeMap;

/// `GET /apps`: one row per live grant (client and login), with a Revoke button.
pub async fn list(State(sandbox): State<Sandbox>) -> Html<String> {
    let mut grants: BTreeMap<String, (String, String)> = BTreeMap::new();
    for token in sandbox.lock().tokens.values().filter(|t| !t.revoked) {
        grants
            .entry(token.grant_id.clone())
            .or_insert_with(|| (token.client_id.clone(), token.login.clone()));
    }
    let rows: String = grants
        .iter()
        .map(|(grant, (client, login))| {
            format!(
                "<li data-client=\"{client}\" data-login=\"{login}\">{client} for {login}\
                 <form method=\"post\" action=\"/apps/revoke\">\
                 <input type=\"hidden\" name=\"grant\" value=\"{grant}\">\
                 <button type=\"submit\">Revoke {client} for {login}</button></form></li>",
                client = escape(client),
                login = escape(login),
                grant = escape(grant),
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<p>No app has access.</p>".to_string()
    } else {
        format!("<ul>{rows}</ul>")
    };
    layout(
        "Sandbox: authorized apps",
        &format!("<h1>Authorized apps</h1>{body}"),
    )
}

/// `POST /apps/revoke`: every token of the grant stops working, refresh tokens included.
pub async fn revoke(State(sandbox): State<Sandbox>, Form(form): Form<Params>) -> Response {
    let grant = form.get("grant").cloned().unwrap_or_default();
    for token in sandbox.lock().tokens.values_mut() {
        if token.grant_id == grant {
            token.revoked = true;
        }
    }
    Redirect::to("/apps").into_response()
}
