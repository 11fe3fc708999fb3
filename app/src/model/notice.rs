//! What a form post led to, as one typed value on both sides: the server redirects with its
//! code (`?done=` or `?error=`), the page turns the code back into the notice and shows its
//! fixed text. An unknown code shows nothing.

/// The outcome of an admin, account or setup form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    UserCreated,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    KeyRevoked,
    ProviderDisabled,
    ProviderEnabled,
    PasswordChanged,
    BadName,
    WeakPassword,
    WrongPassword,
    Mismatch,
    Exists,
    LastAdmin,
    BadKeyName,
    NotFound,
    Expired,
}

impl Notice {
    const ALL: [Self; 17] = [
        Self::UserCreated,
        Self::RoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::KeyRevoked,
        Self::ProviderDisabled,
        Self::ProviderEnabled,
        Self::PasswordChanged,
        Self::BadName,
        Self::WeakPassword,
        Self::WrongPassword,
        Self::Mismatch,
        Self::Exists,
        Self::LastAdmin,
        Self::BadKeyName,
        Self::NotFound,
        Self::Expired,
    ];

    /// The stable code in the redirect's query.
    pub fn code(self) -> &'static str {
        match self {
            Self::UserCreated => "user_created",
            Self::RoleChanged => "role_changed",
            Self::UserDisabled => "disabled",
            Self::UserEnabled => "enabled",
            Self::KeyRevoked => "key_revoked",
            Self::ProviderDisabled => "provider_disabled",
            Self::ProviderEnabled => "provider_enabled",
            Self::PasswordChanged => "changed",
            Self::BadName => "bad_name",
            Self::WeakPassword => "weak_password",
            Self::WrongPassword => "wrong_password",
            Self::Mismatch => "mismatch",
            Self::Exists => "exists",
            Self::LastAdmin => "last_admin",
            Self::BadKeyName => "bad_key_name",
            Self::NotFound => "not_found",
            Self::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|notice| notice.code() == code)
    }

    /// True for a change made, false for a refusal (`?done=` or `?error=`).
    pub fn ok(self) -> bool {
        matches!(
            self,
            Self::UserCreated
                | Self::RoleChanged
                | Self::UserDisabled
                | Self::UserEnabled
                | Self::KeyRevoked
                | Self::ProviderDisabled
                | Self::ProviderEnabled
                | Self::PasswordChanged
        )
    }

    /// The query key the code travels under.
    pub fn key(self) -> &'static str {
        if self.ok() {
            "done"
        } else {
            "error"
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Self::UserCreated => "User created.",
            Self::RoleChanged => "Role changed. That user signs in again.",
            Self::UserDisabled => "User disabled. Their sessions have ended.",
            Self::UserEnabled => "User enabled.",
            Self::KeyRevoked => "API key revoked. Calls with it now get 401.",
            Self::ProviderDisabled => {
                "Provider turned off: nobody can start a new connection to it. Existing \
                 connections keep working and can still be disconnected."
            }
            Self::ProviderEnabled => "Provider turned on: users can connect it again.",
            Self::PasswordChanged => "Password changed. Your other sessions have ended.",
            Self::BadName => "A username is 1 to 64 letters, digits, '.', '_', '-' or '@'.",
            Self::WeakPassword => "A password needs 8 to 256 characters.",
            Self::WrongPassword => "The current password is not right.",
            Self::Mismatch => "The two passwords differ.",
            Self::Exists => "That username is taken.",
            Self::LastAdmin => "The last active administrator keeps the role.",
            Self::BadKeyName => "A key needs a name of 1 to 64 characters and a scope.",
            Self::NotFound => "That item no longer exists.",
            Self::Expired => {
                "This setup link has expired or was already used. Restart the hub (it prints a \
                 new link while there is no administrator), or run `atom user add --admin NAME`."
            }
        }
    }

    /// The path back to `page` with this notice in its query.
    pub fn redirect_to(self, page: &str) -> String {
        format!("{page}?{}={}", self.key(), self.code())
    }

    /// The notice a page's query names, under `done` or `error`.
    pub fn from_query(done: Option<String>, error: Option<String>) -> Option<Self> {
        done.or(error).and_then(|code| Self::parse(&code))
    }
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn codes_round_trip_and_unknown_codes_show_nothing() {
        for notice in Notice::ALL {
            assert_eq!(Notice::parse(notice.code()), Some(notice));
        }
        assert_eq!(Notice::parse("<b>x</b>"), None);
    }
}
