//! A message's charts: which ones (the report's `charts`, else the query's `render` when it
//! is a chart), with the query's annotation deciding the columns, drawn by
//! `iotc_adx_charts` as PNG (and SVG when asked) in the report's time zone.

use crate::report::message::Message;
use chrono_tz::Tz;
use iotc_adx_charts::{ChartError, ChartKind, ChartSpec, Column, Options, Table};

/// One drawn chart.
#[derive(Debug, Clone)]
pub struct DrawnChart {
    /// The file name stem: `hourly-summary-timechart`.
    pub name: String,
    /// The content id an HTML body refers to it by (`cid:...`).
    pub cid: String,
    /// Its title (also the image's alt text).
    pub title: String,
    /// The PNG.
    pub png: Vec<u8>,
    /// The SVG, when asked for.
    pub svg: Option<String>,
}

/// The specs of a message's charts: one per kind in `kinds`, else the query's own.
pub fn specs(message: &Message, kinds: &[ChartKind]) -> Vec<ChartSpec> {
    let annotated = message
        .visualization
        .as_ref()
        .and_then(ChartSpec::from_visualization);
    let with_title = |mut s: ChartSpec| {
        s.title.get_or_insert_with(|| message.report.clone());
        s
    };
    if kinds.is_empty() {
        return annotated.into_iter().map(with_title).collect();
    }
    kinds
        .iter()
        .map(|k| {
            // The query's columns and titles still apply when the report asks for another kind.
            let s = match &annotated {
                Some(a) => ChartSpec {
                    kind: *k,
                    ..a.clone()
                },
                None => ChartSpec::new(*k),
            };
            with_title(s)
        })
        .collect()
}

/// Draws `specs` over the message's rows.
pub fn draw(
    message: &Message,
    specs: &[ChartSpec],
    time_zone: Tz,
    with_svg: bool,
) -> Result<Vec<DrawnChart>, ChartError> {
    let table = Table {
        columns: message
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                kind: c.r#type.clone(),
            })
            .collect(),
        rows: message.rows.clone(),
    };
    let opts = Options {
        time_zone,
        ..Options::default()
    };
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let png = iotc_adx_charts::png(&table, spec, &opts)?;
        let svg = if with_svg {
            Some(iotc_adx_charts::svg(&table, spec, &opts)?)
        } else {
            None
        };
        let kind = spec.kind.render_name();
        let name = if specs.iter().filter(|s| s.kind == spec.kind).count() > 1 {
            format!("{}-{kind}-{}", message.report, i + 1)
        } else {
            format!("{}-{kind}", message.report)
        };
        out.push(DrawnChart {
            cid: format!("{name}@iotc-adx"),
            name,
            title: spec.title.clone().unwrap_or_default(),
            png,
            svg,
        });
    }
    Ok(out)
}
