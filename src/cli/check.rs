//! `iotc-adx check`: validates the configuration and every transform, then prints the plan
//! the service would run, so a person can confirm it before starting.

use iotc_adx::config::{
    self, DestinationSettings, FileInput, Settings, SinkSettings, SourceSettings,
};
use iotc_adx::source::file::FileSource;
use std::path::Path;
use std::process::ExitCode;

/// Validates the file at `config_path` and prints what would run.
pub fn check(config_path: &Path) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    println!("configuration {} is valid\n", config_path.display());
    match &settings.source {
        Some(source) => print_source(source)?,
        None => println!("pipeline      none (reports only)"),
    }
    print_sink(&settings);
    println!(
        "dead letters  directory: {} (new file past {} bytes)",
        settings.dead_letter.dir.display(),
        settings.dead_letter.max_file_bytes
    );
    println!("metrics       {}", settings.metrics.listen);
    println!(
        "log           {} ({:?})",
        settings.log.filter, settings.log.format
    );
    for d in &settings.destinations {
        print_destination(d);
    }
    super::report::print_reports(&settings.reports);
    Ok(ExitCode::SUCCESS)
}

/// Where events come from; a file source lists the files it would read.
fn print_source(source: &SourceSettings) -> anyhow::Result<()> {
    match source {
        SourceSettings::EventHubs(e) => {
            let mut container = e.checkpoint_container.clone();
            container.set_query(None);
            println!(
                "source        eventhubs: {}/{} (consumer group {}, start {:?})",
                e.namespace, e.event_hub, e.consumer_group, e.start
            );
            println!(
                "                {}, checkpoints in {container} at most every {} ms",
                if e.connection_string.is_some() {
                    "connection string"
                } else {
                    "signed in with [auth]"
                },
                e.checkpoint_every.as_millis()
            );
        }
        SourceSettings::File {
            input: FileInput::Stdin,
        } => println!("source        file: standard input (JSON Lines)"),
        SourceSettings::File {
            input: input @ FileInput::Path(path),
        } => {
            let files: Vec<String> = FileSource::open(input)?
                .files()
                .map(|f| f.display().to_string())
                .collect();
            println!(
                "source        file: {} ({} file{})",
                path.display(),
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            );
            for f in files {
                println!("                {f}");
            }
        }
    }
    Ok(())
}

/// Where batches go, and how the service signs in to get there.
fn print_sink(settings: &Settings) {
    let Some(sink) = &settings.sink else {
        return;
    };
    match sink {
        SinkSettings::File { dir, gzip } => {
            println!(
                "sink          file: {} (one directory per destination{})",
                dir.display(),
                if *gzip { ", gzipped" } else { "" }
            )
        }
        SinkSettings::Kusto(k) => {
            let ingest = k
                .ingest_url
                .as_ref()
                .map_or_else(|| "derived from the cluster".to_string(), |u| u.to_string());
            println!(
                "sink          kusto: {} (queued ingestion: {ingest})",
                k.cluster
            );
            println!(
                "                {} batches in flight per destination, dedupe {}, failure queue {}",
                k.max_in_flight,
                if k.dedupe { "on" } else { "off" },
                if k.watch_failures {
                    "watched"
                } else {
                    "not watched"
                }
            );
            println!("auth          {}", settings.auth.describe());
        }
    }
}

/// One destination: its table, filter, transform, columns, mapping and batch limits.
fn print_destination(d: &DestinationSettings) {
    println!(
        "\ndestination {:?} -> {}.{} ({} ingestion)",
        d.name, d.database, d.table, d.ingestion
    );
    println!("  filter      {}", d.filter.describe());
    println!("  transform   {}", d.transform.path().display());
    println!("  columns     {}", d.schema.to_csl());
    println!("  mapping     {}", d.mapping);
    println!(
        "  batches     close at {} rows, {} bytes or {} ms",
        d.batch.max_rows,
        d.batch.max_bytes,
        d.batch.max_age.as_millis()
    );
}
