//! What the admin pages show. Never a secret: no password hash, no API key (a new key is
//! shown once by the server's own answer to the form, never through this crate).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: String,
    /// The signed-in administrator's own row (they cannot demote or disable themselves here).
    pub is_me: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    /// The key's first characters, enough to recognise it, not to use it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// The scopes an API key can carry, with what each allows.
pub const API_SCOPES: &[(&str, &str)] = &[
    (
        "tokens:read",
        "Read fresh access tokens and list connections",
    ),
    (
        "connections:write",
        "Delete connections and create connect links",
    ),
];

/// The fixed message after an admin form, by the code the server redirects with.
pub fn admin_message(code: &str) -> Option<(bool, &'static str)> {
    Some(match code {
        "user_created" => (true, "User created."),
        "role_changed" => (true, "Role changed. That user signs in again."),
        "disabled" => (true, "User disabled. Their sessions have ended."),
        "enabled" => (true, "User enabled."),
        "key_revoked" => (true, "API key revoked. Calls with it now get 401."),
        "bad_name" => (
            false,
            "A username is 1 to 64 letters, digits, '.', '_', '-' or '@'.",
        ),
        "weak_password" => (false, "A password needs 8 to 256 characters."),
        "exists" => (false, "That username is taken."),
        "last_admin" => (false, "The last active administrator keeps the role."),
        "bad_key_name" => (
            false,
            "A key needs a name of 1 to 64 characters and a scope.",
        ),
        "provider_disabled" => (
            true,
            "Provider turned off: nobody can start a new connection to it. Existing \
             connections keep working and can still be disconnected.",
        ),
        "provider_enabled" => (true, "Provider turned on: users can connect it again."),
        "not_found" => (false, "That item no longer exists."),
        _ => return None,
    })
}

/// What the audit viewer asks for; every field optional. `before` pages back by sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub provider: Option<String>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i32>,
}

impl AuditFilter {
    /// The filter as a query string (for the next page and the export link).
    pub fn query(&self, before: Option<i32>) -> String {
        let pairs = [
            ("user", self.user.clone()),
            ("provider", self.provider.clone()),
            ("kind", self.kind.clone()),
            ("outcome", self.outcome.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("before", before.map(|b| b.to_string())),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(&v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i32,
    pub at: String,
    pub kind: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub provider: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Older events exist: ask again with `before` set to this.
    pub older: Option<i32>,
}

/// The event kinds the viewer offers as a filter.
pub const AUDIT_KINDS: &[&str] = &[
    "auth.sign_in",
    "auth.sign_out",
    "auth.password_changed",
    "connection.connect_started",
    "connection.created",
    "connection.connect_failed",
    "connection.refreshed",
    "connection.needs_reauth",
    "connection.deleted",
    "connection.revocation",
    "oauth.state_rejected",
    "api.token_issued",
    "api.connect_link_created",
    "connect_link.opened",
    "connect_link.rejected",
    "admin.user_created",
    "admin.user_disabled",
    "admin.user_enabled",
    "admin.role_changed",
    "admin.api_key_created",
    "admin.api_key_revoked",
    "admin.provider_enabled",
    "admin.provider_disabled",
    "security.cross_origin_rejected",
    "security.decrypt_failed",
];

#[cfg(test)]
mod tests {
    #[test]
    fn filters_become_escaped_query_strings() {
        let filter = super::AuditFilter {
            user: Some("a b&c".into()),
            kind: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(filter.query(Some(7)), "user=a%20b%26c&before=7");
    }
}

/// One provider on the admin Providers page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderRow {
    pub service: String,
    pub display_name: String,
    pub configured: bool,
    pub sandbox: bool,
    /// What to register at the provider.
    pub redirect_uri: String,
    /// not_configured, ok, degraded, unreachable or client_rejected.
    pub status: String,
    pub latency_ms: Option<u64>,
    /// Our own code for the last failed probe (timeout, connect, discovery, other).
    pub probe_error: Option<String>,
    pub flows_succeeded_24h: u64,
    pub flows_failed_24h: u64,
    pub last_failure_reason: Option<String>,
    /// False when an administrator turned off new connections to it.
    pub enabled: bool,
    pub logo: String,
}
