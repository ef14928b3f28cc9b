//! [`Axis`]: a linear f64 axis whose ticks are either given (time ticks, category centres)
//! or round numbers (1, 2 or 5 times a power of ten). plotters' own f64 axes choose their
//! ticks themselves; reports need time ticks on local hours and one tick per category.

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use std::ops::Range;

/// A linear axis from `lo` to `hi`.
#[derive(Debug, Clone)]
pub struct Axis {
    lo: f64,
    hi: f64,
    /// Given ticks; empty: round numbers.
    ticks: Vec<f64>,
}

impl Axis {
    /// An axis with ticks on round numbers.
    pub fn numeric(lo: f64, hi: f64) -> Self {
        Axis {
            lo,
            hi,
            ticks: Vec::new(),
        }
    }

    /// An axis with exactly these ticks.
    pub fn with_ticks(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Axis { lo, hi, ticks }
    }
}

/// Round-number ticks within `[lo, hi]`, at most `max` of them.
pub fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || max == 0 {
        return Vec::new();
    }
    let raw = span / max as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= max as f64)
        .unwrap_or(10.0 * magnitude);
    // Ticks are whole multiples of the step, rounded to the step's decimals so that float
    // noise (0.30000000000000004) never reaches a label.
    let scale = 10f64.powi((-step.log10().floor()).max(0.0) as i32 + 1);
    let first = (lo / step).ceil() as i64;
    let mut out = Vec::new();
    for i in first.. {
        let v = (i as f64 * step * scale).round() / scale;
        if v > hi + step * 1e-9 || out.len() > max {
            break;
        }
        out.push(if v == 0.0 { 0.0 } else { v });
    }
    out
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = (value - self.lo) / (self.hi - self.lo);
        let px = f64::from(limit.0) + frac * f64::from(limit.1 - limit.0);
        px.round().clamp(-1e7, 1e7) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // plotters asks once for bold points (labels, bold grid) and once for light ones.
        if hint.weight().allow_light_points() && hint.max_num_points() > hint.bold_points() {
            return Vec::new();
        }
        if self.ticks.is_empty() {
            nice_ticks(self.lo, self.hi, hint.max_num_points().clamp(2, 12))
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Labels are set per chart (`x_label_formatter`); this is the fallback plotters requires.
impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        crate::style::number(*value)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_ticks() {
        assert_eq!(
            super::nice_ticks(0.0, 10.0, 5),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(super::nice_ticks(0.0, 0.9, 5), [0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(super::nice_ticks(0.0, 0.9, 4), [0.0, 0.5]);
        assert_eq!(
            super::nice_ticks(-35.0, 120.0, 8),
            [-20.0, 0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0]
        );
    }
}
