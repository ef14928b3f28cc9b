//! Numbers as they were written. The JSON parser keeps every number's text (serde_json's
//! `arbitrary_precision`), so that a value reaches the table exactly as the device sent it:
//! a double is never re-rounded, and an integer of any size stays as written in the column
//! types that can hold it (`string`, `decimal`, `dynamic`). This module reads that text for
//! the column types that need a value: integers, checked exactly rather than through a double.

/// The parts of a number written as `[+-]digits[.digits][(e|E)[+-]digits]`.
struct Parts<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    exponent: i64,
}

/// Splits decimal number text into its parts, or `None` when it is not such text (at least
/// one digit before or after the point; an exponent, when present, has digits).
fn parts(s: &str) -> Option<Parts<'_>> {
    let negative = s.starts_with('-');
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let exponent = match exponent {
        None => 0,
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !digits(unsigned) {
                return None;
            }
            // Exponents too large for i64 are still numbers: saturate, the value is then
            // zero or out of every integer range anyway.
            e.parse::<i64>().unwrap_or(if e.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            })
        }
    };
    Some(Parts {
        negative,
        int,
        frac,
        exponent,
    })
}

/// True for `[+-]digits[.digits][(e|E)[+-]digits]`: the forms Data Explorer's `decimal` reads.
pub(crate) fn is_decimal_text(s: &str) -> bool {
    parts(s).is_some()
}

/// What number text is, read as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntegerText {
    /// An integer (`12`, `1.0`, `1.2e3`), exactly; `None` when its magnitude exceeds `i128`.
    Integer(Option<i128>),
    /// A value with a non-zero fractional part (`1.5`, `1e-3`).
    Fractional,
    /// Not decimal number text.
    NotANumber,
}

/// Reads number text as an exact integer, without going through a double: `9007199254740993`
/// and `9.007199254740993e15` are both that integer, `1e400` is an integer too large for any
/// column, `1.25` is fractional.
pub(crate) fn integer_text(s: &str) -> IntegerText {
    let Some(p) = parts(s) else {
        return IntegerText::NotANumber;
    };
    let digits = format!("{}{}", p.int, p.frac);
    let digits = digits.trim_start_matches('0');
    // The value is digits × 10^scale.
    let scale = p.exponent.saturating_sub(p.frac.len() as i64);
    if digits.is_empty() {
        return IntegerText::Integer(Some(0));
    }
    let (kept, dropped) = if scale >= 0 {
        (digits, "")
    } else {
        let cut = digits.len().saturating_sub(scale.unsigned_abs() as usize);
        digits.split_at(cut)
    };
    if dropped.bytes().any(|b| b != b'0') {
        return IntegerText::Fractional;
    }
    if kept.is_empty() {
        return IntegerText::Integer(Some(0));
    }
    let magnitude = kept.parse::<i128>().ok().and_then(|m| {
        let shift = u32::try_from(scale.max(0)).ok()?;
        m.checked_mul(10i128.checked_pow(shift)?)
    });
    IntegerText::Integer(magnitude.map(|m| if p.negative { -m } else { m }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_syntax() {
        for ok in ["1", "-1.5", ".5", "5.", "1e10", "+2E-3"] {
            assert!(is_decimal_text(ok), "{ok}");
        }
        for bad in ["", ".", "e5", "1e", "1..2", "0x10", "1,5", "1e+"] {
            assert!(!is_decimal_text(bad), "{bad}");
        }
    }

    #[test]
    fn integers_are_read_exactly_in_every_written_form() {
        use IntegerText::*;
        let cases = [
            ("0", Integer(Some(0))),
            ("-0.0", Integer(Some(0))),
            ("9223372036854775807", Integer(Some(i64::MAX.into()))),
            ("-9223372036854775808", Integer(Some(i64::MIN.into()))),
            (
                "9223372036854775806.000",
                Integer(Some(9223372036854775806)),
            ),
            ("9.007199254740993e15", Integer(Some(9007199254740993))),
            ("1200e-2", Integer(Some(12))),
            ("0.000e5", Integer(Some(0))),
            (
                "123456789012345678901234567890",
                Integer(Some(123456789012345678901234567890)),
            ),
            ("1e400", Integer(None)),
            ("1e-400", Fractional),
            ("1.5", Fractional),
            ("1201e-2", Fractional),
            ("abc", NotANumber),
        ];
        for (text, expected) in cases {
            assert_eq!(integer_text(text), expected, "{text}");
        }
    }
}
