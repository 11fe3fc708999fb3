//! Audit events as a typed enum with stable names. Never a secret in them.

use crate::base::clock::Clock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    SignOut,
    ConnectStarted,
    ConnectSucceeded,
    ConnectFailed,
    StateRejected,
    Disconnected,
    Revocation,
    UserCreated,
    UserDisabled,
    Refreshed,
    NeedsReauth,
    TokenIssued,
    ApiKeyCreated,
    ApiKeyRevoked,
    ConnectLinkCreated,
    ConnectLinkOpened,
    ConnectLinkRejected,
    PasswordChanged,
    RoleChanged,
    UserEnabled,
    CrossOriginRejected,
    DecryptFailed,
    ProviderEnabled,
    ProviderDisabled,
    BackupMade,
    UserUpdated,
    UserDeleted,
    PortalLinkCreated,
    PortalLinkOpened,
    ProxyCall,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::SignIn => "auth.sign_in",
            Self::SignOut => "auth.sign_out",
            Self::ConnectStarted => "connection.connect_started",
            Self::ConnectSucceeded => "connection.created",
            Self::ConnectFailed => "connection.connect_failed",
            Self::StateRejected => "oauth.state_rejected",
            Self::Disconnected => "connection.deleted",
            Self::Revocation => "connection.revocation",
            Self::UserCreated => "admin.user_created",
            Self::UserDisabled => "admin.user_disabled",
            Self::Refreshed => "connection.refreshed",
            Self::NeedsReauth => "connection.needs_reauth",
            Self::TokenIssued => "api.token_issued",
            Self::ApiKeyCreated => "admin.api_key_created",
            Self::ApiKeyRevoked => "admin.api_key_revoked",
            Self::ConnectLinkCreated => "api.connect_link_created",
            Self::ConnectLinkOpened => "connect_link.opened",
            Self::ConnectLinkRejected => "connect_link.rejected",
            Self::PasswordChanged => "auth.password_changed",
            Self::RoleChanged => "admin.role_changed",
            Self::UserEnabled => "admin.user_enabled",
            Self::CrossOriginRejected => "security.cross_origin_rejected",
            Self::DecryptFailed => "security.decrypt_failed",
            Self::ProviderEnabled => "admin.provider_enabled",
            Self::ProviderDisabled => "admin.provider_disabled",
            Self::BackupMade => "admin.backup_made",
            Self::UserUpdated => "admin.user_updated",
            Self::UserDeleted => "admin.user_deleted",
            Self::PortalLinkCreated => "api.portal_link_created",
            Self::PortalLinkOpened => "portal_link.opened",
            Self::ProxyCall => "api.proxy_call",
        }
    }

    /// Events that change what a user's Connections page shows.
    pub fn changes_connection(name: &str) -> bool {
        [
            Self::ConnectSucceeded,
            Self::Disconnected,
            Self::Refreshed,
            Self::NeedsReauth,
        ]
        .iter()
        .any(|kind| kind.name() == name)
    }

    /// Events that may end a user's sessions (the subject's, or the actor's own).
    pub fn ends_sessions(name: &str) -> bool {
        [
            Self::SignOut,
            Self::PasswordChanged,
            Self::RoleChanged,
            Self::UserDisabled,
            Self::UserDeleted,
        ]
        .iter()
        .any(|kind| kind.name() == name)
    }

    /// Events that change every user's Connections page (a provider turned on or off).
    pub fn changes_everyone(name: &str) -> bool {
        [Self::ProviderEnabled, Self::ProviderDisabled]
            .iter()
            .any(|kind| kind.name() == name)
    }
}

/// Who did what from where; `reason` is one of our own fixed codes, never provider text.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: Kind,
    pub ok: bool,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub provider: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub reason: Option<String>,
    /// When it happened, by the application's clock.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The request facts every event records, and the clock that dates it.
#[derive(Clone, Debug)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub clock: Clock,
}

impl Origin {
    /// An event of the hub itself (a job, the command line): no address, no user agent.
    pub fn internal(clock: &Clock) -> Self {
        Self {
            ip: None,
            user_agent: None,
            clock: clock.clone(),
        }
    }
}

impl Event {
    pub fn new(kind: Kind, origin: &Origin) -> Self {
        Self {
            at: origin.clock.now(),
            kind,
            ok: true,
            actor: None,
            subject: None,
            provider: None,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            reason: None,
        }
    }

    /// The user acts on their own account.
    pub fn by(mut self, user_id: &str) -> Self {
        self.actor = Some(user_id.to_string());
        self.subject = Some(user_id.to_string());
        self
    }

    /// An administrator (or the command line, with no actor) acts on another user.
    pub fn on(mut self, actor: Option<&str>, subject: &str) -> Self {
        self.actor = actor.map(str::to_string);
        self.subject = Some(subject.to_string());
        self
    }

    pub fn provider(mut self, service: &str) -> Self {
        self.provider = Some(service.to_string());
        self
    }

    pub fn failed(mut self, reason: &str) -> Self {
        self.ok = false;
        self.reason = Some(reason.to_string());
        self
    }

    pub fn reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_string());
        self
    }
}
