//! The Microsoft identity platform v2 (Outlook and Teams), from docs/providers/outlook.md and
//! teams.md: a refresh token
//! only with `offline_access`, client credentials in the form body only, scopes of one
//! resource per request (AADSTS70011), opaque access tokens, refresh tokens replaced on each
//! use with `scope` required, Graph `/v1.0/me` needing `User.Read`, and no revocation endpoint.

use super::consent::{authorize, optional, require, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, ClientAuth};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

static MICROSOFT: Family = Family {
    title: "Microsoft",
    client_id: "sandbox-microsoft",
    services: &["outlook", "teams"],
};

/// OpenID Connect scopes belong to no resource.
const OIDC: &[&str] = &["openid", "profile", "email", "offline_access"];
const GRAPH: &str = "https://graph.microsoft.com";

/// The granted scopes as Microsoft's token endpoint writes them: a resource's scopes fully
/// qualified and in lower case (its documented example answers a requested `Mail.Read` with
/// `https://graph.microsoft.com/mail.read`), the OpenID Connect ones as they are.
fn answered_scope(granted: &str) -> String {
    granted
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|scope| {
            if OIDC.contains(&scope) {
                scope.to_string()
            } else if scope.contains("://") {
                scope.to_lowercase()
            } else {
                format!("{GRAPH}/{}", scope.to_lowercase())
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            authorize(&MICROSOFT, check),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/v1.0/me", get(me))
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page(
            "AADSTS900144: The request body must contain the following parameter: 'response_type'.",
        ),
    )?;
    optional(
        q,
        "response_mode",
        &["query"],
        Refusal::Page("AADSTS900144: unsupported response_mode."),
    )?;
    optional(
        q,
        "prompt",
        &["login", "none", "consent", "select_account"],
        Refusal::Page("AADSTS90023: Invalid prompt."),
    )?;
    let scope = q.get("scope").map(String::as_str).unwrap_or_default();
    if scope.trim().is_empty() {
        return Err(Refusal::Page(
            "AADSTS900144: The request body must contain the following parameter: 'scope'.",
        ));
    }
    let mut resources: Vec<&str> = scope
        .split(' ')
        .filter(|s| !OIDC.contains(s))
        .map(resource)
        .collect();
    resources.dedup();
    if resources.len() > 1 {
        return Err(Refusal::Redirect(
            "invalid_scope",
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
        ));
    }
    Ok(())
}

/// `User.Read` is Graph's; `https://outlook.office.com/Mail.Read` is Outlook's own API.
fn resource(scope: &str) -> &str {
    match scope.rsplit_once('/') {
        Some((resource, _)) if scope.contains("://") => resource,
        _ => GRAPH,
    }
}

/// Common, organizations, consumers, a tenant id or a verified domain.
fn tenant_ok(tenant: &str) -> bool {
    matches!(tenant, "common" | "organizations" | "consumers")
        || uuid::Uuid::parse_str(tenant).is_ok()
        || (tenant.contains('.')
            && tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
}

fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let description = format!("AADSTS{code}: {text}");
    let body = json!({ "error": error, "error_description": description, "error_codes": [code] });
    (status, Json(body)).into_response()
}

async fn token(
    State(sandbox): State<Sandbox>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    if !tenant_ok(&tenant) {
        return aad_error(bad, "invalid_tenant", 90002, "Tenant not found.");
    }
    let Some(form) = requests::form_body(&headers, &body) else {
        return aad_error(
            bad,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    };
    if !requests::client_authenticated(&MICROSOFT, &headers, &form, ClientAuth::Body) {
        return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    let get = |key: &str| form.get(key).map(String::as_str);
    let grant = match get("grant_type") {
        Some("authorization_code") => {
            match grants::redeem(
                &sandbox,
                MICROSOFT.client_id,
                get("code"),
                get("redirect_uri"),
                get("code_verifier"),
            ) {
                Ok(code) => grants::new_grant(
                    MICROSOFT.client_id,
                    &code.login,
                    code.param("scope").unwrap_or_default(),
                ),
                Err(Refused::RedirectMismatch) => {
                    return aad_error(
                        bad,
                        "invalid_grant",
                        50148,
                        "The redirect_uri does not match.",
                    )
                }
                Err(Refused::BadVerifier) => {
                    return aad_error(
                        bad,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge.",
                    )
                }
                Err(Refused::BadCode) => {
                    return aad_error(
                        bad,
                        "invalid_grant",
                        70000,
                        "The provided authorization code is invalid or expired.",
                    )
                }
            }
        }
        Some("refresh_token") => {
            let Some(scope) = get("scope").filter(|s| !s.is_empty()) else {
                return aad_error(
                    bad,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'scope'.",
                );
            };
            let Some(old) = get("refresh_token")
                .and_then(|t| grants::live(&sandbox, MICROSOFT.client_id, t, true))
            else {
                return aad_error(
                    bad,
                    "invalid_grant",
                    70043,
                    "The refresh token has expired or is invalid.",
                );
            };
            // The old refresh token is not revoked at once; the answer carries a new one.
            grants::TokenGrant {
                scope: scope.to_string(),
                ..old
            }
        }
        _ => {
            return aad_error(
                bad,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            )
        }
    };
    let has = |s: &str| grant.scope.split(' ').any(|g| g == s);
    // Opaque tokens: personal-account tokens are not JWTs.
    let issued = grants::issue(
        &sandbox,
        &grant,
        "EwA",
        has("offline_access").then_some("M.C5"),
    );
    let mut answer = json!({
        "token_type": "Bearer", "scope": answered_scope(&grant.scope), "expires_in": 3599,
        "ext_expires_in": 3599, "access_token": issued.access,
    });
    if let Some(refresh) = issued.refresh {
        answer["refresh_token"] = refresh.into();
    }
    if has("openid") {
        answer["id_token"] = format!("sandbox-id-token-{}", grant.login).into();
    }
    Json(answer).into_response()
}

async fn me(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let graph_error = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response()
    };
    let Some(grant) = grants::bearer_grant(&sandbox, MICROSOFT.client_id, &headers) else {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        );
    };
    if !grant
        .scope
        .split(' ')
        .any(|s| s.eq_ignore_ascii_case("User.Read"))
    {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let upn = format!("{}@contoso.test", grant.login);
    Json(json!({
        "id": format!("{:016x}", grants::stable_id(&format!("microsoft:{}", grant.login))),
        "displayName": grants::display_name(&grant.login),
        "userPrincipalName": upn, "mail": upn,
    }))
    .into_response()
}
