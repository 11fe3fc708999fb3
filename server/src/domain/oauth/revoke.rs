//! Revocation at the provider on disconnect. Local tokens are deleted whatever this returns.

use super::{basic_auth, TokenSet};
use crate::base::providers::{ClientAuth, Endpoints, Provider, RevokeStyle};
use app::model::Revocation;
use secrecy::ExposeSecret;

/// Revokes at the provider in its own way; says how it went.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn revoke(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Revocation {
    let Some(url) = endpoints.revoke_url.clone() else {
        return Revocation::NoRevocationEndpoint;
    };
    let access = tokens.access_token.secret();
    let request = match provider.revocation {
        RevokeStyle::None => return Revocation::NoRevocationEndpoint,
        RevokeStyle::TrelloDelete => {
            return super::oauth1::revoke(http, provider, url, tokens).await
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
            match provider.client_auth {
                ClientAuth::Body => {
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
    match request.send().await {
        Ok(r) if r.status().is_success() => {
            if provider.revocation == RevokeStyle::SlackAuthRevoke {
                // Slack answers HTTP 200 with ok:false on failure.
                let ok = r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|b| b.get("ok").cloned());
                if ok != Some(serde_json::Value::Bool(true)) {
                    return Revocation::RevocationFailed;
                }
            }
            Revocation::Revoked
        }
        Ok(r) => {
            tracing::warn!(status = %r.status(), "revocation refused");
            Revocation::RevocationFailed
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "revocation request failed");
            Revocation::RevocationFailed
        }
    }
}
