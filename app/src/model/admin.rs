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
        "not_found" => (false, "That item no longer exists."),
        _ => return None,
    })
}
