//! `[reports]` and `[[report]]` as written: plain serde types that refuse unknown keys.
//! `validate` turns them into [`super::settings`]; every key is documented in
//! `docs/reports.md`.

use serde::Deserialize;

/// `[reports]`: defaults shared by every `[[report]]`, the run history and the replica lease.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// The cluster reports query by default (default: `[sink] cluster`).
    pub cluster: Option<String>,
    /// The database reports query by default (default: the destinations' database when they
    /// all share one).
    pub database: Option<String>,
    /// The time zone of cron schedules by default, such as `Europe/Berlin` (default `UTC`).
    pub time_zone: Option<String>,
    /// What happens at start to a scheduled run missed while the service was down:
    /// `run_once` (default: the latest missed run, once) or `skip`.
    pub missed: Option<String>,
    /// Where every run is recorded.
    #[serde(default)]
    pub history: HistoryConfig,
    /// The lease that makes one replica run each scheduled run.
    #[serde(default)]
    pub lease: LeaseConfig,
    /// The mail server `[[report.email]]` sends through.
    pub smtp: Option<SmtpConfig>,
}

/// `[reports.smtp]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: Option<String>,
    /// Its port (default 587 for `starttls`, 465 for `tls`, 25 for `none`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (TLS from the first byte) or `none`.
    pub security: Option<String>,
    /// The user name to sign in with (no sign-in without one).
    pub username: Option<String>,
    /// The password (prefer `password_env`).
    pub password: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// The sender, such as `IoT reports <reports@example.com>`.
    pub from: Option<String>,
    /// A PEM file of CA certificates the server's certificate may chain to, besides the
    /// public roots.
    pub ca_file: Option<String>,
    /// How long one connection may take (default `30s`).
    pub timeout: Option<String>,
}

/// `[reports.history]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// The SQLite file (default `reports.db` beside the configuration file).
    pub path: Option<String>,
    /// Runs kept per report (default 1000).
    pub keep_runs: Option<u64>,
    /// Days runs are kept (default 30).
    pub keep_days: Option<u64>,
    /// Also stream every run into this Data Explorer table (created at start).
    pub table: Option<String>,
    /// Its database (default `[reports] database`).
    pub database: Option<String>,
    /// Its cluster (default `[reports] cluster`).
    pub cluster: Option<String>,
}

/// `[reports.lease]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseConfig {
    /// A blob container URL (SAS in the URL, or `[auth]`) holding one lease blob per report
    /// (default: the Event Hubs source's checkpoint container; none: this replica runs
    /// every scheduled run).
    pub container: Option<String>,
    /// Turn the lease off even when a container is known (default true).
    pub enabled: Option<bool>,
}

/// One `[[report]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Unique name: letters, digits, `-` and `_`.
    pub name: String,
    /// Shown in messages and `report list`.
    pub description: Option<String>,
    /// The cluster (default `[reports] cluster`).
    pub cluster: Option<String>,
    /// The database (default `[reports] database`).
    pub database: Option<String>,
    /// A KQL query.
    pub query: Option<String>,
    /// A control command (starts with a dot).
    pub command: Option<String>,
    /// A `.kql` file holding the query or command (a command starts with a dot).
    pub file: Option<String>,
    /// A cron expression (5 fields, or 6 with seconds first).
    pub schedule: Option<String>,
    /// `every = "15m"`: runs at every multiple of this period since the Unix epoch.
    pub every: Option<String>,
    /// The time zone of `schedule` (default `[reports] time_zone`).
    pub time_zone: Option<String>,
    /// The `start` parameter is `end` minus this (default: the previous scheduled time).
    pub window: Option<String>,
    /// How long a run's query may take (default `90s`, at most `1h`).
    pub timeout: Option<String>,
    /// The most rows a result may have (default 500000).
    pub max_rows: Option<u64>,
    /// The most bytes a result may have (default 67108864, 64 MB).
    pub max_bytes: Option<u64>,
    /// Off: listed and runnable on demand, never scheduled (default true).
    pub enabled: Option<bool>,
    /// Deliver only when this holds; otherwise the run is recorded as skipped.
    pub when: Option<WhenConfig>,
    /// One delivery per result row instead of one per run (default false).
    pub for_each_row: Option<bool>,
    /// Notify once per firing alert, and once more when it resolves.
    pub alert: Option<AlertConfig>,
    /// Webhooks that receive the result.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
    /// Where the rows are also written.
    #[serde(default)]
    pub export: Vec<ExportConfig>,
    /// E-mails that receive the result, through `[reports.smtp]`.
    #[serde(default)]
    pub email: Vec<EmailConfig>,
}

/// `[[report.email]]`. Addresses and the subject are templates (`{{ row.Owner }}` with
/// `for_each_row`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// Copies.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copies.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// The subject (default: the message's title, such as `hourly-summary: 12 rows`).
    pub subject: Option<String>,
    /// `normal` (default), `high` or `low`.
    pub importance: Option<String>,
    /// What the body shows: `table`, `chart` or `both` (default: `chart` when there is a
    /// chart, else `table`).
    pub body: Option<String>,
    /// Charts of the result (`timechart`, `piechart`, `barchart`, `columnchart`,
    /// `linechart`, `areachart`); default: the query's `render`, if it is a chart.
    #[serde(default)]
    pub charts: Vec<String>,
    /// Attachments: `csv` (the result), `png` and `svg` (each chart). Default `["csv"]`.
    pub attach: Option<Vec<String>>,
    /// Rows shown in the body's table (default 100; the CSV has them all).
    pub max_rows: Option<usize>,
    /// A template file for the HTML body (minijinja), instead of the built-in one.
    pub template: Option<String>,
    /// Attempts per e-mail (default 3).
    pub attempts: Option<u32>,
}

/// `when`: every condition given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenConfig {
    /// A comparison of the row count: `"> 0"`, `">= 10"`, `"== 0"`, `"!= 0"`, `"< 5"`.
    pub rows: Option<String>,
    /// A JMESPath expression over `{row_count, columns, rows}` (rows as objects by column
    /// name) that must be truthy, e.g. ``"rows[?Temperature > `80`]"``.
    pub expression: Option<String>,
}

/// `[report.alert]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Columns whose values name one alert (default none: the report is one alert, firing
    /// while `when` holds).
    #[serde(default)]
    pub key: Vec<String>,
    /// Send a "resolved" message when an alert stops firing (default true).
    pub resolve: Option<bool>,
}

/// `[[report.webhook]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `json` (default), `teams` (an Adaptive Card) or `slack`.
    pub format: Option<String>,
    /// The URL (it usually holds a key: prefer `url_env`).
    pub url: Option<String>,
    /// The environment variable holding the URL.
    pub url_env: Option<String>,
    /// Attempts per delivery (default 5), with backoff and `Retry-After`.
    pub attempts: Option<u32>,
    /// Rows shown in a Teams or Slack message (default 20).
    pub max_rows: Option<usize>,
}

/// `[[report.export]]`: a table (`.set-or-append`) or a URL (JSON pages).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// Append the report's rows into this table with `.set-or-append` (run by the cluster:
    /// the rows do not pass through iotc-adx). Queries only.
    pub table: Option<String>,
    /// POST the rows as `{"rows":[...]}` pages to this URL (Power BI push datasets).
    pub url: Option<String>,
    /// The environment variable holding that URL.
    pub url_env: Option<String>,
    /// Rows per page (default 500).
    pub page_rows: Option<usize>,
    /// Attempts per page (default 5).
    pub attempts: Option<u32>,
}
