//! `iotc-adx report list | run NAME | preview NAME | history [NAME]`, and the reports part
//! of `run` and `check`: starting the scheduler beside the pipeline and serving `/reports`.

use anyhow::Context;
use azure_core::credentials::TokenCredential;
use clap::Subcommand;
use iotc_adx::config::{self, Settings};
use iotc_adx::report::query::{self, Window};
use iotc_adx::report::result::ReportResult;
use iotc_adx::report::{
    preview, setup, status, History, ReportSettings, ReportsSettings, RunStatus, Scheduler, Trigger,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;

/// `iotc-adx report ...`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// List the configured reports with their schedule, next run and last run.
    List {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run a report now: query, condition, exports and deliveries, recorded in the history;
    /// prints the result.
    Run {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// The report's name.
        name: String,
        /// Run as if scheduled at this time (RFC 3339; default now).
        #[arg(long, value_parser = super::replay::parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// Only run the query and print the result: no exports, deliveries or history.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write what a run would send, without sending it: each webhook's JSON, each e-mail's
    /// HTML, text, charts, attachments and whole MIME. Nothing is delivered or recorded.
    Preview {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// The report's name.
        name: String,
        /// Run as if scheduled at this time (RFC 3339; default now).
        #[arg(long, value_parser = super::replay::parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// The folder to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
    /// Show the run history, newest first: every report, or one.
    History {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Only this report.
        name: Option<String>,
        /// How many runs (default 20).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `report` subcommand.
pub fn report(command: ReportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ReportCommand::List { config } => list(&config),
        ReportCommand::Run {
            config,
            name,
            at,
            dry_run,
        } => run_now(&config, &name, at, dry_run),
        ReportCommand::Preview {
            config,
            name,
            at,
            out,
        } => preview(&config, &name, at, &out),
        ReportCommand::History {
            config,
            name,
            limit,
            json,
        } => history(&config, name.as_deref(), limit, json),
    }
}

fn preview(
    config_path: &Path,
    name: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    let report = find(&settings.reports, name)?.clone();
    let scheduled = chrono::SubsecRound::trunc_subsecs(at.unwrap_or_else(chrono::Utc::now), 3);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let credential = iotc_adx::auth::credential(&settings.auth, Default::default())?;
        let client = setup::client(&report, credential)?;
        let window = Window::for_run(&report, scheduled);
        let result = query::run(&client, &report, window, "iotc-adx.report.preview").await?;
        let messages = preview::messages_of(&report, &result, window)?;
        if messages.is_empty() {
            println!("{name}: the condition does not hold for this result, so nothing would be sent ({} rows)", result.rows.len());
            return Ok(ExitCode::SUCCESS);
        }
        let files = preview::write_all(out, &report, settings.reports.smtp.as_ref(), &messages)?;
        println!(
            "{name}: {} message{} ({} rows) written to {}:",
            messages.len(),
            if messages.len() == 1 { "" } else { "s" },
            result.rows.len(),
            out.display()
        );
        for f in files {
            println!("  {}", f.display());
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn find<'a>(settings: &'a ReportsSettings, name: &str) -> anyhow::Result<&'a ReportSettings> {
    settings
        .reports
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = settings.reports.iter().map(|r| r.name.as_str()).collect();
            anyhow::anyhow!(
                "no report named {name:?}; configured: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
}

fn list(config_path: &Path) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    let history = History::open(&settings.reports.history.path)?;
    if settings.reports.reports.is_empty() {
        println!("no [[report]] is configured");
    }
    for r in &settings.reports.reports {
        let d = status::describe(r, &history, 1);
        let last = d["runs"]
            .get(0)
            .map(|run| {
                format!(
                    "{} at {}",
                    run["status"].as_str().unwrap_or("?"),
                    run["started"].as_str().unwrap_or("?")
                )
            })
            .unwrap_or_else(|| "never".into());
        println!(
            "{:<24} {:<40} next: {:<25} last: {last}",
            r.name,
            d["schedule"].as_str().unwrap_or("on demand only"),
            d["next_run"].as_str().unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_now(
    config_path: &Path,
    name: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    let report = find(&settings.reports, name)?.clone();
    // Kusto's datetimes have 100 ns ticks: a whole millisecond is exact everywhere.
    let scheduled = chrono::SubsecRound::trunc_subsecs(at.unwrap_or_else(chrono::Utc::now), 3);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let credential = iotc_adx::auth::credential(&settings.auth, Default::default())?;
        if dry_run {
            let client = setup::client(&report, credential)?;
            let window = Window::for_run(&report, scheduled);
            let result = query::run(&client, &report, window, "iotc-adx.report.dry-run").await?;
            print_result(&result);
            return Ok(ExitCode::SUCCESS);
        }
        let runner = setup::runner(&settings.reports, credential)?;
        let out = runner.run(&report, scheduled, Trigger::Demand).await;
        if let Some(result) = &out.result {
            print_result(result);
        }
        let r = &out.record;
        println!(
            "\n{}: {} in {} ms, {} rows, {} message{} delivered",
            r.report,
            r.status,
            r.duration_ms,
            r.rows.map_or("-".into(), |n| n.to_string()),
            r.delivered,
            if r.delivered == 1 { "" } else { "s" }
        );
        if let (Some(step), Some(error)) = (&r.step, &r.error) {
            eprintln!("error in the {step} step: {error}");
        }
        Ok(match r.status {
            RunStatus::Succeeded | RunStatus::Skipped => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        })
    })
}

fn history(
    config_path: &Path,
    name: Option<&str>,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    if let Some(n) = name {
        find(&settings.reports, n)?;
    }
    let history = History::open(&settings.reports.history.path)?;
    let runs = history.runs(name, limit)?;
    if runs.is_empty() {
        println!(
            "no runs recorded in {}",
            settings.reports.history.path.display()
        );
    }
    for r in runs {
        if json {
            println!("{}", serde_json::to_string(&r)?);
            continue;
        }
        println!(
            "{}  {:<24} {:<9} {:<10} {:>7} ms  rows {:>6}  sent {:>3}  {}{}",
            r.started.format("%Y-%m-%d %H:%M:%S"),
            r.report,
            format!("{:?}", r.trigger).to_lowercase(),
            r.status.as_str(),
            r.duration_ms,
            r.rows.map_or("-".into(), |n| n.to_string()),
            r.delivered,
            r.step
                .as_deref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default(),
            r.error.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A result as a padded text table, at most 100 rows.
fn print_result(r: &ReportResult) {
    const SHOWN: usize = 100;
    let mut grid: Vec<Vec<String>> = vec![r.columns.iter().map(|c| c.name.clone()).collect()];
    grid.extend(r.rows.iter().take(SHOWN).map(|row| {
        row.iter()
            .map(iotc_adx::report::message::Message::cell)
            .collect()
    }));
    let widths: Vec<usize> = (0..r.columns.len())
        .map(|i| {
            grid.iter()
                .map(|row| row.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &grid {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    if r.rows.len() > SHOWN {
        println!("({} more rows not shown)", r.rows.len() - SHOWN);
    }
}

/// `check`'s lines about reports.
pub fn print_reports(settings: &ReportsSettings) {
    for r in &settings.reports {
        println!(
            "report        {}: {} on {} database {}; {}{}",
            r.name,
            match &r.text {
                iotc_adx::report::settings::QueryText::Query(_) => "query",
                iotc_adx::report::settings::QueryText::Command(_) => "command",
            },
            r.cluster,
            r.database,
            r.schedule
                .as_ref()
                .map_or("on demand only".into(), |s| s.describe()),
            if r.enabled { "" } else { " (disabled)" }
        );
        println!(
            "                timeout {}, max_rows {}, max_bytes {}, {} webhook(s), {} e-mail(s), {} export(s){}",
            humantime::format_duration(r.timeout),
            r.max_rows,
            r.max_bytes,
            r.webhooks.len(),
            r.emails.len(),
            r.exports.len(),
            if r.alert.is_some() { ", alert" } else { "" }
        );
    }
    if let Some(s) = &settings.smtp {
        let login = s
            .credentials
            .as_ref()
            .map_or("no sign-in".to_string(), |(u, _)| format!("as {u}"));
        println!(
            "report e-mail  smtp://{}:{} ({:?}, {login}) from {}",
            s.host, s.port, s.security, s.from
        );
    }
    if !settings.reports.is_empty() {
        println!(
            "report history {} (keep {} runs per report)",
            settings.history.path.display(),
            settings.history.keep_runs
        );
    }
}

/// The reports part of `iotc-adx run`: the scheduler in a task of its own, and `/reports`.
pub struct Reports {
    router: axum::Router,
    scheduled: usize,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the scheduler when reports are configured.
pub fn start(
    settings: &Settings,
    credential: Option<Arc<dyn TokenCredential>>,
) -> anyhow::Result<Reports> {
    let (stop, stopped) = watch::channel(false);
    let r = &settings.reports;
    if r.reports.is_empty() {
        return Ok(Reports {
            router: axum::Router::new(),
            scheduled: 0,
            stop,
            task: None,
        });
    }
    let runner = Arc::new(setup::runner(r, credential.clone())?);
    let gate = iotc_adx::report::lease::gate(r, credential)?;
    let router = status::router(r.reports.clone(), runner.history().clone());
    let scheduler = Scheduler::new(runner, r.reports.clone(), r.missed, gate);
    let scheduled = scheduler.len();
    tracing::info!(reports = r.reports.len(), scheduled, "reports starting");
    let task = tokio::spawn(scheduler.run(stopped));
    Ok(Reports {
        router,
        scheduled,
        stop,
        task: Some(task),
    })
}

impl Reports {
    /// The `/reports` routes.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// How many reports run on a schedule.
    pub fn scheduled(&self) -> usize {
        self.scheduled
    }

    /// Stops the scheduler, letting a run in progress finish.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
