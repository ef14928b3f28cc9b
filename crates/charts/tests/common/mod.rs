//! Result tables the chart tests draw: telemetry per device over a day, counts per site.

use iotc_adx_charts::{Column, Table};
use serde_json::{json, Value};

fn table(columns: &[(&str, &str)], rows: Vec<Vec<Value>>) -> Table {
    Table {
        columns: columns
            .iter()
            .map(|(n, k)| Column {
                name: (*n).into(),
                kind: (*k).into(),
            })
            .collect(),
        rows,
    }
}

/// Hourly average temperature of three devices over 12 hours.
pub fn temperatures() -> Table {
    let mut rows = Vec::new();
    for h in 0..12 {
        for (d, base) in [("dev-1", 20.0), ("dev-2", 24.0), ("dev-3", 18.5)] {
            let t = format!("2026-12-03T{h:02}:00:00Z");
            rows.push(vec![
                json!(t),
                json!(d),
                json!(base + (h as f64 * 0.7).sin() * 3.0),
            ]);
        }
    }
    table(
        &[
            ("Hour", "datetime"),
            ("Device", "string"),
            ("AvgTemp", "real"),
        ],
        rows,
    )
}

/// Messages per site: four sites.
pub fn sites() -> Table {
    table(
        &[("Site", "string"), ("Messages", "long")],
        vec![
            vec![json!("north"), json!(1200)],
            vec![json!("south"), json!(800)],
            vec![json!("east"), json!(400)],
            vec![json!("west"), json!(100)],
        ],
    )
}

/// Errors and warnings per site: two value columns.
pub fn site_levels() -> Table {
    table(
        &[("Site", "string"), ("Errors", "long"), ("Warnings", "long")],
        vec![
            vec![json!("north"), json!(12), json!(30)],
            vec![json!("south"), json!(5), json!(44)],
            vec![json!("east"), json!(9), json!(3)],
        ],
    )
}

/// `n` devices with a count each, for the series and slice caps.
#[allow(dead_code)] // Each test file uses some of these tables.
pub fn many(n: usize) -> Table {
    table(
        &[("Device", "string"), ("Count", "long")],
        (0..n)
            .map(|i| vec![json!(format!("dev-{i:02}")), json!(100 - i as i64)])
            .collect(),
    )
}
