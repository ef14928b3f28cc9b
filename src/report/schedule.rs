//! When a report runs: a cron expression in a time zone (through the `croner` crate, which
//! handles daylight-saving gaps and overlaps), a fixed period (`every = "15m"`, at multiples
//! of the period since the Unix epoch, so every replica agrees on the times), or both (the
//! union of their times). A run's window is `[previous scheduled time, scheduled time)`.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use std::fmt;
use std::time::Duration;

/// A report's schedule.
#[derive(Clone)]
pub struct Schedule {
    cron: Option<(Cron, Tz)>,
    every: Option<Duration>,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Why a schedule cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression does not parse.
    #[error("{0:?} is not a cron expression ({1}); expected 5 fields (minute hour day month weekday) or 6 with seconds first, such as \"0 * * * *\"")]
    Cron(String, String),
    /// The time zone is not in the tz database.
    #[error("{0:?} is not a time zone name such as \"UTC\" or \"Europe/Berlin\"")]
    TimeZone(String),
    /// `every` is zero or under a second.
    #[error("the period must be at least one second")]
    TooShort,
}

/// Parses a time zone name.
pub fn time_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.parse::<Tz>()
        .map_err(|_| ScheduleError::TimeZone(name.to_string()))
}

impl Schedule {
    /// A schedule from a cron expression (in `tz`) and/or a period; at least one is given.
    pub fn new(cron: Option<(&str, Tz)>, every: Option<Duration>) -> Result<Self, ScheduleError> {
        let cron = match cron {
            None => None,
            Some((text, tz)) => {
                let parsed = CronParser::builder()
                    .seconds(Seconds::Optional)
                    .build()
                    .parse(text)
                    .map_err(|e| ScheduleError::Cron(text.to_string(), e.to_string()))?;
                Some((parsed, tz))
            }
        };
        if let Some(p) = every {
            if p < Duration::from_secs(1) {
                return Err(ScheduleError::TooShort);
            }
        }
        Ok(Schedule { cron, every })
    }

    /// The first scheduled time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from_cron = self.cron.as_ref().and_then(|(c, tz)| {
            c.find_next_occurrence(&t.with_timezone(tz), false)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        });
        let from_every = self.every.map(|p| {
            let p = period_ms(p);
            from_ms((t.timestamp_millis().div_euclid(p) + 1) * p)
        });
        earliest(from_cron, from_every)
    }

    /// The latest scheduled time at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from_cron = self.cron.as_ref().and_then(|(c, tz)| {
            c.find_previous_occurrence(&t.with_timezone(tz), true)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        });
        let from_every = self.every.map(|p| {
            let p = period_ms(p);
            from_ms(t.timestamp_millis().div_euclid(p) * p)
        });
        match (from_cron, from_every) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The scheduled time before `t` (strictly), the start of `t`'s window.
    pub fn previous_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.latest_at_or_before(t - chrono::Duration::milliseconds(1))
    }

    /// For people: `cron "0 * * * *" (Europe/Berlin)`, `every 15m`, or both.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((c, tz)) = &self.cron {
            parts.push(format!("cron {:?} ({tz})", c.as_str()));
        }
        if let Some(p) = self.every {
            parts.push(format!("every {}", humantime::format_duration(p)));
        }
        parts.join(" and ")
    }
}

fn period_ms(p: Duration) -> i64 {
    i64::try_from(p.as_millis()).unwrap_or(i64::MAX).max(1)
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_is_aligned_to_the_epoch() {
        let s = Schedule::new(None, Some(Duration::from_secs(900))).unwrap();
        let t = at("2026-12-03T10:07:30Z");
        assert_eq!(s.next_after(t), Some(at("2026-12-03T10:15:00Z")));
        assert_eq!(s.latest_at_or_before(t), Some(at("2026-12-03T10:00:00Z")));
        let on = at("2026-12-03T10:15:00Z");
        assert_eq!(s.next_after(on), Some(at("2026-12-03T10:30:00Z")));
        assert_eq!(s.latest_at_or_before(on), Some(on));
        assert_eq!(s.previous_before(on), Some(at("2026-12-03T10:00:00Z")));
    }

    #[test]
    fn cron_follows_its_time_zone() {
        let berlin = time_zone("Europe/Berlin").unwrap();
        let s = Schedule::new(Some(("0 8 * * *", berlin)), None).unwrap();
        // 08:00 in Berlin is 07:00 UTC in winter.
        assert_eq!(
            s.next_after(at("2026-12-03T06:00:00Z")),
            Some(at("2026-12-03T07:00:00Z"))
        );
        // and 06:00 UTC in summer.
        assert_eq!(
            s.next_after(at("2026-07-03T05:00:00Z")),
            Some(at("2026-07-03T06:00:00Z"))
        );
        assert_eq!(
            s.previous_before(at("2026-12-03T07:00:00Z")),
            Some(at("2026-12-02T07:00:00Z"))
        );
        let hourly = Schedule::new(Some(("0 * * * *", Tz::UTC)), None).unwrap();
        assert_eq!(
            hourly.latest_at_or_before(at("2026-12-03T10:59:59Z")),
            Some(at("2026-12-03T10:00:00Z"))
        );
    }

    #[test]
    fn both_give_the_union() {
        let s = Schedule::new(
            Some(("30 10 * * *", Tz::UTC)),
            Some(Duration::from_secs(3600)),
        )
        .unwrap();
        let t = at("2026-12-03T10:05:00Z");
        assert_eq!(s.next_after(t), Some(at("2026-12-03T10:30:00Z")));
        assert_eq!(
            s.next_after(at("2026-12-03T10:30:00Z")),
            Some(at("2026-12-03T11:00:00Z"))
        );
        assert_eq!(
            s.latest_at_or_before(at("2026-12-03T10:45:00Z")),
            Some(at("2026-12-03T10:30:00Z"))
        );
        assert!(s.describe().contains("every 1h"));
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = Schedule::new(Some(("every hour", Tz::UTC)), None).unwrap_err();
        assert!(e.to_string().contains("5 fields"), "{e}");
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(Schedule::new(None, Some(Duration::from_millis(10))).is_err());
    }
}
