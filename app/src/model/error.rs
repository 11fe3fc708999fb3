//! The one error every server function answers with: typed on both sides, with an HTTP status
//! of its own (401, 403, 404, 400, 503) and a fixed text safe to show. What went wrong inside
//! is logged by the server, never sent.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a page could not load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loadable {
    // Not "connections": an answer never names a table.
    #[serde(rename = "connection_list")]
    Connections,
    Users,
    ApiKeys,
    AuditLog,
    Providers,
    Overview,
}

impl Loadable {
    fn label(self) -> &'static str {
        match self {
            Self::Connections => "Your connections",
            Self::Users => "The users",
            Self::ApiKeys => "The API keys",
            Self::AuditLog => "The audit log",
            Self::Providers => "The providers",
            Self::Overview => "The overview",
        }
    }
}

/// Why a server function failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub enum AppError {
    /// 401: nobody is signed in.
    SignInRequired,
    /// 403: signed in, but not allowed.
    Forbidden,
    /// 404: the thing asked for does not exist.
    NotFound,
    /// 400: an audit filter's date is not `YYYY-MM-DD`.
    BadDate,
    /// 400: the call's arguments could not be read.
    BadRequest,
    /// 503: the hub could not load it right now (its database, most likely).
    Unavailable(Loadable),
    /// The call did not get an answer from the hub (network, or an answer it could not read).
    Unreachable,
}

impl AppError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::SignInRequired => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::BadDate | Self::BadRequest => 400,
            Self::Unavailable(_) | Self::Unreachable => 503,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SignInRequired => f.write_str("Please sign in."),
            Self::Forbidden => f.write_str("This is for administrators."),
            Self::NotFound => f.write_str("That no longer exists."),
            Self::BadDate => f.write_str("Dates are written YYYY-MM-DD."),
            Self::BadRequest => f.write_str("That request was not understood."),
            Self::Unavailable(what) => {
                write!(f, "{} could not be loaded. Try again.", what.label())
            }
            Self::Unreachable => {
                f.write_str("The hub could not be reached. Try again in a moment.")
            }
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments the server could not read: the caller's mistake.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::BadRequest,
            // The network, or an answer the browser could not read.
            _ => Self::Unreachable,
        }
    }
}

/// On the wire: the error and its text (a no-JavaScript form post shows the text).
#[derive(Serialize, Deserialize)]
struct Wire {
    error: Code,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    what: Option<Loadable>,
    #[serde(default)]
    message: String,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Code {
    SignInRequired,
    Forbidden,
    NotFound,
    BadDate,
    BadRequest,
    Unavailable,
    Unreachable,
}

impl From<AppError> for Wire {
    fn from(error: AppError) -> Self {
        let message = error.to_string();
        let (code, what) = match error {
            AppError::SignInRequired => (Code::SignInRequired, None),
            AppError::Forbidden => (Code::Forbidden, None),
            AppError::NotFound => (Code::NotFound, None),
            AppError::BadDate => (Code::BadDate, None),
            AppError::BadRequest => (Code::BadRequest, None),
            AppError::Unavailable(what) => (Code::Unavailable, Some(what)),
            AppError::Unreachable => (Code::Unreachable, None),
        };
        Wire {
            error: code,
            what,
            message,
        }
    }
}

impl From<Wire> for AppError {
    fn from(wire: Wire) -> Self {
        match (wire.error, wire.what) {
            (Code::SignInRequired, _) => Self::SignInRequired,
            (Code::Forbidden, _) => Self::Forbidden,
            (Code::NotFound, _) => Self::NotFound,
            (Code::BadDate, _) => Self::BadDate,
            (Code::BadRequest, _) => Self::BadRequest,
            (Code::Unavailable, Some(what)) => Self::Unavailable(what),
            (Code::Unavailable, None) | (Code::Unreachable, _) => Self::Unreachable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_with_their_text() {
        for error in [
            AppError::SignInRequired,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::BadDate,
            AppError::BadRequest,
            AppError::Unavailable(Loadable::Connections),
            AppError::Unreachable,
        ] {
            let json = serde_json::to_string(&error).expect("serializes");
            assert!(json.contains(&error.to_string()), "{json}");
            let back: AppError = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, error);
        }
        assert_eq!(AppError::Unavailable(Loadable::AuditLog).status(), 503);
        assert_eq!(AppError::SignInRequired.status(), 401);
    }
}
