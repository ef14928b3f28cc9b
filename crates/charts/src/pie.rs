//! Pie charts: one slice per category of the first value column (at most
//! [`crate::data::MAX_SLICES`], the smallest summed into "other"), starting at twelve
//! o'clock, with a legend giving each slice's value and share. Slices of zero or negative
//! values cannot be drawn and are left out, and the legend says how many were.

use crate::contract::{draw_error, ChartError, Table};
use crate::data::{self, MAX_SLICES};
use crate::spec::{ChartSpec, Roles};
use crate::style::{self, FONT, INK};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Draws a pie chart of `table` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    table: &Table,
    spec: &ChartSpec,
    roles: &Roles,
) -> Result<bool, ChartError> {
    let one = Roles {
        x: roles.x,
        series: Vec::new(),
        ys: roles.ys[..1].to_vec(),
    };
    let data = data::categories(table, &one, MAX_SLICES);
    let Some((_, values)) = data.series.first() else {
        return Ok(false);
    };
    let mut slices: Vec<(String, f64)> = Vec::new();
    let mut left_out = 0;
    for (label, v) in data.labels.iter().zip(values) {
        if *v > 0.0 {
            slices.push((label.clone(), *v));
        } else {
            left_out += 1;
        }
    }
    if slices.is_empty() {
        return Ok(false);
    }
    let area = match &spec.title {
        Some(t) => root
            .titled(t, (FONT, 20).into_font().color(&INK))
            .map_err(draw_error)?,
        None => root.clone(),
    };
    let (w, h) = area.dim_in_pixel();
    let (pie_area, legend_area) = area.split_horizontally((w as f64 * 0.55) as u32);
    let (pw, ph) = pie_area.dim_in_pixel();
    let centre = ((pw / 2) as i32, (ph / 2) as i32);
    let radius = f64::from(pw.min(ph)) * 0.42;
    let sizes: Vec<f64> = slices.iter().map(|s| s.1).collect();
    let colours: Vec<RGBColor> = slices
        .iter()
        .enumerate()
        .map(|(i, (name, _))| style::colour(i, name))
        .collect();
    let labels: Vec<&str> = vec![""; slices.len()];
    let mut pie = Pie::new(&centre, &radius, &sizes, &colours, &labels);
    pie.start_angle(-90.0);
    pie_area.draw(&pie).map_err(draw_error)?;
    if spec.legend {
        legend(&legend_area, &slices, &colours, left_out, h)?;
    }
    Ok(true)
}

fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    slices: &[(String, f64)],
    colours: &[RGBColor],
    left_out: usize,
    height: u32,
) -> Result<(), ChartError> {
    let total: f64 = slices.iter().map(|s| s.1).sum();
    let line = 24;
    let lines = slices.len() as i32 + i32::from(left_out > 0);
    let mut y = (height as i32 - lines * line) / 2;
    let text = (FONT, 13).into_font().color(&INK);
    for ((name, v), colour) in slices.iter().zip(colours) {
        area.draw(&Rectangle::new([(0, y), (14, y + 14)], colour.filled()))
            .map_err(draw_error)?;
        let share = v / total * 100.0;
        let label = format!("{name}: {} ({share:.1}%)", style::number(*v));
        area.draw(&Text::new(label, (22, y), text.clone()))
            .map_err(draw_error)?;
        y += line;
    }
    if left_out > 0 {
        let note = format!("{left_out} categories of zero or less not shown");
        area.draw(&Text::new(note, (0, y), text))
            .map_err(draw_error)?;
    }
    Ok(())
}
