//! Scheduled Kusto reports and alerts: what teams build with Power Automate's Data Explorer
//! connector, from the same TOML file and container as the pipeline.
//!
//! A run flows one way: [`schedule`] (cron or period, missed runs, the replica gate) →
//! [`query`] (parameters, limits) → [`condition`] (`when`) → [`alert`] state → [`export`]
//! → [`render`] → [`deliver`] → [`history`]. [`run`] drives one run, [`scheduler`] the
//! loop; [`settings`] (checked from [`raw`] by `validate`) says what each report does;
//! [`status`] serves the history at `/reports` (JSON, or a page for browsers).

pub mod alert;
pub mod condition;
pub mod deliver;
pub mod export;
pub mod history;
pub mod history_table;
pub mod latest;
pub mod lease;
pub mod mail_settings;
pub mod message;
pub mod messages;
mod metrics;
pub mod outcome;
pub mod preview;
pub mod query;
pub mod raw;
pub mod render;
pub mod result;
pub mod run;
pub mod schedule;
pub mod scheduler;
pub mod settings;
pub mod setup;
pub mod status;
mod status_page;
mod validate;
mod validate_actions;
mod validate_mail;

#[cfg(test)]
mod tests;

pub use history::{History, RunRecord, Trigger};
pub use outcome::{RunFailure, RunStatus, Step};
pub use run::{RunOutput, Runner};
pub use scheduler::{Gate, Scheduler, Ticket};
pub use settings::{ReportSettings, ReportsSettings};
pub(crate) use validate::{reports, Defaults};
