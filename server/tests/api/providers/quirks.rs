//! Helpers that drive the sandbox directly, the way a buggy hub would.

mod google;

use crate::helpers::*;
use reqwest::Response;
use server::sandbox::SANDBOX_CLIENT_SECRET;
use url::Url;

pub const SECRET: &str = SANDBOX_CLIENT_SECRET;

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
    let family = authorize.path_segments().and_then(|mut s| s.next()).expect("family");
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
        reqwest::Client::new()
            .post(self.url(path))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &self.code),
                ("redirect_uri", &self.redirect_uri),
                ("client_id", &self.client_id),
                ("client_secret", SECRET),
            ])
            .send()
            .await
            .expect("token request")
    }
}

pub async fn json(response: Response) -> serde_json::Value {
    response.json().await.expect("a JSON answer")
}
