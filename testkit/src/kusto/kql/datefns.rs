//! Datetime functions reports group and label by: `startof*`/`endof*` (weeks start on
//! Sunday, as in Kusto), `dayofweek`, `datetime_add`, `datetime_diff` (boundaries crossed,
//! not elapsed time), `bin_at` and `format_datetime` with Kusto's format specifiers.
//! Datetimes are 100 ns ticks since the Unix epoch (see `timefmt`).

use super::error::KqlError;
use super::timefmt::{TICKS_PER_DAY, TICKS_PER_SECOND};
use chrono::{DateTime, Datelike, Months, NaiveDate, Timelike, Utc};

/// A calendar unit of `startof*`/`endof*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Midnight.
    Day,
    /// Sunday midnight.
    Week,
    /// The first of the month.
    Month,
    /// January 1st.
    Year,
}

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

fn to_chrono(ticks: i64) -> Option<DateTime<Utc>> {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let nanos = (ticks.rem_euclid(TICKS_PER_SECOND) * 100) as u32;
    DateTime::from_timestamp(secs, nanos)
}

fn from_date(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() * TICKS_PER_SECOND)
}

/// Days since Sunday (1970-01-01 was a Thursday).
fn weekday(ticks: i64) -> i64 {
    (ticks.div_euclid(TICKS_PER_DAY) + 4).rem_euclid(7)
}

/// The start of `ticks`' period.
pub fn start_of(p: Period, ticks: i64) -> Option<i64> {
    let day = ticks - ticks.rem_euclid(TICKS_PER_DAY);
    Some(match p {
        Period::Day => day,
        Period::Week => day - weekday(ticks) * TICKS_PER_DAY,
        Period::Month => {
            let d = to_chrono(ticks)?.date_naive();
            from_date(NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?)
        }
        Period::Year => from_date(NaiveDate::from_ymd_opt(to_chrono(ticks)?.year(), 1, 1)?),
    })
}

/// The last tick of `ticks`' period.
pub fn end_of(p: Period, ticks: i64) -> Option<i64> {
    let start = start_of(p, ticks)?;
    let next = match p {
        Period::Day => start + TICKS_PER_DAY,
        Period::Week => start + 7 * TICKS_PER_DAY,
        Period::Month => from_date(
            to_chrono(start)?
                .date_naive()
                .checked_add_months(Months::new(1))?,
        ),
        Period::Year => from_date(
            to_chrono(start)?
                .date_naive()
                .checked_add_months(Months::new(12))?,
        ),
    };
    Some(next - 1)
}

/// `dayofweek`: days since the previous Sunday, as a timespan in ticks.
pub fn day_of_week(ticks: i64) -> i64 {
    weekday(ticks) * TICKS_PER_DAY
}

/// Ticks of a fixed-length part, or `None` for months, quarters and years.
fn part_ticks(part: &str) -> Option<i64> {
    Some(match part {
        "week" => 7 * TICKS_PER_DAY,
        "day" => TICKS_PER_DAY,
        "hour" => 3600 * TICKS_PER_SECOND,
        "minute" => 60 * TICKS_PER_SECOND,
        "second" => TICKS_PER_SECOND,
        "millisecond" => 10_000,
        "microsecond" => 10,
        "nanosecond" => 1,
        _ => return None,
    })
}

fn months_of(part: &str) -> Option<i64> {
    Some(match part {
        "year" => 12,
        "quarter" => 3,
        "month" => 1,
        _ => return None,
    })
}

fn unknown_part(part: &str, pos: usize) -> KqlError {
    err(format!("'{part}' is not a datetime part: use year, quarter, month, week, day, hour, minute, second, millisecond, microsecond or nanosecond"), pos)
}

/// `datetime_add(part, amount, dt)`; month arithmetic keeps the day, or the month's last.
pub fn add(part: &str, amount: i64, ticks: i64, pos: usize) -> Result<Option<i64>, KqlError> {
    let part = part.to_ascii_lowercase();
    if let Some(t) = part_ticks(&part) {
        return Ok(amount.checked_mul(t).and_then(|d| ticks.checked_add(d)));
    }
    let m = months_of(&part).ok_or_else(|| unknown_part(&part, pos))?;
    let Some(t) = to_chrono(ticks) else {
        return Ok(None);
    };
    let months = amount.saturating_mul(m);
    let moved = if months >= 0 {
        t.checked_add_months(Months::new(months.min(u32::MAX as i64) as u32))
    } else {
        t.checked_sub_months(Months::new((-months).min(u32::MAX as i64) as u32))
    };
    Ok(moved.map(super::timefmt::ticks_of))
}

/// `datetime_diff(part, a, b)`: how many `part` boundaries lie between `b` and `a`.
pub fn diff(part: &str, a: i64, b: i64, pos: usize) -> Result<Option<i64>, KqlError> {
    let part = part.to_ascii_lowercase();
    if part == "week" {
        let (sa, sb) = (start_of(Period::Week, a), start_of(Period::Week, b));
        return Ok(sa.zip(sb).map(|(x, y)| (x - y) / (7 * TICKS_PER_DAY)));
    }
    if let Some(t) = part_ticks(&part) {
        return Ok(Some(a.div_euclid(t) - b.div_euclid(t)));
    }
    let m = months_of(&part).ok_or_else(|| unknown_part(&part, pos))?;
    let (Some(x), Some(y)) = (to_chrono(a), to_chrono(b)) else {
        return Ok(None);
    };
    let index = |d: DateTime<Utc>| (d.year() as i64 * 12 + d.month0() as i64).div_euclid(m);
    Ok(Some(index(x) - index(y)))
}

/// `format_datetime(dt, format)` with Kusto's specifiers (`yyyy`, `MM`, `dd`, `HH`, `hh`,
/// `mm`, `ss`, `f`...`fffffff`, `tt`, ...) and `-/:., _` and spaces between them.
pub fn format(ticks: i64, fmt: &str, pos: usize) -> Result<Option<String>, KqlError> {
    let Some(t) = to_chrono(ticks) else {
        return Ok(None);
    };
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let frac = ticks.rem_euclid(TICKS_PER_SECOND);
        let piece = match (c, run) {
            ('y', 4) => format!("{:04}", t.year()),
            ('y', 2) => format!("{:02}", t.year() % 100),
            ('M', 2) => format!("{:02}", t.month()),
            ('M', 1) => t.month().to_string(),
            ('d', 2) => format!("{:02}", t.day()),
            ('d', 1) => t.day().to_string(),
            ('H', 2) => format!("{:02}", t.hour()),
            ('H', 1) => t.hour().to_string(),
            ('h', n @ 1..=2) => {
                let h = match t.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                if n == 2 {
                    format!("{h:02}")
                } else {
                    h.to_string()
                }
            }
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', 1) => t.minute().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', 1) => t.second().to_string(),
            ('f', n @ 1..=7) => format!("{frac:07}")[..n].to_string(),
            ('t', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            (' ' | '-' | '/' | ':' | '.' | ',' | '_' | '[' | ']', _) => c.to_string().repeat(run),
            _ => {
                return Err(err(
                    format!(
                        "'{}' is not a format_datetime specifier",
                        c.to_string().repeat(run)
                    ),
                    pos,
                ))
            }
        };
        out.push_str(&piece);
        i += run;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kusto::kql::timefmt::{format_datetime, parse_datetime};

    fn t(s: &str) -> i64 {
        parse_datetime(s).unwrap()
    }
    fn s(ticks: i64) -> String {
        format_datetime(ticks).unwrap()
    }

    #[test]
    fn periods() {
        // 2026-12-03 is a Thursday.
        let x = t("2026-12-03T10:20:30Z");
        assert_eq!(
            s(start_of(Period::Day, x).unwrap()),
            "2026-12-03T00:00:00.0000000Z"
        );
        assert_eq!(
            s(start_of(Period::Week, x).unwrap()),
            "2026-11-29T00:00:00.0000000Z"
        );
        assert_eq!(
            s(start_of(Period::Month, x).unwrap()),
            "2026-12-01T00:00:00.0000000Z"
        );
        assert_eq!(
            s(start_of(Period::Year, x).unwrap()),
            "2026-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            s(end_of(Period::Month, x).unwrap()),
            "2026-12-31T23:59:59.9999999Z"
        );
        assert_eq!(
            s(end_of(Period::Week, x).unwrap()),
            "2026-12-05T23:59:59.9999999Z"
        );
        assert_eq!(day_of_week(x), 4 * TICKS_PER_DAY);
    }

    #[test]
    fn add_diff_and_format() {
        let jan31 = t("2026-01-31T08:00:00Z");
        assert_eq!(
            s(add("month", 1, jan31, 0).unwrap().unwrap()),
            "2026-02-28T08:00:00.0000000Z"
        );
        assert_eq!(
            s(add("Day", -2, jan31, 0).unwrap().unwrap()),
            "2026-01-29T08:00:00.0000000Z"
        );
        assert!(add("fortnight", 1, jan31, 0).is_err());
        let (a, b) = (t("2027-01-01T00:00:00Z"), t("2026-12-31T23:59:59Z"));
        assert_eq!(
            diff("year", a, b, 0).unwrap(),
            Some(1),
            "a boundary, not elapsed time"
        );
        assert_eq!(diff("month", a, b, 0).unwrap(), Some(1));
        assert_eq!(diff("day", a, b, 0).unwrap(), Some(1));
        assert_eq!(diff("second", a, b, 0).unwrap(), Some(1));
        assert_eq!(diff("hour", b, a, 0).unwrap(), Some(-1));
        let x = t("2026-12-03T15:04:05.1234567Z");
        assert_eq!(
            format(x, "yyyy-MM-dd HH:mm:ss.fff", 0).unwrap().unwrap(),
            "2026-12-03 15:04:05.123"
        );
        assert_eq!(
            format(x, "M/d/yy h:mm tt", 0).unwrap().unwrap(),
            "12/3/26 3:04 PM"
        );
        assert!(format(x, "yyyy Q", 0).is_err());
    }
}
