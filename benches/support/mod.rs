//! What the end-to-end benches share: the sample IoT Central telemetry they replay.

use std::path::Path;

/// The telemetry message bodies of `examples/data/01-telemetry.jsonl`, one per line.
pub fn telemetry_bodies() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/01-telemetry.jsonl"),
    )
    .expect("samples");
    text.lines()
        .filter(|l| l.contains("\"telemetry\""))
        .map(str::to_string)
        .collect()
}
