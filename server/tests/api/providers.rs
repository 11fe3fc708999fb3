//! Every sandboxed OAuth 2 service, connected and disconnected as a user does it; the quirk
//! tests (in `providers/`) drive the sandbox the wrong way to prove the emulation is strict.

mod quirks;

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

struct Case {
    service: &'static str,
    /// The account name the provider's who-am-I call gives for the login `sandbox-user`.
    name: &'static str,
    scopes: &'static [&'static str],
    /// The disconnect's `revocation` field.
    revocation: &'static str,
}

const GOOGLE_IDENTITY: [&str; 3] = [
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
];

async fn journey(case: Case, extra_scope: &str) {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let (_, before) = app
        .get_json(&format!("/api/auth/{}/status", case.service))
        .await;
    assert_eq!(before["sandbox"], true, "{} is sandboxed", case.service);

    assert_eq!(
        app.connect(case.service, "sandbox-user").await,
        format!("/connections?connected={}", case.service)
    );
    let (status, after) = app
        .get_json(&format!("/api/auth/{}/status", case.service))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["connected"], true, "{after}");
    assert_eq!(after["account"]["name"], case.name);
    let mut scopes: Vec<&str> = case.scopes.to_vec();
    if !extra_scope.is_empty() {
        scopes.push(extra_scope);
    }
    assert_eq!(after["scopes"], json!(scopes));

    let tokens = app.sandbox.issued_access_tokens();
    assert_eq!(tokens.len(), 1, "one access token issued");
    let token = &tokens[0];
    assert!(app.sandbox.token_is_live(token));
    let response = app
        .post(&format!("/api/auth/{}/disconnect", case.service))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["revocation"], case.revocation);
    assert_eq!(
        app.sandbox.token_is_live(token),
        case.revocation != "revoked",
        "the provider honours the token only where it cannot be revoked"
    );
    let (_, gone) = app
        .get_json(&format!("/api/auth/{}/status", case.service))
        .await;
    assert_eq!(gone["status"], "not_connected");
}

#[tokio::test]
async fn gmail_connects_and_revokes() {
    let case = Case {
        service: "gmail",
        name: "Sandbox User",
        scopes: &GOOGLE_IDENTITY,
        revocation: "revoked",
    };
    journey(case, "https://www.googleapis.com/auth/gmail.readonly").await;
}

#[tokio::test]
async fn gdrive_connects_and_revokes() {
    let case = Case {
        service: "gdrive",
        name: "Sandbox User",
        scopes: &GOOGLE_IDENTITY,
        revocation: "revoked",
    };
    journey(case, "https://www.googleapis.com/auth/drive.file").await;
}

#[tokio::test]
async fn outlook_connects_without_a_revocation_endpoint() {
    let case = Case {
        service: "outlook",
        name: "Sandbox User",
        scopes: &["offline_access", "openid", "profile", "email", "User.Read"],
        revocation: "no_revocation_endpoint",
    };
    journey(case, "Mail.Read").await;
}

#[tokio::test]
async fn teams_connects_without_a_revocation_endpoint() {
    let case = Case {
        service: "teams",
        name: "Sandbox User",
        scopes: &["offline_access", "User.Read", "Chat.Read"],
        revocation: "no_revocation_endpoint",
    };
    journey(case, "Team.ReadBasic.All").await;
}

#[tokio::test]
async fn slack_connects_with_a_user_token_and_revokes() {
    let case = Case {
        service: "slack",
        name: "sandbox-user (Sandbox Team)",
        scopes: &["users:read", "channels:read"],
        revocation: "revoked",
    };
    journey(case, "chat:write").await;
}

#[tokio::test]
async fn notion_connects_and_revokes() {
    let case = Case {
        service: "notion",
        name: "Sandbox User",
        scopes: &[],
        revocation: "revoked",
    };
    journey(case, "").await;
}

#[tokio::test]
async fn dropbox_connects_and_revokes() {
    let case = Case {
        service: "dropbox",
        name: "Sandbox User",
        scopes: &["account_info.read"],
        revocation: "revoked",
    };
    journey(case, "files.metadata.read").await;
}

#[tokio::test]
async fn asana_connects_and_revokes() {
    let case = Case {
        service: "asana",
        name: "Sandbox User",
        scopes: &[
            "users:read",
            "workspaces:read",
            "projects:read",
            "tasks:read",
        ],
        revocation: "revoked",
    };
    journey(case, "tasks:write").await;
}
