//! What every x-y chart (time, line, area, bar, column) draws the same way: the grid and axes'
//! style, and the legend in the upper right corner.

use crate::axis::Axis;
use crate::contract::{draw_error, ChartError};
use crate::style::{FONT, INK};
use plotters::chart::MeshStyle;
use plotters::prelude::*;

/// An x-y chart on this crate's axes.
pub type XyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Light grid lines at the ticks, dark axes, the bundled font for labels and axis titles.
pub fn style_mesh<DB: DrawingBackend>(mesh: &mut MeshStyle<'_, '_, Axis, Axis, DB>) {
    mesh.light_line_style(WHITE)
        .bold_line_style(INK.mix(0.12))
        .axis_style(INK)
        .label_style((FONT, 12).into_font().color(&INK))
        .axis_desc_style((FONT, 14).into_font().color(&INK));
}

/// The series' legend, upper right, on a white background.
pub fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut XyChart<'a, DB>) -> Result<(), ChartError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(INK.mix(0.4))
        .label_font((FONT, 12).into_font().color(&INK))
        .draw()
        .map_err(draw_error)
}
