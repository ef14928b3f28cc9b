//! Time, line and area charts: one line (or filled area) per series over a datetime or
//! numeric x axis, time ticks from [`crate::timeaxis`], markers when there are few points,
//! and a legend when there is more than one series.

use crate::axis::Axis;
use crate::contract::{draw_error, ChartError, Options, Table};
use crate::data::{self, Series};
use crate::frame::XyChart;
use crate::spec::{ChartKind, ChartSpec, Roles};
use crate::style::{self, FONT, INK};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Most points of a series that still get a marker on each point.
const MARKERS_UP_TO: usize = 48;

/// Draws an x-y chart of `table` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table,
    spec: &ChartSpec,
    roles: &Roles,
    opts: &Options,
) -> Result<bool, ChartError> {
    let time = table.columns[roles.x].kind == "datetime";
    let series = data::xy_series(table, roles, time);
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Ok(false);
    }
    if x0 == x1 {
        let pad = if time { 3_600_000.0 } else { 1.0 };
        (x0, x1) = (x0 - pad, x1 + pad);
    }
    let (y0, y1) = y_range(spec, y0, y1);
    let x_title = spec
        .x_title
        .clone()
        .unwrap_or_else(|| table.columns[roles.x].name.clone());
    let y_title = spec.y_title.clone().or_else(|| match roles.ys.as_slice() {
        [y] if !roles.series.is_empty() || series.len() == 1 => {
            Some(table.columns[*y].name.clone())
        }
        _ => None,
    });
    let ticks = if time {
        crate::timeaxis::ticks(x0, x1, opts.time_zone, 8)
    } else {
        Vec::new()
    };
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72);
    if let Some(t) = &spec.title {
        builder.caption(t, (FONT, 20).into_font().color(&INK));
    }
    let x_range = if time {
        Axis::with_ticks(x0, x1, ticks.iter().map(|t| t.0).collect())
    } else {
        Axis::numeric(x0, x1)
    };
    let mut chart = builder
        .build_cartesian_2d(x_range, Axis::numeric(y0, y1))
        .map_err(draw_error)?;
    let x_label = |v: &f64| {
        if time {
            ticks
                .iter()
                .find(|t| t.0 == *v)
                .map_or_else(String::new, |t| t.1.clone())
        } else {
            style::number(*v)
        }
    };
    let mut mesh = chart.configure_mesh();
    crate::frame::style_mesh(&mut mesh);
    mesh.x_label_formatter(&x_label)
        .y_label_formatter(&|v| style::number(*v))
        .y_labels(8)
        .x_desc(x_title);
    if !time {
        mesh.x_labels(8);
    }
    if let Some(t) = &y_title {
        mesh.y_desc(t.clone());
    }
    mesh.draw().map_err(draw_error)?;
    for (i, s) in series.iter().enumerate() {
        draw_series(&mut chart, spec.kind, i, s, y0.max(0.0).min(y1))?;
    }
    if spec.legend && series.len() > 1 {
        crate::frame::legend(&mut chart)?;
    }
    Ok(true)
}

/// The y axis: the spec's bounds, else from 0 (or the lowest value when negative) to a
/// little above the highest.
fn y_range(spec: &ChartSpec, lo: f64, hi: f64) -> (f64, f64) {
    let lo = spec.ymin.unwrap_or(lo.min(0.0));
    let mut hi = spec.ymax.unwrap_or(hi + (hi - lo).abs() * 0.05);
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

fn draw_series<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    kind: ChartKind,
    i: usize,
    s: &Series,
    baseline: f64,
) -> Result<(), ChartError> {
    let colour = style::colour(i, &s.name);
    let points = s.points.iter().copied();
    let drawn = if kind == ChartKind::Area {
        chart.draw_series(
            AreaSeries::new(points, baseline, colour.mix(0.25))
                .border_style(colour.stroke_width(2)),
        )
    } else {
        chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))
    }
    .map_err(draw_error)?;
    drawn
        .label(s.name.clone())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    if s.points.len() <= MARKERS_UP_TO {
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(draw_error)?;
    }
    Ok(())
}
