//! The result's rows turned into what is drawn: series of (x, y) points for time, line and
//! area charts, or values per category for pie, bar and column charts. A chart shows at most
//! [`MAX_SERIES`] series (and [`MAX_SLICES`] slices, [`MAX_CATEGORIES`] categories): the
//! largest by total are kept and the rest summed into one named "other", so a chart stays
//! readable and its colours distinct.

use crate::contract::Table;
use crate::spec::Roles;
use serde_json::Value;
use std::collections::BTreeMap;

/// Most series drawn, "other" included.
pub const MAX_SERIES: usize = 8;
/// Most pie slices, "other" included.
pub const MAX_SLICES: usize = 8;
/// Most categories of a bar or column chart, "other" included.
pub const MAX_CATEGORIES: usize = 20;
/// The name of the bucket that sums what does not fit.
pub const OTHER: &str = "other";

/// One line of an x-y chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Points sorted by x; x is milliseconds since the epoch on a time axis.
    pub points: Vec<(f64, f64)>,
}

/// Values per category: the categories in first-seen order, and per series one value for
/// each category (0 where a series has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// The category labels.
    pub labels: Vec<String>,
    /// (series name, one value per label).
    pub series: Vec<(String, Vec<f64>)>,
}

/// A value as a number (numbers, numeric text, bools); None for null and anything else.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// A datetime value (RFC 3339 text, as Data Explorer sends it) as epoch milliseconds.
pub fn time_ms(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(t.timestamp_millis() as f64)
}

/// A value as a label: text as is, null as "(empty)", anything else as JSON.
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Null => "(empty)".into(),
        other => other.to_string(),
    }
}

/// The series name of a row's series values and y column.
fn series_name(table: &Table, roles: &Roles, row: &[Value], y: usize) -> String {
    let key: Vec<String> = roles.series.iter().map(|&i| label(&row[i])).collect();
    let key = key.join(", ");
    let y_name = &table.columns[y].name;
    match (key.is_empty(), roles.ys.len() > 1) {
        (true, _) => y_name.clone(),
        (false, false) => key,
        (false, true) => format!("{key} ({y_name})"),
    }
}

/// The x-y series of `table`; x from a datetime column when `time`, else numbers.
pub fn xy_series(table: &Table, roles: &Roles, time: bool) -> Vec<Series> {
    let mut by_name: Vec<(String, Points)> = Vec::new();
    for row in &table.rows {
        let x = if time {
            time_ms(&row[roles.x])
        } else {
            number(&row[roles.x]).or_else(|| time_ms(&row[roles.x]))
        };
        let Some(x) = x else { continue };
        for &y in &roles.ys {
            let Some(v) = number(&row[y]) else { continue };
            let name = series_name(table, roles, row, y);
            let i = match by_name.iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    by_name.push((name, BTreeMap::new()));
                    by_name.len() - 1
                }
            };
            // Rows with the same x in one series add up (as a bar would).
            let point = by_name[i].1.entry(order_key(x)).or_insert((x, 0.0));
            point.1 += v;
        }
    }
    let series: Vec<Series> = by_name
        .into_iter()
        .map(|(name, points)| Series {
            name,
            points: points.into_values().collect(),
        })
        .collect();
    cap_series(series)
}

/// A series' points while they are collected, keyed by [`order_key`].
type Points = BTreeMap<i64, (f64, f64)>;

/// A sortable key for an x value.
fn order_key(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

/// Keeps the [`MAX_SERIES`] - 1 largest series by total and sums the rest into "other".
fn cap_series(mut series: Vec<Series>) -> Vec<Series> {
    if series.len() <= MAX_SERIES {
        return series;
    }
    let total = |s: &Series| s.points.iter().map(|p| p.1.abs()).sum::<f64>();
    let mut order: Vec<usize> = (0..series.len()).collect();
    order.sort_by(|&a, &b| total(&series[b]).total_cmp(&total(&series[a])));
    let keep: Vec<usize> = order[..MAX_SERIES - 1].to_vec();
    let mut other: Points = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        if keep.contains(&i) {
            continue;
        }
        for &(x, y) in &s.points {
            other.entry(order_key(x)).or_insert((x, 0.0)).1 += y;
        }
    }
    let mut kept: Vec<Series> = Vec::new();
    for (i, s) in series.drain(..).enumerate() {
        if keep.contains(&i) {
            kept.push(s);
        }
    }
    kept.push(Series {
        name: OTHER.into(),
        points: other.into_values().collect(),
    });
    kept
}

/// The values per category of `table` (the x column's labels).
pub fn categories(table: &Table, roles: &Roles, max_categories: usize) -> Categories {
    let mut labels: Vec<String> = Vec::new();
    let mut series: Vec<(String, Vec<f64>)> = Vec::new();
    for row in &table.rows {
        let cat = label(&row[roles.x]);
        let c = match labels.iter().position(|l| *l == cat) {
            Some(c) => c,
            None => {
                labels.push(cat);
                for (_, values) in &mut series {
                    values.push(0.0);
                }
                labels.len() - 1
            }
        };
        for &y in &roles.ys {
            let Some(v) = number(&row[y]) else { continue };
            let name = series_name(table, roles, row, y);
            let s = match series.iter().position(|(n, _)| *n == name) {
                Some(s) => s,
                None => {
                    series.push((name, vec![0.0; labels.len()]));
                    series.len() - 1
                }
            };
            series[s].1[c] += v;
        }
    }
    let mut data = Categories { labels, series };
    cap_categories(&mut data, max_categories);
    cap_category_series(&mut data);
    data
}

/// Keeps the `max` - 1 largest categories by total (in their order) and sums the rest.
fn cap_categories(data: &mut Categories, max: usize) {
    if data.labels.len() <= max {
        return;
    }
    let total = |c: usize| data.series.iter().map(|(_, v)| v[c].abs()).sum::<f64>();
    let mut order: Vec<usize> = (0..data.labels.len()).collect();
    order.sort_by(|&a, &b| total(b).total_cmp(&total(a)));
    let mut keep: Vec<usize> = order[..max - 1].to_vec();
    keep.sort_unstable();
    let labels = keep
        .iter()
        .map(|&c| data.labels[c].clone())
        .chain([OTHER.into()]);
    let labels: Vec<String> = labels.collect();
    for (_, values) in &mut data.series {
        let rest: f64 = (0..values.len())
            .filter(|c| !keep.contains(c))
            .map(|c| values[c])
            .sum();
        let mut kept: Vec<f64> = keep.iter().map(|&c| values[c]).collect();
        kept.push(rest);
        *values = kept;
    }
    data.labels = labels;
}

/// Keeps the [`MAX_SERIES`] - 1 largest series by total and sums the rest.
fn cap_category_series(data: &mut Categories) {
    if data.series.len() <= MAX_SERIES {
        return;
    }
    let total = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>();
    data.series
        .sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)));
    let rest = data.series.split_off(MAX_SERIES - 1);
    let mut other = vec![0.0; data.labels.len()];
    for (_, values) in rest {
        for (o, v) in other.iter_mut().zip(values) {
            *o += v;
        }
    }
    data.series.push((OTHER.into(), other));
}
