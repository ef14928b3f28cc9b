//! Ticks for a time axis that make sense from minutes to years: a step from a fixed ladder
//! (1 minute ... 1 year) giving about `target` ticks, ticks on round local times of the
//! report's time zone (whole hours, midnights, first days of months), and labels that show
//! what changes at that step (`09:30`, `Dec 3`, `Dec 2026`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// A step between ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Minutes(i64),
    Hours(i64),
    Days(i64),
    Months(i64),
}

const LADDER: [Step; 17] = [
    Step::Minutes(1),
    Step::Minutes(2),
    Step::Minutes(5),
    Step::Minutes(10),
    Step::Minutes(15),
    Step::Minutes(30),
    Step::Hours(1),
    Step::Hours(2),
    Step::Hours(3),
    Step::Hours(6),
    Step::Hours(12),
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Months(1),
    Step::Months(3),
    Step::Months(12),
];

impl Step {
    fn approx_ms(self) -> f64 {
        let minute = 60_000.0;
        match self {
            Step::Minutes(n) => n as f64 * minute,
            Step::Hours(n) => n as f64 * 60.0 * minute,
            Step::Days(n) => n as f64 * 1440.0 * minute,
            Step::Months(n) => n as f64 * 30.44 * 1440.0 * minute,
        }
    }
}

/// Tick positions (epoch milliseconds) within `[start, end]`, and a label for each.
pub fn ticks(start: f64, end: f64, tz: Tz, target: usize) -> Vec<(f64, String)> {
    let span = (end - start).max(1.0);
    let step = LADDER
        .iter()
        .copied()
        .find(|s| span / s.approx_ms() <= target as f64)
        .unwrap_or(Step::Months(
            12 * ((span / Step::Months(12).approx_ms()) / target as f64)
                .ceil()
                .max(1.0) as i64,
        ));
    let Some(first) = tz.timestamp_millis_opt(start as i64).earliest() else {
        return Vec::new();
    };
    let mut t = floor(first.naive_local(), step);
    let mut out = Vec::new();
    let mut last_day: Option<NaiveDate> = None;
    for _ in 0..500 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            let ms = local.timestamp_millis() as f64;
            if ms > end {
                break;
            }
            if ms >= start {
                out.push((ms, label(local, step, last_day)));
                last_day = Some(local.date_naive());
            }
        }
        t = advance(t, step);
    }
    out
}

/// `t` rounded down to the step's boundary in local time.
fn floor(t: NaiveDateTime, step: Step) -> NaiveDateTime {
    let day = t.date();
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or(t);
    match step {
        Step::Minutes(n) => {
            let m = i64::from(t.hour() * 60 + t.minute());
            midnight + Duration::minutes(m - m % n)
        }
        Step::Hours(n) => {
            let h = i64::from(t.hour());
            midnight + Duration::hours(h - h % n)
        }
        Step::Days(7) => midnight - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Step::Days(_) => midnight,
        Step::Months(n) => {
            let m0 = i64::from(day.month0());
            let month = (m0 - m0 % n) as u32 + 1;
            NaiveDate::from_ymd_opt(day.year(), month, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(midnight)
        }
    }
}

fn advance(t: NaiveDateTime, step: Step) -> NaiveDateTime {
    match step {
        Step::Minutes(n) => t + Duration::minutes(n),
        Step::Hours(n) => t + Duration::hours(n),
        Step::Days(n) => t + Duration::days(n),
        Step::Months(n) => {
            let months = i64::from(t.year()) * 12 + i64::from(t.month0()) + n;
            NaiveDate::from_ymd_opt((months / 12) as i32, (months % 12) as u32 + 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(t + Duration::days(30 * n))
        }
    }
}

/// A tick's label: the time of day within a day (with the date on the first tick of each
/// day), the day for day steps, the month for month steps, the year for year steps.
fn label(t: DateTime<Tz>, step: Step, last_day: Option<NaiveDate>) -> String {
    match step {
        Step::Minutes(_) | Step::Hours(_) => {
            if last_day.is_some_and(|d| d == t.date_naive()) {
                t.format("%H:%M").to_string()
            } else {
                t.format("%b %-d %H:%M").to_string()
            }
        }
        Step::Days(_) => t.format("%b %-d").to_string(),
        Step::Months(n) if n >= 12 => t.format("%Y").to_string(),
        Step::Months(_) => t.format("%b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> f64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis() as f64
    }

    #[test]
    fn an_hour_gets_ticks_on_round_minutes() {
        let t = ticks(
            ms("2026-12-03T09:07:00Z"),
            ms("2026-12-03T10:07:00Z"),
            Tz::UTC,
            8,
        );
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["Dec 3 09:10", "09:20", "09:30", "09:40", "09:50", "10:00"]
        );
    }

    #[test]
    fn a_day_in_a_time_zone_ticks_on_local_hours() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let t = ticks(
            ms("2026-12-02T23:00:00Z"),
            ms("2026-12-03T23:00:00Z"),
            tz,
            8,
        );
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Dec 3 00:00",
                "03:00",
                "06:00",
                "09:00",
                "12:00",
                "15:00",
                "18:00",
                "21:00",
                "Dec 4 00:00"
            ]
        );
    }

    #[test]
    fn months_and_years_get_month_and_year_labels() {
        let t = ticks(
            ms("2026-01-15T00:00:00Z"),
            ms("2026-06-15T00:00:00Z"),
            Tz::UTC,
            8,
        );
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"]
        );
        let t = ticks(
            ms("2020-03-01T00:00:00Z"),
            ms("2026-03-01T00:00:00Z"),
            Tz::UTC,
            8,
        );
        assert_eq!(t.first().map(|(_, l)| l.as_str()), Some("2021"));
    }
}
