//! What the admin overview shows: counts and timings, never a secret or a user's name
//! beyond the newest audit events the audit viewer shows anyway.

use super::admin::AuditRow;
use serde::{Deserialize, Serialize};

/// The period the overview covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Hour,
    #[default]
    Day,
    Week,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Week];

    /// An unknown value is the default (a day), never an error.
    pub fn parse(text: &str) -> Self {
        match text {
            "hour" => Self::Hour,
            "week" => Self::Week,
            _ => Self::Day,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "Last hour",
            Self::Day => "Last 24 hours",
            Self::Week => "Last 7 days",
        }
    }

    /// The chart's columns: how many, and how many seconds each covers.
    pub fn buckets(self) -> (usize, i64) {
        match self {
            Self::Hour => (12, 300),
            Self::Day => (24, 3600),
            Self::Week => (7, 86_400),
        }
    }
}

/// One provider's connections, by state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderConnections {
    pub service: String,
    pub display_name: String,
    pub connected: u64,
    pub expired: u64,
    pub needs_reauth: u64,
}

/// Connect flows by how they ended. `in_progress` flows may still complete; `abandoned`
/// ones were never finished within the flow's ten minutes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowCounts {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub abandoned: u64,
    pub in_progress: u64,
}

/// One column of the flows chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowBucket {
    /// When the column starts, as people read it (UTC).
    pub label: String,
    pub counts: FlowCounts,
}

/// A count under a fixed code (a failure reason, a refresh outcome).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub code: String,
    pub count: u64,
}

/// How long one step of the connect flow took, over the window's flows that reached it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    pub step: String,
    pub samples: u64,
    pub p50_ms: u64,
    pub p95_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub window: Window,
    pub connections: Vec<ProviderConnections>,
    pub flows: Vec<FlowBucket>,
    pub totals: FlowCounts,
    /// Failed flows by reason, most frequent first.
    pub failures: Vec<Count>,
    /// Refreshes by outcome (`succeeded`, or the failure's reason), most frequent first.
    pub refreshes: Vec<Count>,
    pub steps: Vec<StepTiming>,
    /// The newest audit events, newest first.
    pub recent: Vec<AuditRow>,
}

/// Plain words for a failure reason or refresh outcome code; unknown codes are shown as is
/// (they are the server's own fixed codes, never provider text).
pub fn reason_label(code: &str) -> String {
    match code {
        "access_denied" => "Cancelled by the user".into(),
        "exchange_failed" => "Code exchange refused".into(),
        "identity_failed" => "Identity call failed".into(),
        "invalid_state" => "Expired or reused state".into(),
        "issuer_mismatch" => "Wrong issuer".into(),
        "provider_error" => "Provider error".into(),
        "internal" => "Internal error".into(),
        "succeeded" => "Refreshed".into(),
        "transient" => "Provider unavailable (kept)".into(),
        "invalid_grant" => "Refused: needs reconnect".into(),
        "invalid_client" => "Client credentials refused".into(),
        other => other.replace('_', " "),
    }
}

/// The value at `pct` percent (nearest rank) of sorted samples; 0 for none.
pub fn percentile(sorted: &[u64], pct: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (pct * sorted.len() as u64).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&samples, 50), 10);
        assert_eq!(percentile(&samples, 95), 19);
        assert_eq!(percentile(&[7], 95), 7);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn unknown_windows_fall_back_to_a_day() {
        assert_eq!(Window::parse("week"), Window::Week);
        assert_eq!(Window::parse("<script>"), Window::Day);
    }
}
