//! Validated `[reports]` and `[[report]]`: what each report runs, when, what it checks, and
//! where its result goes. Made by `validate` from [`super::raw`]; every stage of a run
//! (schedule, query, condition, render, deliver, history) reads its part from here.

pub use super::mail_settings::{EmailSettings, SmtpSettings};
use super::schedule::Schedule;
use iotc_adx_jmespath::Expression;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Default time limit of a run's query: the Power Automate connector's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest time limit a report may ask for: the service's own limit.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Default row limit: the service's truncation limit.
pub const DEFAULT_MAX_ROWS: u64 = 500_000;
/// Default size limit: the service's truncation limit (64 MB).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Everything about reports.
#[derive(Debug, Clone)]
pub struct ReportsSettings {
    /// The reports, in configuration order.
    pub reports: Vec<ReportSettings>,
    /// Where runs are recorded.
    pub history: HistorySettings,
    /// What happens to a run missed while the service was down.
    pub missed: MissedRuns,
    /// The container holding one lease blob per report; `None`: no lease (one replica).
    pub lease_container: Option<url::Url>,
    /// The mail server e-mails are sent through.
    pub smtp: Option<SmtpSettings>,
}

/// `[reports.history]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySettings {
    /// The SQLite file.
    pub path: PathBuf,
    /// Runs kept per report.
    pub keep_runs: u64,
    /// How long runs are kept.
    pub keep: Duration,
    /// The Data Explorer table every run is also streamed into.
    pub table: Option<HistoryTableSettings>,
}

/// `[reports.history] table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTableSettings {
    /// The engine URL.
    pub cluster: url::Url,
    /// The database.
    pub database: String,
    /// The table.
    pub table: String,
}

/// What a scheduled run missed while the service was down becomes at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissedRuns {
    /// The latest missed run runs once, at start (never one per missed time).
    RunOnce,
    /// Missed runs are not run.
    Skip,
}

/// One validated `[[report]]`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Unique name.
    pub name: String,
    /// Shown in messages and listings.
    pub description: Option<String>,
    /// The engine URL.
    pub cluster: url::Url,
    /// The database.
    pub database: String,
    /// The query or control command.
    pub text: QueryText,
    /// When it runs; `None` runs only on demand.
    pub schedule: Option<Schedule>,
    /// The `start` parameter is `end` minus this; `None`: the previous scheduled time.
    pub window: Option<Duration>,
    /// How long the query may take.
    pub timeout: Duration,
    /// The most rows a result may have.
    pub max_rows: u64,
    /// The most bytes a result may have.
    pub max_bytes: u64,
    /// Scheduled (true) or on demand only.
    pub enabled: bool,
    /// Deliver only when this holds.
    pub when: Condition,
    /// One delivery per row.
    pub for_each_row: bool,
    /// Alert semantics: notify once per firing alert.
    pub alert: Option<AlertSettings>,
    /// Where the result is delivered.
    pub webhooks: Vec<WebhookSettings>,
    /// Where the rows are also written.
    pub exports: Vec<ExportSettings>,
    /// E-mails that receive the result.
    pub emails: Vec<EmailSettings>,
    /// The zone of the schedule, and of datetimes and time axes in what is sent.
    pub time_zone: chrono_tz::Tz,
}

/// The text a report runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryText {
    /// A KQL query (`/v2/rest/query`).
    Query(String),
    /// A control command (`/v1/rest/mgmt`).
    Command(String),
}

impl QueryText {
    /// The text sent.
    pub fn text(&self) -> &str {
        match self {
            QueryText::Query(t) | QueryText::Command(t) => t,
        }
    }
}

/// `when`: every part given must hold; the default always holds.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// A comparison of the row count.
    pub rows: Option<(Comparison, u64)>,
    /// A JMESPath expression over `{row_count, columns, rows}` that must be truthy.
    pub expression: Option<Expression>,
}

/// A comparison operator of `when.rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// `[report.alert]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Columns naming one alert; empty: the report is one alert.
    pub key: Vec<String>,
    /// Send a message when an alert stops firing.
    pub resolve: bool,
}

/// How a webhook wants its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The result as JSON (`report`, `columns`, `rows` as objects, ...).
    Json,
    /// A Microsoft Teams message holding an Adaptive Card.
    Teams,
    /// A Slack message (`text` and `blocks`).
    Slack,
}

/// A URL that may hold a key: shown without its query and path beyond the host.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(pub url::Url);

impl SecretUrl {
    /// What logs and errors may show: scheme, host and port only.
    pub fn redacted(&self) -> String {
        let port = self.0.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "{}://{}{port}/…",
            self.0.scheme(),
            self.0.host_str().unwrap_or("?")
        )
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// One `[[report.webhook]]`.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The message format.
    pub format: WebhookFormat,
    /// Where to POST.
    pub url: SecretUrl,
    /// Attempts per delivery.
    pub attempts: u32,
    /// Rows shown in a Teams or Slack message.
    pub max_rows: usize,
}

/// One `[[report.export]]`.
#[derive(Debug, Clone)]
pub enum ExportSettings {
    /// `.set-or-append <table> <| <query>`, run by the cluster.
    Table(String),
    /// `{"rows":[...]}` pages POSTed to a URL.
    Url {
        /// Where to POST.
        url: SecretUrl,
        /// Rows per page.
        page_rows: usize,
        /// Attempts per page.
        attempts: u32,
    },
}
