//! What to draw: the chart's kind and the roles of the result's columns (x axis, series, y
//! values), read from the query's `render` annotation when there is one, else guessed as
//! Kusto's user agents guess (x: the first datetime column for time charts, the first string
//! column for pie, bar and column charts; y: the numeric columns; series: the other string
//! columns).

use crate::contract::{ChartError, Table};
use serde_json::Value;

/// The kinds of chart a report can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Slices of one value per category.
    Pie,
    /// Lines over a datetime x axis.
    Time,
    /// Lines over a numeric x axis.
    Line,
    /// Filled areas under lines over a datetime or numeric x axis.
    Area,
    /// Horizontal bars per category.
    Bar,
    /// Vertical columns per category.
    Column,
}

impl ChartKind {
    /// The kind a `render` name stands for (`timechart`, `piechart`, ...), if it is a chart.
    pub fn from_render(name: &str) -> Option<ChartKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "piechart" | "pie" => ChartKind::Pie,
            "timechart" | "time" => ChartKind::Time,
            "linechart" | "line" => ChartKind::Line,
            "areachart" | "stackedareachart" | "area" => ChartKind::Area,
            "barchart" | "bar" => ChartKind::Bar,
            "columnchart" | "column" => ChartKind::Column,
            _ => return None,
        })
    }

    /// The `render` name of the kind.
    pub fn render_name(self) -> &'static str {
        match self {
            ChartKind::Pie => "piechart",
            ChartKind::Time => "timechart",
            ChartKind::Line => "linechart",
            ChartKind::Area => "areachart",
            ChartKind::Bar => "barchart",
            ChartKind::Column => "columnchart",
        }
    }
}

/// A chart's kind and labels, and the columns chosen for each role (None: guessed).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// The kind.
    pub kind: ChartKind,
    /// The title over the chart.
    pub title: Option<String>,
    /// The x-axis column (the category column of pie, bar and column charts).
    pub x_column: Option<String>,
    /// The columns whose values split rows into series.
    pub series: Vec<String>,
    /// The value columns.
    pub y_columns: Vec<String>,
    /// The y axis's lower and upper bounds.
    pub ymin: Option<f64>,
    /// See `ymin`.
    pub ymax: Option<f64>,
    /// Whether the legend is drawn.
    pub legend: bool,
    /// The x axis's title (default: the x column's name).
    pub x_title: Option<String>,
    /// The y axis's title (default: the y column's name when there is one).
    pub y_title: Option<String>,
}

impl ChartSpec {
    /// A spec of `kind` whose roles are all guessed.
    pub fn new(kind: ChartKind) -> Self {
        ChartSpec {
            kind,
            title: None,
            x_column: None,
            series: Vec::new(),
            y_columns: Vec::new(),
            ymin: None,
            ymax: None,
            legend: true,
            x_title: None,
            y_title: None,
        }
    }

    /// The spec a query's `Visualization` annotation describes, when it names a chart kind
    /// (`table`, `card` and the like are not charts).
    pub fn from_visualization(v: &Value) -> Option<ChartSpec> {
        let kind = ChartKind::from_render(v.get("Visualization")?.as_str()?)?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let list = |k: &str| -> Vec<String> {
            text(k)
                .map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let bound = |k: &str| match v.get(k) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        Some(ChartSpec {
            kind,
            title: text("Title"),
            x_column: text("XColumn"),
            series: list("Series"),
            y_columns: list("YColumns"),
            ymin: bound("Ymin"),
            ymax: bound("Ymax"),
            legend: !text("Legend").is_some_and(|l| l.eq_ignore_ascii_case("hidden")),
            x_title: text("XTitle"),
            y_title: text("YTitle"),
        })
    }
}

/// The column indexes chosen for each role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// The x (or category) column.
    pub x: usize,
    /// The series columns.
    pub series: Vec<usize>,
    /// The value columns.
    pub ys: Vec<usize>,
}

fn is_numeric(kind: &str) -> bool {
    matches!(kind, "long" | "int" | "real" | "double" | "decimal")
}

fn is_label(kind: &str) -> bool {
    matches!(kind, "string" | "bool" | "guid" | "dynamic")
}

/// Chooses the columns of each role, from `spec` where it says, else by guessing.
pub fn roles(spec: &ChartSpec, table: &Table) -> Result<Roles, ChartError> {
    let find = |role: &'static str, name: &str| {
        table
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| ChartError::NoColumn {
                role,
                name: name.to_string(),
            })
    };
    let kinds: Vec<&str> = table.columns.iter().map(|c| c.kind.as_str()).collect();
    let x = match &spec.x_column {
        Some(n) => find("x", n)?,
        None => {
            let first = |pred: &dyn Fn(&str) -> bool| kinds.iter().position(|k| pred(k));
            let guessed = match spec.kind {
                ChartKind::Time | ChartKind::Area => first(&|k| k == "datetime"),
                ChartKind::Line => first(&|k| k == "datetime" || is_numeric(k)),
                ChartKind::Pie | ChartKind::Bar | ChartKind::Column => first(&is_label),
            };
            guessed
                .or(if kinds.is_empty() { None } else { Some(0) })
                .ok_or(ChartError::NoColumns)?
        }
    };
    let series = if spec.series.is_empty() {
        match spec.kind {
            ChartKind::Pie => Vec::new(),
            _ => (0..kinds.len())
                .filter(|&i| {
                    i != x && is_label(kinds[i]) && !spec.y_columns.contains(&table.columns[i].name)
                })
                .collect(),
        }
    } else {
        spec.series
            .iter()
            .map(|n| find("series", n))
            .collect::<Result<_, _>>()?
    };
    let ys: Vec<usize> = if spec.y_columns.is_empty() {
        (0..kinds.len())
            .filter(|&i| i != x && !series.contains(&i) && is_numeric(kinds[i]))
            .collect()
    } else {
        spec.y_columns
            .iter()
            .map(|n| find("y", n))
            .collect::<Result<_, _>>()?
    };
    if ys.is_empty() {
        return Err(ChartError::NoNumericColumn);
    }
    Ok(Roles { x, series, ys })
}
