//! The command line: `run`, `check`, `provision`, `transform`, `replay`, `report` and
//! `healthcheck`. This is the binary's edge, where errors
//! become messages for people and exit codes.

mod check;
mod healthcheck;
mod preview;
mod provision;
mod replay;
mod report;
mod run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Moves Azure IoT Central exports into Azure Data Explorer, and runs scheduled Kusto reports
/// and alerts on them.
#[derive(Debug, Parser)]
#[command(name = "iotc-adx", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pipeline (until the source is exhausted or a shutdown signal arrives) and the
    /// scheduled reports.
    Run {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Validate the configuration and every transform, and print the resolved plan.
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Create or update each destination's table, JSON mapping and policies in Data Explorer.
    Provision {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Print the commands without running them (the tables are still read).
        #[arg(long)]
        dry_run: bool,
    },
    /// Preview the rows a destination makes from sample messages, with errors explained.
    Transform {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// The destination's name.
        #[arg(long, short)]
        destination: String,
        /// A file with one JSON message, or JSON Lines; standard input when absent.
        #[arg(long, short)]
        input: Option<PathBuf>,
    },
    /// Send dead letters through the pipeline again, once their cause is fixed. Each letter
    /// goes to the destination it failed for (or to --to); what fails again becomes a new
    /// dead letter with its new reason; replayed letters are recorded in replayed.jsonl so a
    /// second replay sends nothing twice.
    Replay {
        /// The configuration file (its sink, destinations and dead-letter directory).
        #[arg(long, short)]
        config: PathBuf,
        /// The dead-letter directory to read (default: the configuration's).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Only letters of this stage (decode, route, transform, coerce, ingest); repeatable.
        #[arg(long, value_parser = replay::parse_stage)]
        stage: Vec<iotc_adx::deadletter::Stage>,
        /// Only letters of this kind of problem (invalid_json, bad_value, rejected, ...);
        /// repeatable.
        #[arg(long)]
        reason_kind: Vec<String>,
        /// Only letters of this destination.
        #[arg(long, short)]
        destination: Option<String>,
        /// Only letters written at or after this time (RFC 3339).
        #[arg(long, value_parser = replay::parse_time)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only letters written before this time (RFC 3339).
        #[arg(long, value_parser = replay::parse_time)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Send every selected letter to this destination instead of its own.
        #[arg(long)]
        to: Option<String>,
        /// Show what each letter would become (rows, or the error), sending nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Scheduled reports and alerts: list them, run one now, show the run history.
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// Ask a running instance whether it is ready (for container health checks): exit code 0
    /// when the URL answers 200.
    Healthcheck {
        /// The endpoint to ask.
        #[arg(long, default_value = "http://127.0.0.1:9464/readyz")]
        url: String,
    },
}

/// Exit code for a configuration that does not validate.
const EXIT_CONFIG: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config } => run::run(&config),
        Command::Check { config } => check::check(&config),
        Command::Provision { config, dry_run } => provision::provision(&config, dry_run),
        Command::Transform {
            config,
            destination,
            input,
        } => preview::preview(&config, &destination, input.as_deref()),
        Command::Replay {
            config,
            from,
            stage,
            reason_kind,
            destination,
            since,
            until,
            to,
            dry_run,
        } => replay::replay(replay::Request {
            config,
            from,
            selection: iotc_adx::replay::Selection {
                stages: stage,
                kinds: reason_kind,
                destination,
                since,
                until,
            },
            to,
            dry_run,
        }),
        Command::Report { command } => report::report(command),
        Command::Healthcheck { url } => healthcheck::healthcheck(&url),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(config_error) = e.downcast_ref::<iotc_adx::config::ConfigError>() {
                eprintln!("error: {config_error}");
                return ExitCode::from(EXIT_CONFIG);
            }
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: many errors already include their cause's text,
/// which `{:#}` would print again.
fn describe(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}
