//! Each chart kind drawn as SVG for a known result, and its structure checked: how many
//! slices, bars, lines and points, in which colours, with which axis and legend labels.

mod common;

use iotc_adx_charts::{style, svg, ChartKind, ChartSpec, Options};
use serde_json::json;

/// The elements of one tag, each as its attribute text.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .map(|(i, _)| {
            let rest = &svg[i..];
            &rest[..rest.find('>').unwrap_or(rest.len())]
        })
        .collect()
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.match_indices("<text ")
        .map(|(i, _)| {
            let rest = &svg[i..];
            let body = &rest[rest.find('>').unwrap() + 1..rest.find("</text>").unwrap()];
            body.trim().replace("&amp;", "&")
        })
        .collect()
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn with_fill<'a>(items: &[&'a str], colour: &str) -> Vec<&'a str> {
    items
        .iter()
        .copied()
        .filter(|e| e.contains(&format!("fill=\"{colour}\"")))
        .collect()
}

fn spec(kind: ChartKind, title: &str) -> ChartSpec {
    let mut s = ChartSpec::new(kind);
    s.title = Some(title.into());
    s
}

#[test]
fn a_time_chart_draws_one_line_per_series_with_a_point_per_row() {
    let out = svg(
        &common::temperatures(),
        &spec(ChartKind::Time, "Average temperature"),
        &Options::default(),
    )
    .unwrap();
    let lines: Vec<&str> = elements(&out, "polyline")
        .into_iter()
        .filter(|l| l.contains("stroke-width=\"2\""))
        .collect();
    assert_eq!(lines.len(), 3, "one line per device");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.contains(&hex(style::PALETTE[i])),
            "series {i} in palette colour {i}"
        );
        let points = line.split("points=\"").nth(1).unwrap();
        let points = points
            .split_whitespace()
            .filter(|p| p.contains(','))
            .count();
        assert_eq!(points, 12, "twelve hours");
    }
    assert_eq!(elements(&out, "circle").len(), 36, "a marker per point");
    let t = texts(&out);
    for expected in [
        "Average temperature",
        "Hour",
        "AvgTemp",
        "Dec 3 00:00",
        "02:00",
        "10:00",
        "dev-1",
        "dev-2",
        "dev-3",
    ] {
        assert!(
            t.iter().any(|x| x == expected),
            "label {expected:?} in {t:?}"
        );
    }
}

#[test]
fn the_time_axis_follows_the_reports_time_zone() {
    let opts = Options {
        time_zone: "America/New_York".parse().unwrap(),
        ..Options::default()
    };
    let out = svg(
        &common::temperatures(),
        &ChartSpec::new(ChartKind::Time),
        &opts,
    )
    .unwrap();
    let t = texts(&out);
    // 00:00 UTC on Dec 3 is 19:00 on Dec 2 in New York: ticks on New York's even hours.
    let ticks: Vec<&str> = t
        .iter()
        .map(String::as_str)
        .skip_while(|x| !x.starts_with("Dec 2"))
        .take(4)
        .collect();
    assert_eq!(ticks, ["Dec 2 20:00", "22:00", "Dec 3 00:00", "02:00"]);
}

#[test]
fn a_pie_draws_a_slice_per_category_with_shares_in_the_legend() {
    let out = svg(
        &common::sites(),
        &spec(ChartKind::Pie, "Messages per site"),
        &Options::default(),
    )
    .unwrap();
    let slices = elements(&out, "polygon");
    assert_eq!(slices.len(), 4);
    for (i, slice) in slices.iter().enumerate() {
        assert!(
            slice.contains(&hex(style::PALETTE[i])),
            "slice {i}: {slice:.80}"
        );
    }
    let t = texts(&out);
    for expected in [
        "north: 1,200 (48.0%)",
        "south: 800 (32.0%)",
        "east: 400 (16.0%)",
        "west: 100 (4.0%)",
    ] {
        assert!(t.iter().any(|x| x == expected), "{expected:?} in {t:?}");
    }
}

#[test]
fn a_pie_keeps_seven_slices_and_sums_the_rest_into_other() {
    let out = svg(
        &common::many(12),
        &ChartSpec::new(ChartKind::Pie),
        &Options::default(),
    )
    .unwrap();
    let slices = elements(&out, "polygon");
    assert_eq!(slices.len(), 8);
    assert_eq!(with_fill(&slices, &hex(style::OTHER_COLOUR)).len(), 1);
    let t = texts(&out);
    // dev-07 .. dev-11 hold 93 + 92 + 91 + 90 + 89.
    assert!(t.iter().any(|x| x.starts_with("other: 455 ")), "{t:?}");
}

#[test]
fn bar_and_column_charts_draw_a_bar_per_category_and_series() {
    for kind in [ChartKind::Bar, ChartKind::Column] {
        let out = svg(
            &common::site_levels(),
            &ChartSpec::new(kind),
            &Options::default(),
        )
        .unwrap();
        let rects = elements(&out, "rect");
        // Three bars per series plus the legend's swatch.
        assert_eq!(
            with_fill(&rects, &hex(style::PALETTE[0])).len(),
            4,
            "{kind:?} errors"
        );
        assert_eq!(
            with_fill(&rects, &hex(style::PALETTE[1])).len(),
            4,
            "{kind:?} warnings"
        );
        let t = texts(&out);
        for expected in ["north", "south", "east", "Site", "Errors", "Warnings"] {
            assert!(
                t.iter().any(|x| x == expected),
                "{kind:?}: {expected:?} in {t:?}"
            );
        }
    }
}

#[test]
fn horizontal_bars_are_longer_for_larger_values() {
    let out = svg(
        &common::sites(),
        &ChartSpec::new(ChartKind::Bar),
        &Options::default(),
    )
    .unwrap();
    let widths: Vec<i64> = with_fill(&elements(&out, "rect"), &hex(style::PALETTE[0]))
        .iter()
        .map(|r| {
            let w = r.split("width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(widths.len(), 4);
    assert!(
        widths.windows(2).all(|w| w[0] > w[1]),
        "north > south > east > west: {widths:?}"
    );
}

#[test]
fn the_render_annotation_chooses_columns_and_titles() {
    let v = json!({"Visualization": "columnchart", "Title": "Warnings only", "XColumn": "Site",
        "YColumns": "Warnings", "Series": null, "Legend": "hidden", "Ymin": "NaN", "Ymax": 100,
        "YTitle": "count"});
    let s = ChartSpec::from_visualization(&v).unwrap();
    let out = svg(&common::site_levels(), &s, &Options::default()).unwrap();
    let rects = elements(&out, "rect");
    assert_eq!(
        with_fill(&rects, &hex(style::PALETTE[0])).len(),
        3,
        "no legend swatch"
    );
    assert!(
        with_fill(&rects, &hex(style::PALETTE[1])).is_empty(),
        "Errors not drawn"
    );
    let t = texts(&out);
    assert!(
        t.iter().any(|x| x == "Warnings only") && t.iter().any(|x| x == "count"),
        "{t:?}"
    );
    assert!(
        t.iter().any(|x| x == "100"),
        "ymax 100 is the axis's top: {t:?}"
    );
    assert!(ChartSpec::from_visualization(&json!({"Visualization": "table"})).is_none());
}

#[test]
fn a_missing_column_or_no_numbers_is_an_error_naming_it() {
    let mut s = ChartSpec::new(ChartKind::Column);
    s.y_columns = vec!["Nope".into()];
    let e = svg(&common::site_levels(), &s, &Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the chart's y column 'Nope' is not in the result"
    );
    let mut t = common::sites();
    t.columns[1].kind = "string".into();
    let e = svg(&t, &ChartSpec::new(ChartKind::Pie), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("no numeric column"), "{e}");
}

#[test]
fn no_rows_draw_a_chart_that_says_so() {
    let mut t = common::sites();
    t.rows.clear();
    let out = svg(&t, &spec(ChartKind::Pie, "Quiet day"), &Options::default()).unwrap();
    assert_eq!(texts(&out), ["Quiet day", "No data"]);
}

#[test]
fn a_bar_chart_keeps_nineteen_categories_and_sums_the_rest_into_other() {
    let out = svg(
        &common::many(25),
        &ChartSpec::new(ChartKind::Bar),
        &Options::default(),
    )
    .unwrap();
    let bars = with_fill(&elements(&out, "rect"), &hex(style::PALETTE[0]));
    assert_eq!(
        bars.len(),
        20,
        "19 devices and other, one series so no legend"
    );
    let t = texts(&out);
    assert!(
        t.iter().any(|x| x == "other") && !t.iter().any(|x| x == "dev-24"),
        "{t:?}"
    );
}

#[test]
fn a_time_chart_keeps_seven_series_and_sums_the_rest_into_a_grey_other() {
    let mut t = common::temperatures();
    t.rows = (0..10)
        .flat_map(|d| {
            (0..4).map(move |h| {
                vec![
                    json!(format!("2026-12-03T{h:02}:00:00Z")),
                    json!(format!("dev-{d}")),
                    json!(10.0 + d as f64),
                ]
            })
        })
        .collect();
    let out = svg(&t, &ChartSpec::new(ChartKind::Time), &Options::default()).unwrap();
    let lines: Vec<&str> = elements(&out, "polyline")
        .into_iter()
        .filter(|l| l.contains("stroke-width=\"2\""))
        .collect();
    assert_eq!(lines.len(), 8);
    assert!(lines[7].contains(&hex(style::OTHER_COLOUR)), "{}", lines[7]);
    let labels = texts(&out);
    // The seven largest (dev-3 .. dev-9) are kept; dev-0, dev-1, dev-2 are summed.
    assert!(
        labels.iter().any(|x| x == "other") && !labels.iter().any(|x| x == "dev-0"),
        "{labels:?}"
    );
    // "other" is 10 + 11 + 12 = 33 at each hour: above dev-9's 19 (SVG y grows downwards).
    let first_y = |l: &str| -> i64 {
        let p = l
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        p.split(',').nth(1).unwrap().parse().unwrap()
    };
    assert!(
        first_y(lines[7]) < first_y(lines[6]),
        "{} / {}",
        lines[7],
        lines[6]
    );
}

#[test]
fn column_labels_are_cut_to_the_width_they_share() {
    let mut t = common::many(12);
    for (i, r) in t.rows.iter_mut().enumerate() {
        r[0] = json!(format!("BodyTemperatureSensor-{i:02}"));
    }
    let out = svg(&t, &ChartSpec::new(ChartKind::Column), &Options::default()).unwrap();
    let labels: Vec<String> = texts(&out)
        .into_iter()
        .filter(|x| x.starts_with("Body"))
        .collect();
    assert_eq!(labels.len(), 12);
    // 12 columns share about 680 pixels: 8 characters each, the last an ellipsis.
    assert!(
        labels
            .iter()
            .all(|l| l.chars().count() == 8 && l.ends_with('…')),
        "{labels:?}"
    );
    let bars = svg(&t, &ChartSpec::new(ChartKind::Bar), &Options::default()).unwrap();
    assert!(
        texts(&bars).iter().any(|x| x == "BodyTemperatureSensor-00"),
        "bars keep 24"
    );
}
