//! Helpers that drive the sandbox directly, the way a buggy hub would.

mod asana;
mod dropbox;
mod github;
mod google;
mod microsoft;
mod notion;
mod slack;

use crate::helpers::*;
use reqwest::Response;
use server::sandbox::SANDBOX_CLIENT_SECRET;
use url::Url;

pub const SECRET: &str = SANDBOX_CLIENT_SECRET;

/// A Notion API version Notion accepts (every Notion call carries one).
pub const NOTION_VERSION: &str = "2025-09-03";

/// An authorization code the sandbox issued for `sandbox-user`.
pub struct Code {
    /// The family's root at the sandbox, e.g. `http://127.0.0.1:1234/google`.
    pub base: String,
    pub client_id: String,
    pub code: String,
    pub redirect_uri: String,
}

type Pairs = Vec<(String, String)>;

/// The hub's authorization request for `service`, edited by `edit`.
pub async fn authorize_url(app: &TestApp, service: &str, edit: impl FnOnce(&mut Pairs)) -> Url {
    let mut authorize = app.start_connect_to(&app.client, service).await;
    let mut pairs: Pairs = authorize.query_pairs().into_owned().collect();
    edit(&mut pairs);
    authorize.query_pairs_mut().clear().extend_pairs(&pairs);
    authorize
}

/// Consents to the edited request and returns the code.
pub async fn code_with(app: &TestApp, service: &str, edit: impl FnOnce(&mut Pairs)) -> Code {
    let authorize = authorize_url(app, service, edit).await;
    let callback: Url = app
        .consent(&authorize, "sandbox-user", "allow")
        .await
        .parse()
        .expect("callback URL");
    let param = |url: &Url, key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("{key} in {url}"))
    };
    let family = authorize
        .path_segments()
        .and_then(|mut s| s.next())
        .expect("family");
    let mut redirect_uri = callback.clone();
    redirect_uri.set_query(None);
    Code {
        base: format!("{}/{family}", authorize.origin().ascii_serialization()),
        client_id: param(&authorize, "client_id"),
        code: param(&callback, "code"),
        redirect_uri: redirect_uri.to_string(),
    }
}

/// Drops these parameters from the request.
pub fn without(keys: &'static [&'static str]) -> impl FnOnce(&mut Pairs) {
    move |pairs| pairs.retain(|(k, _)| !keys.contains(&k.as_str()))
}

/// Sets (or adds) a parameter.
pub fn with(key: &'static str, value: &'static str) -> impl FnOnce(&mut Pairs) {
    move |pairs| {
        pairs.retain(|(k, _)| k != key);
        pairs.push((key.into(), value.into()));
    }
}

impl Code {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The code exchange with client credentials in the form body.
    pub async fn exchange_in_body(&self, path: &str) -> Response {
        self.exchange(path, Send::BodyForm).await
    }

    /// The code exchange, sent as `how` says.
    pub async fn exchange(&self, path: &str, how: Send) -> Response {
        let mut fields = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", self.code.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
        ];
        let mut request = reqwest::Client::new().post(self.url(path));
        if self.base.ends_with("/notion") {
            request = request.header("Notion-Version", NOTION_VERSION);
        }
        let basic = |r: reqwest::RequestBuilder| r.basic_auth(&self.client_id, Some(SECRET));
        let with_body = |fields: &mut Vec<(&str, String)>| {
            fields.push(("client_id", self.client_id.clone()));
            fields.push(("client_secret", SECRET.to_string()));
        };
        let request = match how {
            Send::BodyForm => {
                with_body(&mut fields);
                request.form(&fields)
            }
            Send::BasicForm => basic(request).form(&fields),
            Send::BasicJson => basic(request).json(&as_json(&fields)),
            Send::BodyJson => {
                with_body(&mut fields);
                request.json(&as_json(&fields))
            }
        };
        request.send().await.expect("token request")
    }
}

/// How a token request carries the client credentials and its fields.
#[derive(Clone, Copy)]
pub enum Send {
    BodyForm,
    BasicForm,
    BasicJson,
    BodyJson,
}

fn as_json(fields: &[(&str, String)]) -> serde_json::Value {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub async fn json(response: Response) -> serde_json::Value {
    response.json().await.expect("a JSON answer")
}
