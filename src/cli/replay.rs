//! `iotc-adx replay`: sends dead letters through the pipeline again, after the cause is fixed.
//! `--dry-run` shows, per letter, the rows it would make now or why it would fail again.

use anyhow::{bail, Context};
use iotc_adx::config::{self, DestinationSettings, Settings, SinkSettings};
use iotc_adx::deadletter::{LocalDirStore, Stage};
use iotc_adx::pipeline::{Output, Pipeline, Processor, Summary};
use iotc_adx::replay::{
    destinations_of, read_store, replay_events, replay_rows, Group, Ledger, OnProgress, Plan,
    ReplaySource, RowsReport, Selection,
};
use iotc_adx::sink::file::FileSink;
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::sink::Sink;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// What the command line asked for.
#[derive(Debug)]
pub struct Request {
    pub config: PathBuf,
    pub from: Option<PathBuf>,
    pub selection: Selection,
    pub to: Option<String>,
    pub dry_run: bool,
}

/// Parses `--stage` values, naming the accepted ones on a mistake.
pub fn parse_stage(text: &str) -> Result<Stage, String> {
    Stage::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "unknown stage {text:?}: expected one of {}",
            names.join(", ")
        )
    })
}

/// Parses `--since`/`--until`: RFC 3339, such as 2026-12-01T00:00:00Z.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z: {e}"))
}

pub fn replay(request: Request) -> anyhow::Result<ExitCode> {
    let settings = config::load(&request.config)?;
    iotc_adx::telemetry::log::init(&settings.log);
    let from = request
        .from
        .clone()
        .unwrap_or_else(|| settings.dead_letter.dir.clone());
    if let Some(to) = &request.to {
        check_destination(&settings, to, "--to")?;
    }
    if let Some(d) = &request.selection.destination {
        check_destination(&settings, d, "--destination")?;
    }
    let store = read_store(&from)?;
    let ledger = Ledger::open(&from)?;
    let names: Vec<&str> = settings
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    let plan = Plan::new(
        store,
        &request.selection,
        request.to.as_deref(),
        &names,
        &ledger,
    );
    print_plan(&plan, &from);
    if request.dry_run {
        dry_run(&plan, &settings.destinations);
        return Ok(ExitCode::SUCCESS);
    }
    if plan.letters() == 0 {
        println!("nothing to replay");
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let ledger = Arc::new(Mutex::new(ledger));
    let outcome = runtime.block_on(send(&plan, &settings, &ledger));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let (summaries, rows) = outcome?;
    print_outcome(&summaries, &rows);
    let unconfirmed: usize = summaries.iter().map(|s| s.unconfirmed_batches).sum();
    Ok(if unconfirmed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_destination(settings: &Settings, name: &str, flag: &str) -> anyhow::Result<()> {
    if settings.destinations.iter().any(|d| d.name == name) {
        return Ok(());
    }
    let names: Vec<&str> = settings
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    bail!(
        "{flag}: no destination is named {name:?}; the configuration has: {}",
        names.join(", ")
    )
}

fn print_plan(plan: &Plan, from: &Path) {
    println!("dead letters in {}", from.display());
    for group in &plan.groups {
        let to = group
            .destination
            .as_deref()
            .unwrap_or("every destination whose filter takes them");
        println!("  {} message letter(s) -> {to}", group.letters.len());
    }
    if !plan.rows.is_empty() {
        println!(
            "  {} letter(s) of refused rows -> sent as rows",
            plan.rows.len()
        );
    }
    if plan.already_replayed > 0 {
        println!("  {} already replayed (skipped)", plan.already_replayed);
    }
    for (stored, why) in &plan.skipped {
        println!("  cannot replay {}: {why}", stored.location);
    }
    for bad in &plan.unreadable {
        println!("  unreadable line {}: {}", bad.location, bad.problem);
    }
}

/// Shows what each letter would become now, sending nothing and marking nothing.
fn dry_run(plan: &Plan, all: &[DestinationSettings]) {
    for group in &plan.groups {
        let destinations = destinations_of(group, all);
        let processor = Processor::new(destinations.clone());
        for (stored, event) in group.letters.iter().zip(replay_events(&group.letters)) {
            println!(
                "── {} ({}, was: {})",
                stored.location, stored.letter.stage, stored.letter.reason
            );
            let mut out = Output::new(destinations.len());
            processor.process(&event, &mut out);
            show_output(&out, &destinations);
        }
    }
    for (target, stored) in &plan.rows {
        println!(
            "── {} (ingest, was: {})",
            stored.location, stored.letter.reason
        );
        println!("  would send these rows to {target} as they are:");
        for line in stored.letter.rows.as_deref().unwrap_or("").lines() {
            println!("    {line}");
        }
    }
    println!("dry run: nothing was sent, nothing was marked as replayed");
}

fn show_output(out: &Output, destinations: &[DestinationSettings]) {
    for f in &out.failures {
        let name = f.destination.map_or("-", |i| destinations[i].name.as_str());
        println!(
            "  {name}: would fail again at {} ({}): {}",
            f.stage, f.kind, f.reason
        );
    }
    for (i, d) in destinations.iter().enumerate() {
        let (rows, count) = out.rows(i);
        if count == 0 {
            continue;
        }
        println!(
            "  {}: {count} row(s) for {}.{}:",
            d.name, d.database, d.table
        );
        for line in String::from_utf8_lossy(rows).lines() {
            println!("    {line}");
        }
    }
    if out.matched() == 0 && out.failures.is_empty() {
        println!("  no destination's filter takes it: nothing would be sent");
    }
}

async fn send(
    plan: &Plan,
    settings: &Settings,
    ledger: &Arc<Mutex<Ledger>>,
) -> anyhow::Result<(Vec<Summary>, RowsReport)> {
    let bar = progress_bar(plan.letters() as u64);
    let mut summaries = Vec::new();
    let mut before = 0;
    for group in &plan.groups {
        let at = before;
        let b = bar.clone();
        let on_progress: OnProgress = Arc::new(move |n| b.set_position(at + n));
        summaries.push(send_group(group, settings, ledger, on_progress).await?);
        before += group.letters.len() as u64;
    }
    let mut rows = RowsReport::default();
    if !plan.rows.is_empty() {
        let b = bar.clone();
        let on_progress: OnProgress = Arc::new(move |n| b.set_position(before + n));
        let mut dead = LocalDirStore::new(
            &settings.dead_letter.dir,
            settings.dead_letter.max_file_bytes,
        );
        let all = &settings.destinations;
        rows = match required_sink(settings)? {
            SinkSettings::File { dir, gzip } => {
                let sink = FileSink::new(dir, &names(all), *gzip);
                replay_rows(&plan.rows, all, &sink, &mut dead, ledger, &on_progress).await?
            }
            SinkSettings::Kusto(_) => {
                let sink = kusto_sink(settings, all).await?;
                replay_rows(&plan.rows, all, &sink, &mut dead, ledger, &on_progress).await?
            }
        };
    }
    bar.finish_and_clear();
    Ok((summaries, rows))
}

/// The sink replays go to: a configuration of reports only has none.
fn required_sink(settings: &Settings) -> anyhow::Result<&SinkSettings> {
    settings.sink.as_ref().ok_or_else(|| {
        anyhow::anyhow!("replay needs a [sink]: this configuration has reports only")
    })
}

async fn send_group(
    group: &Group,
    settings: &Settings,
    ledger: &Arc<Mutex<Ledger>>,
    on_progress: OnProgress,
) -> anyhow::Result<Summary> {
    let destinations = destinations_of(group, &settings.destinations);
    let source = ReplaySource::new(&group.letters, ledger.clone(), on_progress);
    let dead = Box::new(LocalDirStore::new(
        &settings.dead_letter.dir,
        settings.dead_letter.max_file_bytes,
    ));
    let never = std::future::pending::<()>();
    Ok(match required_sink(settings)? {
        SinkSettings::File { dir, gzip } => {
            let sink = FileSink::new(dir, &names(&destinations), *gzip);
            Pipeline::new(destinations, sink, dead)
                .run(source, never)
                .await?
        }
        SinkSettings::Kusto(_) => {
            let sink = kusto_sink(settings, &destinations).await?;
            Pipeline::new(destinations, sink, dead)
                .run(source, never)
                .await?
        }
    })
}

/// The Kusto sink over `destinations`, without the duplicate lookup: replayed events have
/// positions of their own (partition `replay`), which say nothing about the hub's.
async fn kusto_sink(
    settings: &Settings,
    destinations: &[DestinationSettings],
) -> anyhow::Result<impl Sink> {
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        bail!("the sink is not Data Explorer");
    };
    let mut kusto = kusto.clone();
    kusto.dedupe = false;
    let credential = iotc_adx::auth::credential(&settings.auth, Default::default())?;
    let client = iotc_adx::sink::kusto::client(&kusto, credential)?;
    Ok(KustoSink::connect(client, &kusto, destinations).await?)
}

fn names(destinations: &[DestinationSettings]) -> Vec<String> {
    destinations.iter().map(|d| d.name.clone()).collect()
}

/// A bar on standard error when it is a terminal; nothing otherwise.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("replaying {bar:40} {pos}/{len} letters")
    {
        bar.set_style(style);
    }
    bar
}

fn print_outcome(summaries: &[Summary], rows: &RowsReport) {
    for summary in summaries {
        println!("{summary}");
    }
    if rows.accepted + rows.refused > 0 {
        println!(
            "refused rows sent again: {} letter(s) accepted ({} rows), {} refused again (new dead letters)",
            rows.accepted, rows.rows, rows.refused
        );
    }
}
