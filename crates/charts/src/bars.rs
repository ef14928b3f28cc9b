//! Bar charts (horizontal bars, categories down the y axis, first at the top) and column
//! charts (vertical columns, categories along the x axis): one bar per series within each
//! category, side by side, values from zero.

use crate::axis::Axis;
use crate::contract::{draw_error, ChartError, Table};
use crate::data::{self, Categories, MAX_CATEGORIES};
use crate::frame::XyChart;
use crate::spec::{ChartKind, ChartSpec, Roles};
use crate::style::{self, FONT, INK};
use plotters::coord::Shift;
use plotters::prelude::*;

/// An axis's label formatter.
type Formatter<'a> = dyn Fn(&f64) -> String + 'a;

/// Longest category label drawn in full (bars; columns get what their width allows).
const LABEL_CHARS: usize = 24;

/// Draws a bar or column chart of `table` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table,
    spec: &ChartSpec,
    roles: &Roles,
) -> Result<bool, ChartError> {
    let data = data::categories(table, roles, MAX_CATEGORIES);
    if data.labels.is_empty() || data.series.is_empty() {
        return Ok(false);
    }
    let values = data.series.iter().flat_map(|(_, v)| v.iter().copied());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = spec.ymin.unwrap_or(lo);
    let mut hi = spec.ymax.unwrap_or(hi + (hi - lo).abs() * 0.05);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let n = data.labels.len();
    let horizontal = spec.kind == ChartKind::Bar;
    // Category c is centred on c + 0.5 (bars: the first category at the top).
    let centre = |c: usize| {
        if horizontal {
            (n - 1 - c) as f64 + 0.5
        } else {
            c as f64 + 0.5
        }
    };
    let keys: Vec<f64> = (0..n).map(centre).collect();
    // Column labels share the width: cut them so that neighbours do not overlap (about 7
    // pixels per character at 12 px).
    let room = if horizontal {
        LABEL_CHARS
    } else {
        let width = root.dim_in_pixel().0.saturating_sub(120) as usize;
        (width / n / 7).clamp(4, LABEL_CHARS)
    };
    let label_of = |v: &f64| {
        keys.iter()
            .position(|k| k == v)
            .map_or_else(String::new, |c| short(&data.labels[c], room))
    };
    let value_title = spec.y_title.clone().or_else(|| match roles.ys.as_slice() {
        [y] => Some(table.columns[*y].name.clone()),
        _ => None,
    });
    let category_title = spec
        .x_title
        .clone()
        .unwrap_or_else(|| table.columns[roles.x].name.clone());
    let mut builder = ChartBuilder::on(root);
    builder.margin(16);
    if horizontal {
        builder.x_label_area_size(48).y_label_area_size(150);
    } else {
        builder.x_label_area_size(64).y_label_area_size(72);
    }
    if let Some(t) = &spec.title {
        builder.caption(t, (FONT, 20).into_font().color(&INK));
    }
    let cats = Axis::with_ticks(0.0, n as f64, keys.clone());
    let vals = Axis::numeric(lo, hi);
    let (x_range, y_range) = if horizontal {
        (vals, cats)
    } else {
        (cats, vals)
    };
    let mut chart = builder
        .build_cartesian_2d(x_range, y_range)
        .map_err(draw_error)?;
    let (x_fmt, y_fmt): (&Formatter, &Formatter) = if horizontal {
        (&|v| style::number(*v), &label_of)
    } else {
        (&label_of, &|v| style::number(*v))
    };
    let (x_desc, y_desc) = if horizontal {
        (value_title, Some(category_title))
    } else {
        (Some(category_title), value_title)
    };
    let mut mesh = chart.configure_mesh();
    crate::frame::style_mesh(&mut mesh);
    mesh.x_label_formatter(x_fmt).y_label_formatter(y_fmt);
    if horizontal {
        mesh.x_labels(8).disable_y_mesh();
    } else {
        mesh.y_labels(8).disable_x_mesh();
    }
    if let Some(d) = x_desc {
        mesh.x_desc(d);
    }
    if let Some(d) = y_desc {
        mesh.y_desc(d);
    }
    mesh.draw().map_err(draw_error)?;
    draw_bars(&mut chart, &data, horizontal, &centre)?;
    if spec.legend && data.series.len() > 1 {
        crate::frame::legend(&mut chart)?;
    }
    Ok(true)
}

fn draw_bars<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    data: &Categories,
    horizontal: bool,
    centre: &dyn Fn(usize) -> f64,
) -> Result<(), ChartError> {
    let k = data.series.len();
    let width = 0.8 / k as f64;
    for (s, (name, values)) in data.series.iter().enumerate() {
        let colour = style::colour(s, name);
        let bars = values.iter().enumerate().map(|(c, v)| {
            let from = centre(c) - 0.4 + s as f64 * width;
            let to = from + width;
            let corners = if horizontal {
                [(0.0, to), (*v, from)]
            } else {
                [(from, *v), (to, 0.0)]
            };
            Rectangle::new(corners, colour.filled())
        });
        chart
            .draw_series(bars)
            .map_err(draw_error)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    Ok(())
}

/// A label cut to `max` characters, with an ellipsis when cut.
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}
