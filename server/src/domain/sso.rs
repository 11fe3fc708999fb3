//! Single sign-on to the dashboard through the organisation's OpenID Connect provider
//! (`[auth.oidc]`): the authorization code flow with PKCE and state (the start and callback
//! legs are the connect flow's own, `oauth2::begin` and the code exchange), the user's claims
//! from the provider's userinfo endpoint, and just-in-time accounts. Only a verified email of
//! an allowed domain signs in; the admin claim decides the role at every sign-in.

use crate::base::audit::{Event, Kind, Origin};
use crate::base::config::OidcSignIn;
use crate::base::providers::{Endpoints, Provider};
use crate::base::store;
use crate::base::store::users::{Change, Model};
use crate::domain::users::check_username;
use crate::domain::Ctx;
use app::model::Role;
use serde_json::Value;

/// What the provider says of the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `sub`: the provider's id for them.
    pub subject: String,
    /// `email`, when `email_verified` is true.
    pub verified_email: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// Whether the configured admin claim holds.
    pub admin: bool,
}

/// Why single sign-on refused someone (nothing was created or changed).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    /// The provider could not be asked, or answered nothing usable.
    #[error("the sign-in provider did not answer as expected")]
    Provider,
    /// No verified email in the claims.
    #[error("the sign-in provider did not vouch for an email address")]
    NoVerifiedEmail,
    /// The email's domain is not in `allowed_domains`.
    #[error("accounts of this email domain may not sign in here")]
    DomainNotAllowed,
    /// An administrator disabled the account.
    #[error("this account is disabled")]
    Disabled,
    /// The username (the email) belongs to an account that signs in otherwise.
    #[error("an account with this name already exists and does not use single sign-on; ask an administrator")]
    NameTaken,
    /// The database failed.
    #[error("storage failed")]
    Db,
}

impl SsoError {
    /// The stable code (audit reasons).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Provider => "sso_provider",
            Self::NoVerifiedEmail => "sso_no_verified_email",
            Self::DomainNotAllowed => "sso_domain_not_allowed",
            Self::Disabled => "sso_disabled",
            Self::NameTaken => "sso_name_taken",
            Self::Db => "internal",
        }
    }
}

impl From<sea_orm::DbErr> for SsoError {
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!(error = %e, "single sign-on storage failed");
        Self::Db
    }
}

/// The claims from the provider's userinfo endpoint, read with the access token.
pub async fn claims(
    ctx: &Ctx,
    settings: &OidcSignIn,
    endpoints: &Endpoints,
    access_token: &oauth2::AccessToken,
) -> Result<Claims, SsoError> {
    let url = endpoints.userinfo_url.clone().ok_or(SsoError::Provider)?;
    let response = ctx
        .http
        .get(url)
        .bearer_auth(access_token.secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "userinfo request failed");
            SsoError::Provider
        })?;
    if !response.status().is_success() {
        return Err(SsoError::Provider);
    }
    let body: Value = crate::base::bounded::json(response)
        .await
        .map_err(|_| SsoError::Provider)?;
    read_claims(settings, &body).ok_or(SsoError::Provider)
}

/// The claims of a userinfo answer; None without a `sub`.
pub fn read_claims(settings: &OidcSignIn, body: &Value) -> Option<Claims> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let verified = body.get("email_verified").and_then(Value::as_bool) == Some(true);
    let admin = match (&settings.admin_claim, &settings.admin_value) {
        (Some(claim), value) => match (body.get(claim), value) {
            (Some(Value::Bool(true)), None) => true,
            (Some(Value::String(s)), Some(v)) => s == v,
            (Some(Value::Array(items)), Some(v)) => items.iter().any(|i| i.as_str() == Some(v)),
            _ => false,
        },
        (None, _) => false,
    };
    Some(Claims {
        subject: text("sub").filter(|s| !s.is_empty())?,
        verified_email: text("email").filter(|e| verified && e.contains('@')),
        name: text("name"),
        admin,
    })
}

/// The hub user these claims sign in: the one that signed in with this subject before
/// (role brought to the claim, email and name refreshed), or a new one named by the email.
pub async fn user_for(
    ctx: &Ctx,
    provider: &Provider,
    settings: &OidcSignIn,
    claims: Claims,
    origin: &Origin,
) -> Result<Model, SsoError> {
    let email = claims
        .verified_email
        .clone()
        .ok_or(SsoError::NoVerifiedEmail)?
        .to_ascii_lowercase();
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let allowed = settings.allowed_domains.is_empty()
        || settings
            .allowed_domains
            .iter()
            .any(|d| d.trim_start_matches('@').eq_ignore_ascii_case(domain));
    if !allowed {
        return Err(SsoError::DomainNotAllowed);
    }
    let issuer = settings.issuer.as_str().trim_end_matches('/');
    let subject = format!("{issuer}#{}", claims.subject);
    let event = |kind: Kind, user: &str| {
        Event::new(kind, origin)
            .on(None, user)
            .provider(&provider.service)
            .reason("sso")
    };
    if let Some(user) = store::users::by_sso_subject(&ctx.db, &subject).await? {
        if user.disabled {
            return Err(SsoError::Disabled);
        }
        let wanted = if claims.admin {
            Role::Admin
        } else {
            Role::User
        };
        let txn = crate::base::store::begin(&ctx.db).await?;
        store::users::set_profile(
            &txn,
            &user.id,
            store::users::Profile {
                name: claims.name.clone(),
                email: Some(email.clone()),
                metadata: user.metadata.clone(),
            },
        )
        .await?;
        // The claim decides the role; the last active administrator keeps it.
        let last_admin =
            user.role() == Role::Admin && store::users::active_admins(&txn).await? <= 1;
        if settings.admin_claim.is_some() && wanted != user.role() && !last_admin {
            let admin = wanted == Role::Admin;
            store::users::change(&txn, &user, Change::Role { admin }).await?;
            let role = if admin { "to_admin" } else { "to_user" };
            store::audit::append(&txn, event(Kind::RoleChanged, &user.id).reason(role)).await?;
        }
        txn.commit().await?;
        return Ok(store::users::by_id(&ctx.db, &user.id)
            .await?
            .unwrap_or(user));
    }
    if check_username(&email).is_err()
        || store::users::by_username(&ctx.db, &email).await?.is_some()
    {
        return Err(SsoError::NameTaken);
    }
    let txn = crate::base::store::begin(&ctx.db).await?;
    let user = store::users::insert_sso(
        &txn,
        &email,
        &subject,
        claims.name,
        claims.admin,
        ctx.clock.now(),
    )
    .await?;
    store::audit::append(&txn, event(Kind::UserCreated, &user.id)).await?;
    txn.commit().await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(claim: Option<&str>, value: Option<&str>) -> OidcSignIn {
        OidcSignIn {
            admin_claim: claim.map(String::from),
            admin_value: value.map(String::from),
            ..OidcSignIn::example()
        }
    }

    #[test]
    fn only_a_verified_email_counts_and_the_admin_claim_is_read_as_configured() {
        let groups = settings(Some("groups"), Some("atom-admins"));
        let body = json!({"sub": "1", "email": "a@corp.test", "email_verified": true,
                          "groups": ["staff", "atom-admins"]});
        let claims = read_claims(&groups, &body).expect("claims");
        assert_eq!(claims.verified_email.as_deref(), Some("a@corp.test"));
        assert!(claims.admin);
        let unverified = json!({"sub": "1", "email": "a@corp.test", "email_verified": false});
        assert_eq!(
            read_claims(&groups, &unverified)
                .expect("claims")
                .verified_email,
            None
        );
        assert!(
            !read_claims(&groups, &json!({"sub": "1", "groups": ["atom-admins-not"]}))
                .expect("c")
                .admin
        );
        let flag = settings(Some("atom_admin"), None);
        assert!(
            read_claims(&flag, &json!({"sub": "1", "atom_admin": true}))
                .expect("c")
                .admin
        );
        assert!(
            !read_claims(&flag, &json!({"sub": "1", "atom_admin": "true"}))
                .expect("c")
                .admin
        );
        assert!(
            read_claims(&flag, &json!({"email": "x@y"})).is_none(),
            "no sub, no one"
        );
    }
}
