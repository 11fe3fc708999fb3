//! Revocation at the provider on disconnect. Local tokens are deleted whatever this returns.

use super::{basic_auth, TokenSet};
use crate::base::providers::{ClientAuth, Endpoints, Provider, RevokeStyle};
use app::model::Revocation;
use secrecy::ExposeSecret;

/// How one revocation request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Settled: revoked, impossible, or failed.
    Done(Revocation),
    /// The provider refused the access token itself (HTTP 401, Slack's `token_expired`): it
    /// has probably expired, and a refreshed one may succeed.
    TokenRefused,
}

/// Revokes at the provider in its own way; says how it went.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn revoke(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Answer {
    let Some(url) = endpoints.revoke_url.clone() else {
        return Answer::Done(Revocation::NoRevocationEndpoint);
    };
    let access = tokens.access_token.secret();
    let request = match provider.revocation {
        RevokeStyle::None => return Answer::Done(Revocation::NoRevocationEndpoint),
        RevokeStyle::TrelloDelete => {
            return Answer::Done(super::oauth1::revoke(http, provider, url, tokens).await)
        }
        RevokeStyle::GitHubGrant => basic_auth(
            http.delete(url),
            &provider.client_id,
            &provider.client_secret,
        )
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .json(&serde_json::json!({ "access_token": access })),
        RevokeStyle::Rfc7009 => {
            // Revoking the refresh token ends the whole grant where one exists.
            let (token, hint) = match &tokens.refresh_token {
                Some(refresh) => (refresh.secret().as_str(), "refresh_token"),
                None => (access.as_str(), "access_token"),
            };
            let mut form = vec![("token", token), ("token_type_hint", hint)];
            match provider.client_auth_at(endpoints) {
                // RFC 7009 §2.1 asks a form body: credentials in it where the token endpoint
                // takes them in the body, in any format.
                ClientAuth::Body | ClientAuth::BodyJson => {
                    form.push(("client_id", &provider.client_id));
                    form.push(("client_secret", provider.client_secret.expose_secret()));
                    http.post(url).form(&form)
                }
                ClientAuth::Basic | ClientAuth::BasicJson => {
                    basic_auth(http.post(url), &provider.client_id, &provider.client_secret)
                        .form(&form)
                }
            }
        }
        RevokeStyle::SlackAuthRevoke => http
            .post(url)
            .bearer_auth(access)
            .form(&[] as &[(&str, &str)]),
        RevokeStyle::DropboxRevoke => http.post(url).bearer_auth(access),
        RevokeStyle::NotionRevoke => {
            basic_auth(http.post(url), &provider.client_id, &provider.client_secret)
                .json(&serde_json::json!({ "token": access }))
        }
    };
    match provider.versioned(request).send().await {
        Ok(r) if r.status().is_success() => {
            if provider.revocation == RevokeStyle::SlackAuthRevoke {
                // Slack answers HTTP 200 with ok:false on failure (auth.revoke's errors).
                let body: serde_json::Value =
                    crate::base::bounded::json(r).await.unwrap_or_default();
                if body["ok"] != serde_json::Value::Bool(true) {
                    if body["error"] == "token_expired" {
                        return Answer::TokenRefused;
                    }
                    return Answer::Done(Revocation::RevocationFailed);
                }
            }
            Answer::Done(Revocation::Revoked)
        }
        Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
            tracing::info!("revocation refused the access token");
            Answer::TokenRefused
        }
        Ok(r) => {
            tracing::warn!(status = %r.status(), "revocation refused");
            Answer::Done(Revocation::RevocationFailed)
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "revocation request failed");
            Answer::Done(Revocation::RevocationFailed)
        }
    }
}
