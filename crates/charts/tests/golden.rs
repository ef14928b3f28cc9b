//! Each chart kind drawn as PNG for a known result and compared with a golden image kept in
//! `tests/golden/`, with a tolerance (at most 0.5% of pixels differing by more than 24 in a
//! channel) so that a rasteriser's rounding does not fail the test but a changed chart does.
//! The same images illustrate the README (`docs/charts/`), checked here too.
//! `UPDATE_GOLDEN=1 cargo test -p iotc-adx-charts --test golden` rewrites both after an
//! intended change; look at them before committing.

mod common;

use iotc_adx_charts::{png, ChartKind, ChartSpec, Options, Table};
use std::path::PathBuf;

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// The share of pixels that differ by more than 24 in some channel (1.0 if sizes differ).
fn difference(a: &[u8], b: &[u8]) -> f64 {
    let (wa, ha, pa) = decode(a);
    let (wb, hb, pb) = decode(b);
    if (wa, ha) != (wb, hb) || pa.len() != pb.len() {
        return 1.0;
    }
    let differing = pa
        .chunks(3)
        .zip(pb.chunks(3))
        .filter(|(x, y)| x.iter().zip(*y).any(|(p, q)| p.abs_diff(*q) > 24))
        .count();
    differing as f64 / (wa as f64 * ha as f64)
}

fn check(name: &str, table: &Table, kind: ChartKind, title: &str) {
    let mut spec = ChartSpec::new(kind);
    spec.title = Some(title.into());
    let made = png(table, &spec, &Options::default()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join(format!("tests/golden/{name}.png"));
    let docs = root.join(format!("../../docs/charts/{name}.png"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        for path in [&golden, &docs] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &made).unwrap();
        }
        return;
    }
    for path in [&golden, &docs] {
        let kept = std::fs::read(path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
        let d = difference(&made, &kept);
        assert!(
            d <= 0.005,
            "{name}: {:.2}% of pixels differ from {}",
            d * 100.0,
            path.display()
        );
    }
}

#[test]
fn time_chart() {
    check(
        "timechart",
        &common::temperatures(),
        ChartKind::Time,
        "Average temperature per device",
    );
}

#[test]
fn pie_chart() {
    check(
        "piechart",
        &common::sites(),
        ChartKind::Pie,
        "Messages per site",
    );
}

#[test]
fn bar_chart() {
    check(
        "barchart",
        &common::sites(),
        ChartKind::Bar,
        "Messages per site",
    );
}

#[test]
fn column_chart() {
    check(
        "columnchart",
        &common::site_levels(),
        ChartKind::Column,
        "Errors and warnings per site",
    );
}

#[test]
fn the_tolerance_catches_a_changed_chart() {
    let spec = ChartSpec::new(ChartKind::Bar);
    let a = png(&common::sites(), &spec, &Options::default()).unwrap();
    let mut other = common::sites();
    other.rows[3][1] = serde_json::json!(900);
    let b = png(&other, &spec, &Options::default()).unwrap();
    assert!(difference(&a, &a) == 0.0);
    assert!(difference(&a, &b) > 0.005, "{}", difference(&a, &b));
}
