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
mod contract;
mod frame;
mod pie;
mod xy;

pub use contract::{ChartError, Column, Options, Table};
pub use spec::{ChartKind, ChartSpec};

use contract::draw_error;

use plotters::coord::Shift;
use plotters::prelude::*;

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
