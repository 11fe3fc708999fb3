//! OAuth 1.0a request signing (RFC 5849 section 3) with HMAC-SHA1, through the
//! `oauth1-request` crate, and the strict reading of a provider's token credentials answer.

use crate::base::providers::Provider;
use oauth2::AccessToken;
use secrecy::{ExposeSecret, SecretString};
use std::num::NonZeroU64;
use url::Url;

/// Token responses are a few hundred bytes; anything larger is refused.
const MAX_ANSWER: usize = 8 * 1024;

/// Token credentials (RFC 5849 section 1.1): an identifier and its shared secret.
#[derive(Clone, Copy)]
pub struct TokenCredentials<'a> {
    /// The identifier.
    pub token: &'a str,
    /// Its shared secret.
    pub secret: &'a str,
}

/// Everything that signs one request.
pub struct Signing<'a> {
    /// The client's key.
    pub consumer_key: &'a str,
    /// The client's secret.
    pub consumer_secret: &'a str,
    /// The request or access token, once there is one.
    pub token: Option<TokenCredentials<'a>>,
    /// `oauth_callback`, on the request-token call.
    pub callback: Option<&'a str>,
    /// `oauth_verifier`, on the access-token call.
    pub verifier: Option<&'a str>,
    /// Pinned nonce and timestamp, for known-answer tests only.
    pub pinned: Option<(&'a str, NonZeroU64)>,
}

impl<'a> Signing<'a> {
    /// Signing as the provider's client, with `token` when there is one.
    pub fn new(provider: &'a Provider, token: Option<TokenCredentials<'a>>) -> Self {
        Self {
            consumer_key: &provider.client_id,
            consumer_secret: provider.client_secret.expose_secret(),
            token,
            callback: None,
            verifier: None,
            pinned: None,
        }
    }

    /// The `Authorization` header value for `method url` (query parameters are signed too).
    pub fn header(&self, method: &str, url: &Url) -> String {
        let client = oauth1_request::Credentials::new(self.consumer_key, self.consumer_secret);
        let mut builder = oauth1_request::Builder::new(client, oauth1_request::HmacSha1::new());
        builder
            .token(
                self.token
                    .map(|t| oauth1_request::Credentials::new(t.token, t.secret)),
            )
            .callback(self.callback)
            .verifier(self.verifier);
        if let Some((nonce, timestamp)) = self.pinned {
            builder.nonce(nonce).timestamp(timestamp);
        }
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        // The base string URI (RFC 5849 section 3.4.1.2): no query, no fragment. `Url` has
        // already lower-cased the scheme and host and dropped a default port.
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        builder.authorize(
            method,
            base.as_str(),
            &oauth1_request::ParameterList::new(query),
        )
    }
}

/// Token credentials as a provider returns them, form-encoded.
pub struct Answer {
    /// `oauth_token`.
    pub token: AccessToken,
    /// `oauth_token_secret`.
    pub secret: SecretString,
    /// `oauth_callback_confirmed=true` (a request-token answer must say so).
    pub callback_confirmed: bool,
}

/// Reads a form-encoded token answer strictly: HTTP 200, bounded, no duplicates, both values.
pub async fn read_answer(response: reqwest::Response) -> Option<Answer> {
    if response.status() != reqwest::StatusCode::OK {
        tracing::warn!(status = %response.status(), "token credentials refused");
        return None;
    }
    let body = crate::base::bounded::bytes(response).await.ok()?;
    if body.len() > MAX_ANSWER {
        return None;
    }
    let (mut token, mut secret, mut confirmed) = (None, None, None);
    for (key, value) in url::form_urlencoded::parse(&body) {
        let slot = match key.as_ref() {
            "oauth_token" => &mut token,
            "oauth_token_secret" => &mut secret,
            "oauth_callback_confirmed" => &mut confirmed,
            _ => continue,
        };
        if value.is_empty() || slot.replace(value.into_owned()).is_some() {
            return None;
        }
    }
    Some(Answer {
        token: AccessToken::new(token?),
        secret: SecretString::from(secret?),
        callback_confirmed: confirmed.as_deref() == Some("true"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 section 1.2: the signed request for the protected photo (HMAC-SHA1).
    #[test]
    fn signs_the_rfc_5849_example() {
        let url: Url = "http://photos.example.net/photos?file=vacation.jpg&size=original"
            .parse()
            .expect("url");
        let signing = Signing {
            consumer_key: "dpf43f3p2l4k3l03",
            consumer_secret: "kd94hf93k423kf44",
            token: Some(TokenCredentials {
                token: "nnch734d00sl2jdk",
                secret: "pfkkdhi9sl3r4s00",
            }),
            callback: None,
            verifier: None,
            pinned: Some(("chapoH", NonZeroU64::new(137131202).expect("non-zero"))),
        };
        let header = signing.header("GET", &url);
        assert!(header.starts_with("OAuth "), "{header}");
        for part in [
            "oauth_consumer_key=\"dpf43f3p2l4k3l03\"",
            "oauth_token=\"nnch734d00sl2jdk\"",
            "oauth_signature_method=\"HMAC-SHA1\"",
            "oauth_timestamp=\"137131202\"",
            "oauth_nonce=\"chapoH\"",
            "oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"",
        ] {
            assert!(header.contains(part), "{part} missing from {header}");
        }
        assert!(!header.contains("pfkkdhi9sl3r4s00") && !header.contains("kd94hf93k423kf44"));
    }

    #[test]
    fn callback_and_verifier_are_signed_only_when_given() {
        let url: Url = "https://trello.com/1/OAuthGetRequestToken"
            .parse()
            .expect("url");
        let mut signing = Signing {
            consumer_key: "key",
            consumer_secret: "secret",
            token: None,
            callback: Some("http://127.0.0.1:5058/api/auth/trello/callback"),
            verifier: None,
            pinned: None,
        };
        let header = signing.header("POST", &url);
        assert!(header.contains(
            "oauth_callback=\"http%3A%2F%2F127.0.0.1%3A5058%2Fapi%2Fauth%2Ftrello%2Fcallback\""
        ));
        assert!(!header.contains("oauth_verifier") && !header.contains("oauth_token="));
        signing.callback = None;
        signing.verifier = Some("v123");
        let header = signing.header("POST", &url);
        assert!(header.contains("oauth_verifier=\"v123\"") && !header.contains("oauth_callback"));
        // A fresh nonce every time.
        assert_ne!(signing.header("POST", &url), header);
    }
}
