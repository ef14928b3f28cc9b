//! The types every drawing module shares: the [`Table`] drawn from, the [`Options`], and
//! [`ChartError`]. A file of its own so the crate root and the drawing modules share them
//! without importing each other.

use chrono_tz::Tz;
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

/// A drawing back end's error as a [`ChartError`].
pub(crate) fn draw_error(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}
