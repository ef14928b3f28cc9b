//! Counts kept while a pipeline runs, and the summary printed when it ends: messages read,
//! rows per table, dead letters per stage, elapsed time and throughput.

use crate::deadletter::Stage;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Per-destination counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationSummary {
    /// Destination name.
    pub name: String,
    /// `database.table`.
    pub table: String,
    /// Messages its filter accepted.
    pub matched: u64,
    /// Rows delivered to the sink.
    pub rows: u64,
    /// Rows not sent because the table already held them (events read again after a restart
    /// or a takeover, see [`crate::dedupe`]).
    pub skipped: u64,
    /// Batches delivered.
    pub batches: u64,
    /// Bytes the sink wrote or sent.
    pub bytes: u64,
    /// Where the last batch went (a file, a table).
    pub last_target: Option<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events read from the source.
    pub messages: u64,
    /// Their total body size.
    pub bytes: u64,
    /// Decoded messages that no destination's filter accepted (counted, not an error).
    pub unrouted: u64,
    /// Per destination, in configuration order.
    pub destinations: Vec<DestinationSummary>,
    /// Dead letters per stage.
    pub dead_letters: BTreeMap<Stage, u64>,
    /// Where dead letters went.
    pub dead_letter_location: String,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Whether the run stopped early on a shutdown signal.
    pub interrupted: bool,
    /// Events fully handled (delivered, dead-lettered or unrouted) and so safe to checkpoint.
    pub acknowledged: u64,
    /// Batches still unconfirmed when the run stopped (after a signal and the drain grace);
    /// their events are read again from the last checkpoint.
    pub unconfirmed_batches: usize,
}

impl Summary {
    /// Total dead letters.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_letters.values().sum()
    }
}

/// "1 row", "2 rows", "1 batch", "2 batches".
fn plural(n: u64, noun: &str) -> String {
    match (n, noun.ends_with('h')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let w = self
            .destinations
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(0)
            .max(15);
        writeln!(
            f,
            "iotc-adx run {}",
            if self.interrupted {
                "interrupted (shutdown signal)"
            } else {
                "complete"
            }
        )?;
        writeln!(
            f,
            "  {:<w$} {} ({:.1} KiB) in {:.3} s: {:.0} messages/s, {:.2} MB/s",
            "messages read",
            self.messages,
            self.bytes as f64 / 1024.0,
            secs,
            self.messages as f64 / secs,
            self.bytes as f64 / secs / 1e6
        )?;
        for d in &self.destinations {
            writeln!(
                f,
                "  {:<w$} {} -> {} ({} matched, {}, {} delivered)",
                d.name,
                plural(d.rows, "row"),
                d.table,
                plural(d.matched, "message"),
                plural(d.batches, "batch"),
                plural(d.bytes, "byte"),
            )?;
            if let Some(target) = &d.last_target {
                writeln!(f, "  {:<w$} last batch went to {target}", "")?;
            }
            if d.skipped > 0 {
                writeln!(
                    f,
                    "  {:<w$} {} already in the table (read again after a restart), skipped",
                    "",
                    plural(d.skipped, "row")
                )?;
            }
        }
        writeln!(
            f,
            "  {:<w$} {} (decoded, but no destination's filter took them)",
            "unrouted", self.unrouted
        )?;
        let by_stage: Vec<String> = self
            .dead_letters
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        write!(f, "  {:<w$} {}", "dead-lettered", self.dead_lettered())?;
        if !by_stage.is_empty() {
            write!(
                f,
                " ({}) in {}",
                by_stage.join(", "),
                self.dead_letter_location
            )?;
        }
        Ok(())
    }
}
