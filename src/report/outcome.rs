//! How a run ended ([`RunStatus`]), the step that failed ([`Step`]) and why
//! ([`RunFailure`]): what the history records, the metrics count and people read.

use std::fmt;

/// The status of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Every step succeeded (the result was delivered, or there was nothing to deliver).
    Succeeded,
    /// The condition did not hold: nothing was delivered or exported.
    Skipped,
    /// A step failed.
    Failed,
    /// The query took longer than the report's `timeout`.
    TimedOut,
    /// The result was larger than `max_rows` or `max_bytes`.
    Truncated,
}

impl RunStatus {
    /// Every status, for metrics and listings.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Succeeded,
        RunStatus::Skipped,
        RunStatus::Failed,
        RunStatus::TimedOut,
        RunStatus::Truncated,
    ];

    /// The word used in the history, the metrics' `status` label and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Skipped => "skipped",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Truncated => "truncated",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The steps of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Running the query or command.
    Query,
    /// Evaluating `when`.
    Condition,
    /// Writing rows to an export.
    Export,
    /// Sending messages to webhooks.
    Deliver,
    /// Reading or writing the run history and alert state.
    History,
}

impl Step {
    /// The step's name in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Query => "query",
            Step::Condition => "condition",
            Step::Export => "export",
            Step::Deliver => "deliver",
            Step::History => "history",
        }
    }
}

/// Why a run did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} step: {message}", step.as_str())]
pub struct RunFailure {
    /// Failed, timed out or truncated.
    pub status: RunStatus,
    /// Where.
    pub step: Step,
    /// What happened and, where it helps, what to change.
    pub message: String,
}

impl RunFailure {
    /// A failure of `step` with status [`RunStatus::Failed`].
    pub fn failed(step: Step, message: impl Into<String>) -> Self {
        RunFailure {
            status: RunStatus::Failed,
            step,
            message: message.into(),
        }
    }
}
