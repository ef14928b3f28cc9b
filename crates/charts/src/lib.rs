//! Charts of iotc-adx's reports: a Kusto result (columns with their Kusto types, rows of JSON
//! values) and a [`ChartSpec`] (from the query's `render` annotation or a report's settings)
//! drawn as a pie, time, line, area, bar or column chart, as SVG text or PNG bytes.
//!
//! Drawing is done by `plotters`, a well-kept plotting crate with SVG and bitmap back ends.
//! Text uses DejaVu Sans compiled into the binary (the `dejavu` crate), never a system font,
//! so a chart is measured and rasterised the same on every machine. What is drawn and how it
//! is labelled (time ticks, the "other" bucket, colours) is this crate's own: see
//! [`timeaxis`], [`data`] and [`style`].

pub mod data;
pub mod spec;
pub mod style;
pub mod timeaxis;

mod axis;
mod bars;
mod pie;
mod xy;

pub use spec::{ChartKind, ChartSpec};

use chrono_tz::Tz;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;

/// A result table: what a chart is drawn from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, one JSON value per column (datetimes as RFC 3339 text).
    pub rows: Vec<Vec<Value>>,
}

/// A column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Its Kusto type: `string`, `long`, `real`, `datetime`, ...
    pub kind: String,
}

/// Size and time zone of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The zone a time axis's ticks and labels are in.
    pub time_zone: Tz,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 800,
            height: 450,
            time_zone: Tz::UTC,
        }
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The spec names a column the result does not have.
    #[error("the chart's {role} column '{name}' is not in the result")]
    NoColumn {
        /// x, series or y.
        role: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The result has no columns at all.
    #[error("the result has no columns to chart")]
    NoColumns,
    /// No column holds numbers to draw.
    #[error("the result has no numeric column to chart (name one with `render ... with (ycolumns=...)`)")]
    NoNumericColumn,
    /// The drawing back end failed.
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    /// Encoding the PNG failed.
    #[error("encoding the chart as PNG failed: {0}")]
    Png(#[from] png::EncodingError),
    /// The size is zero or too large.
    #[error("a chart of {0}x{1} pixels cannot be drawn (1 to 4096 each)")]
    Size(u32, u32),
}

pub(crate) fn draw_error(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// The chart as SVG text.
pub fn svg(table: &Table, spec: &ChartSpec, opts: &Options) -> Result<String, ChartError> {
    check_size(opts)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (opts.width, opts.height)).into_drawing_area();
        draw(&root, table, spec, opts)?;
        root.present().map_err(draw_error)?;
    }
    Ok(out)
}

/// The chart as PNG bytes (8-bit RGB).
pub fn png(table: &Table, spec: &ChartSpec, opts: &Options) -> Result<Vec<u8>, ChartError> {
    check_size(opts)?;
    let mut pixels = vec![0u8; opts.width as usize * opts.height as usize * 3];
    {
        let root =
            BitMapBackend::with_buffer(&mut pixels, (opts.width, opts.height)).into_drawing_area();
        draw(&root, table, spec, opts)?;
        root.present().map_err(draw_error)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, opts.width, opts.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}

fn check_size(opts: &Options) -> Result<(), ChartError> {
    let ok = |v: u32| (1..=4096).contains(&v);
    if ok(opts.width) && ok(opts.height) {
        Ok(())
    } else {
        Err(ChartError::Size(opts.width, opts.height))
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table,
    spec: &ChartSpec,
    opts: &Options,
) -> Result<(), ChartError> {
    style::register_font();
    root.fill(&WHITE).map_err(draw_error)?;
    let drawn = if table.rows.is_empty() {
        false
    } else {
        let roles = spec::roles(spec, table)?;
        match spec.kind {
            ChartKind::Pie => pie::draw(root, table, spec, &roles)?,
            ChartKind::Time | ChartKind::Line | ChartKind::Area => {
                xy::draw(root, table, spec, &roles, opts)?
            }
            ChartKind::Bar | ChartKind::Column => bars::draw(root, table, spec, &roles)?,
        }
    };
    if !drawn {
        no_data(root, spec)?;
    }
    Ok(())
}

/// What a chart of no rows (or no drawable values) shows: its title and "No data".
fn no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
) -> Result<(), ChartError> {
    let (w, h) = root.dim_in_pixel();
    let centred = |size: f64| {
        (style::FONT, size).into_font().color(&style::INK).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ),
        )
    };
    if let Some(t) = &spec.title {
        root.draw(&Text::new(t.clone(), (w as i32 / 2, 24), centred(20.0)))
            .map_err(draw_error)?;
    }
    root.draw(&Text::new(
        "No data",
        (w as i32 / 2, h as i32 / 2),
        centred(16.0),
    ))
    .map_err(draw_error)?;
    Ok(())
}
