//! Parsing and formatting of datetime and timespan values in Kusto's text forms.
//!
//! Datetimes are held as 100-ns ticks since the Unix epoch (may be negative), timespans as
//! 100-ns ticks. Output forms: "2020-08-05T22:26:55.4550000Z" (always 7 fraction digits) and
//! "[-][d.]hh:mm:ss[.fffffff]".

use chrono::{Datelike, NaiveDate, Timelike};

/// Ticks (100 ns) per second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks per day.
pub const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;
/// Smallest datetime Kusto can hold (0001-01-01), in ticks since the Unix epoch.
const MIN_TICKS: i64 = -62_135_596_800 * TICKS_PER_SECOND;
/// Largest datetime Kusto can hold (9999-12-31T23:59:59.9999999).
const MAX_TICKS: i64 = 253_402_300_800 * TICKS_PER_SECOND - 1;

/// Ticks since the Unix epoch of a chrono UTC time.
pub fn ticks_of(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp() * TICKS_PER_SECOND + i64::from(t.timestamp_subsec_nanos() / 100)
}

/// Whether `ticks` is inside Kusto's datetime range.
pub fn datetime_in_range(ticks: i64) -> bool {
    (MIN_TICKS..=MAX_TICKS).contains(&ticks)
}

/// Formats a datetime as Kusto's wire form, or None when out of range.
pub fn format_datetime(ticks: i64) -> Option<String> {
    if !datetime_in_range(ticks) {
        return None;
    }
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    let dt = chrono::DateTime::from_timestamp(secs, 0)?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        frac
    ))
}

/// Formats a timespan as "[-][d.]hh:mm:ss[.fffffff]".
pub fn format_timespan(ticks: i64) -> String {
    let neg = ticks < 0;
    let abs = ticks.unsigned_abs();
    let tps = TICKS_PER_SECOND as u64;
    let frac = abs % tps;
    let total_secs = abs / tps;
    let days = total_secs / 86_400;
    let h = (total_secs / 3600) % 24;
    let m = (total_secs / 60) % 60;
    let s = total_secs % 60;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// Parses a run of ASCII digits of exactly `len` characters.
fn digits(s: &str, len: usize) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses ".fffffff" fraction digits into ticks: 1 to 7 digits, or more when the extra
/// digits are zeros (finer than 100 ns cannot be held).
fn fraction(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 7 {
        return if s.bytes().skip(7).all(|b| b == b'0') {
            fraction(&s[..7])
        } else {
            None
        };
    }
    let v: i64 = s.parse().ok()?;
    Some(v * 10_i64.pow(7 - s.len() as u32))
}

/// Parses a datetime in ISO 8601-like forms: "2026-01-01", "2026-01-01T10:00[:00[.1234567]]",
/// with 'T' or ' ' separator and an optional "Z" or "+hh:mm"/"-hh:mm" offset.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.len() < 10 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&date[0..4], 4)?;
    let mo = digits(&date[5..7], 2)?;
    let d = digits(&date[8..10], 2)?;
    let nd = NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(mo).ok()?,
        u32::try_from(d).ok()?,
    )?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let days = nd.signed_duration_since(epoch).num_days();
    let mut ticks = days * TICKS_PER_DAY;
    if rest.is_empty() {
        return datetime_in_range(ticks).then_some(ticks);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    // Split off the zone designator.
    let (time, offset) = if let Some(t) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z'))
    {
        (t, 0)
    } else if rest.len() > 6 && rest.is_char_boundary(rest.len() - 6) {
        let (t, z) = rest.split_at(rest.len() - 6);
        let zb = z.as_bytes();
        if (zb[0] == b'+' || zb[0] == b'-') && zb[3] == b':' {
            let zh = digits(&z[1..3], 2)?;
            let zm = digits(&z[4..6], 2)?;
            let off = (zh * 3600 + zm * 60) * TICKS_PER_SECOND;
            (t, if zb[0] == b'+' { off } else { -off })
        } else {
            (rest, 0)
        }
    } else {
        (rest, 0)
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, fraction(f)?),
        None => (time, 0),
    };
    // Split by hand: this runs for every stored datetime a table's column store decodes.
    let mut parts = hms.split(':');
    let (h, m) = (digits(parts.next()?, 2)?, digits(parts.next()?, 2)?);
    let seconds = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let sec = seconds.map(|s| digits(s, 2)).unwrap_or(Some(0))?;
    if h > 23 || m > 59 || sec > 59 || (frac != 0 && seconds.is_none()) {
        return None;
    }
    ticks += (h * 3600 + m * 60 + sec) * TICKS_PER_SECOND + frac - offset;
    datetime_in_range(ticks).then_some(ticks)
}

/// Parses the text forms `todatetime()` and `datetime()` accept: ISO 8601 ([`parse_datetime`]),
/// the sortable form with a `GMT` suffix (`2014-11-08 15:05:25 GMT`), RFC 822 / 1123
/// (`Sat, 8 Nov 14 15:05:02 GMT`, with or without weekday, seconds, zone or a 4-digit year)
/// and RFC 850 (`Saturday, 08-Nov-14 15:05:02 GMT`). Times without a zone are UTC.
pub fn parse_datetime_text(text: &str) -> Option<i64> {
    if let Some(t) = parse_datetime(text) {
        return Some(t);
    }
    let s = text.trim();
    let s = s
        .strip_suffix(" GMT")
        .or_else(|| s.strip_suffix(" UTC"))
        .unwrap_or(s)
        .trim();
    if let Some(t) = parse_datetime(s) {
        return Some(t);
    }
    const FORMS: &[&str] = &[
        "%a, %d %b %y %H:%M:%S",
        "%a, %d %b %y %H:%M",
        "%a, %d %b %Y %H:%M:%S",
        "%a, %d %b %Y %H:%M",
        "%d %b %y %H:%M:%S",
        "%d %b %y %H:%M",
        "%d %b %Y %H:%M:%S",
        "%d %b %Y %H:%M",
        "%A, %d-%b-%y %H:%M:%S",
        "%A, %d-%b-%y %H:%M",
        "%d-%b-%y %H:%M:%S",
        "%d-%b-%y %H:%M",
    ];
    FORMS.iter().find_map(|f| {
        let t = chrono::NaiveDateTime::parse_from_str(s, f).ok()?.and_utc();
        let ticks = ticks_of(t);
        datetime_in_range(ticks).then_some(ticks)
    })
}

/// Whether `text` starts with a numeric date whose day and month order Kusto reads by the
/// .NET invariant culture (`12-02-2022`, `2/12/2022`): no documented format, so the emulator
/// refuses it rather than guessing which number is the month.
pub fn is_ambiguous_numeric_date(text: &str) -> bool {
    let date = text.trim().split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].len() <= 2
        && parts[1].len() <= 2
}

/// Parses a timespan in "[-][d.]hh:mm[:ss[.fffffff]]" form.
pub fn parse_timespan_clock(text: &str) -> Option<i64> {
    let s = text.trim();
    if !s.is_ascii() {
        return None;
    }
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((d, h)) => (
            d.parse::<i64>()
                .ok()
                .filter(|_| d.bytes().all(|b| b.is_ascii_digit()))?,
            h,
        ),
        None => (0, parts[0]),
    };
    let h = if hours.len() == 1 {
        digits(hours, 1)?
    } else {
        digits(hours, 2)?
    };
    let m = digits(parts[1], 2)?;
    let (sec, frac) = if parts.len() == 3 {
        match parts[2].split_once('.') {
            Some((a, f)) => (digits(a, 2)?, fraction(f)?),
            None => (digits(parts[2], 2)?, 0),
        }
    } else {
        (0, 0)
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let t = days
        .checked_mul(TICKS_PER_DAY)?
        .checked_add((h * 3600 + m * 60 + sec) * TICKS_PER_SECOND + frac)?;
    Some(if neg { -t } else { t })
}

/// Ticks per unit for timespan literal suffixes (`1d`, `2h`, `30m`, `10s`, `100ms`, ...).
pub fn unit_ticks(unit: &str) -> Option<i64> {
    Some(match unit {
        "d" | "day" | "days" => TICKS_PER_DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600 * TICKS_PER_SECOND,
        "m" | "min" | "minute" | "minutes" => 60 * TICKS_PER_SECOND,
        "s" | "sec" | "second" | "seconds" => TICKS_PER_SECOND,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000,
        "microsecond" | "microseconds" => 10,
        "tick" | "ticks" => 1,
        _ => return None,
    })
}

/// Converts a decimal number text (digits with optional single '.') times a unit into ticks;
/// None if not exact or overflowing.
pub fn scaled_ticks(number: &str, unit_ticks: i64) -> Option<i64> {
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mantissa: i128 = format!("{int_part}{frac_part}").parse().ok()?;
    let scale = 10_i128.checked_pow(u32::try_from(frac_part.len()).ok()?)?;
    let total = mantissa.checked_mul(i128::from(unit_ticks))?;
    if total % scale != 0 {
        return None;
    }
    i64::try_from(total / scale).ok()
}

/// Parses a timespan written as a literal body: "1d", "1.5h", "01:02:03", "1.02:03:04.5".
pub fn parse_timespan_literal(text: &str) -> Option<i64> {
    let s = text.trim();
    if !s.is_ascii() {
        return None;
    }
    if s.contains(':') {
        return parse_timespan_clock(s);
    }
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, s),
    };
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    // `timespan(15 seconds)`: a space may separate the number and the unit.
    let t = scaled_ticks(num, unit_ticks(unit.trim_start())?)?;
    Some(if neg { -t } else { t })
}
