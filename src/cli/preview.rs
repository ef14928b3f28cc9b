//! `iotc-adx transform`: like IoT Central's transform preview. For each sample message it
//! shows whether the destination's filter takes it (and why not), the transform's raw output,
//! and the rows as they would be ingested, or the error a message would be dead-lettered with.

use anyhow::{bail, Context};
use iotc_adx::config::{self, DestinationSettings};
use iotc_adx::decode::decode;
use iotc_adx::event::{EventMeta, SourceEvent};
use iotc_adx::transform::coerce::encode_rows;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

pub fn preview(config_path: &Path, name: &str, input: Option<&Path>) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    let Some(destination) = settings.destinations.iter().find(|d| d.name == name) else {
        let names: Vec<&str> = settings
            .destinations
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        bail!(
            "no destination is named {name:?}; the configuration has: {}",
            names.join(", ")
        );
    };
    let (label, bytes) = match input {
        Some(path) => (
            path.display().to_string(),
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            ("stdin".to_string(), buf)
        }
    };
    let messages = split_messages(&label, bytes);
    if messages.is_empty() {
        bail!("{label} holds no message");
    }
    let mut failed = 0;
    for (i, event) in messages.iter().enumerate() {
        println!("── message {} ({})", i + 1, event.meta.location());
        if !show(destination, event) {
            failed += 1;
        }
        println!();
    }
    println!(
        "{} message(s): {} ok, {failed} would be dead-lettered",
        messages.len(),
        messages.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One JSON document (possibly pretty-printed) is one message; anything else is JSON Lines.
fn split_messages(label: &str, bytes: Vec<u8>) -> Vec<SourceEvent> {
    let whole_document = serde_json::from_slice::<Value>(&bytes).is_ok();
    let lines: Vec<(usize, Vec<u8>)> = if whole_document {
        vec![(1, bytes)]
    } else {
        bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .map(|(n, l)| (n + 1, l.strip_suffix(b"\r").unwrap_or(l).to_vec()))
            .collect()
    };
    lines
        .into_iter()
        .enumerate()
        .map(|(seq, (line, body))| SourceEvent {
            body,
            meta: EventMeta {
                partition: "preview".into(),
                sequence_number: seq as i64,
                offset: "0".into(),
                enqueued_time: chrono::Utc::now(),
                partition_key: None,
                properties: Map::new(),
                system_properties: Map::new(),
                origin: Some(format!("{label}:{line}")),
            },
        })
        .collect()
}

fn show(d: &DestinationSettings, event: &SourceEvent) -> bool {
    let message = match decode(&event.body) {
        Ok(m) => m,
        Err(e) => {
            println!("  decode      FAILED: {e}");
            return false;
        }
    };
    println!(
        "  message     source {}, type {}",
        message.source(),
        message.message_type().unwrap_or("(none)")
    );
    let meta = event.meta.to_value();
    match d.filter.check(&message, &meta) {
        Ok(Ok(())) => println!("  filter      accepted ({})", d.filter.describe()),
        Ok(Err(why)) => {
            println!("  filter      NOT accepted: {why}; the transform runs anyway below")
        }
        Err(e) => {
            println!("  filter      FAILED: the predicate could not be evaluated: {e}");
            return false;
        }
    }
    let result = match d.transform.apply(message.value(), &meta) {
        Ok(v) => v,
        Err(e) => {
            println!("  transform   FAILED: {e}");
            return false;
        }
    };
    println!("  transform   output of {}:", d.transform.path().display());
    print_indented(&serde_json::to_string_pretty(&result).unwrap_or_default());
    let mut rows = Vec::new();
    match encode_rows(&result, &d.schema, &mut rows) {
        Ok(n) => {
            println!(
                "  rows        {n} for {}.{} (as ingested, multijson):",
                d.database, d.table
            );
            print_indented(&String::from_utf8_lossy(&rows));
            true
        }
        Err(e) => {
            println!("  rows        FAILED for {}.{}: {e}", d.database, d.table);
            println!("              columns: {}", d.schema.to_csl());
            false
        }
    }
}

fn print_indented(text: &str) {
    for line in text.lines() {
        println!("    {line}");
    }
}
