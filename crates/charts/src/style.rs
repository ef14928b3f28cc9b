//! The look shared by every chart: the bundled font (DejaVu Sans, registered once, so text is
//! measured and drawn the same on every machine), a colour-blind-safe palette (Okabe and
//! Ito's eight colours, with grey for "other"), and number formatting for axes and legends.

use plotters::style::{FontStyle, RGBColor};
use std::sync::Once;

/// The family name charts ask for; it resolves to the bundled font.
pub const FONT: &str = "sans-serif";

/// Okabe and Ito's colour-blind-safe palette, darkest-first so the first series stands out.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(240, 228, 66),  // yellow
];

/// The colour of the "other" bucket.
pub const OTHER_COLOUR: RGBColor = RGBColor(153, 153, 153);

/// Axis lines, labels and titles.
pub const INK: RGBColor = RGBColor(51, 51, 51);

static REGISTER: Once = Once::new();

/// Makes [`FONT`] resolve to the bundled DejaVu Sans; safe to call any number of times.
pub fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a well-formed TrueType font compiled into the binary, so this only
        // fails if the font crate ships a broken file; text would then not be drawn.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The colour of series `i` named `name`.
pub fn colour(i: usize, name: &str) -> RGBColor {
    if name == crate::data::OTHER {
        OTHER_COLOUR
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

/// A number as an axis or legend shows it: grouped thousands, at most 3 decimals, no
/// trailing zeros (`1,234`, `0.25`, `12.5k` is not used: exact values read better in reports).
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let rounded = (v * 1000.0).round() / 1000.0;
    let negative = rounded < 0.0;
    let text = format!("{:.3}", rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if negative && (grouped != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped_and_trimmed() {
        assert_eq!(super::number(1234567.0), "1,234,567");
        assert_eq!(super::number(0.25), "0.25");
        assert_eq!(super::number(-1500.5), "-1,500.5");
        assert_eq!(super::number(2.0), "2");
        assert_eq!(super::number(-0.0001), "0");
    }
}
