//! Where a partition without a checkpoint starts (`source.start_position`), as the event
//! processor's default start position.
//!
//! The processor sends a start position as the receiver's selector filter; an exclusive one is
//! `amqp.annotation.x-opt-enqueued-time > 'ms'` (what the Rust, Python and .NET SDKs send
//! unless told "inclusive"), so the event enqueued exactly at the configured time would be
//! skipped. An inclusive default is no way out: the processor keeps the default's
//! `inclusive` when it resumes from a checkpoint's offset, and would read every checkpointed
//! event again. So a time is sent as "after the last millisecond before it": enqueued times
//! are whole milliseconds, and `> ceil(t) - 1 ms` selects exactly the events enqueued at or
//! after `t`.

use super::settings::StartAt;
use azure_messaging_eventhubs::models::StartPositions;
use azure_messaging_eventhubs::{StartLocation, StartPosition};
use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The processor's start positions for `start`: exclusive, so that a partition resumed from a
/// checkpoint starts after the checkpointed event.
pub(super) fn start_positions(start: StartAt) -> StartPositions {
    let location = match start {
        StartAt::Earliest => StartLocation::Earliest,
        StartAt::Latest => StartLocation::Latest,
        StartAt::Time(t) => StartLocation::EnqueuedTime(last_millisecond_before(t)),
    };
    StartPositions {
        default: StartPosition {
            location,
            inclusive: false,
        },
        ..Default::default()
    }
}

/// The last whole millisecond strictly before `t` (`ceil(t) - 1 ms`): an event enqueued at
/// a whole millisecond is after it exactly when it is at or after `t`.
fn last_millisecond_before(t: DateTime<Utc>) -> SystemTime {
    let ceil_ms = t
        .timestamp_nanos_opt()
        .map(|ns| ns.div_euclid(1_000_000) + i64::from(ns.rem_euclid(1_000_000) != 0))
        .unwrap_or_else(|| t.timestamp_millis());
    let before = ceil_ms.saturating_sub(1);
    match u64::try_from(before) {
        Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
        // Before 1970: every retained event is after it.
        Err(_) => UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: SystemTime) -> u128 {
        t.duration_since(UNIX_EPOCH).unwrap().as_millis()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_whole_millisecond_selects_itself_and_later() {
        // 2026-11-01T00:00:00.250Z is 1793491200250 ms: events at 250 and later, not 249.
        assert_eq!(
            ms(last_millisecond_before(at("2026-11-01T00:00:00.250Z"))),
            1_793_491_200_249
        );
        assert_eq!(
            ms(last_millisecond_before(at("2026-11-01T00:00:00Z"))),
            1_793_491_199_999
        );
    }

    #[test]
    fn a_fraction_of_a_millisecond_selects_the_next_one() {
        // At or after .2505: the first whole millisecond that qualifies is .251.
        assert_eq!(
            ms(last_millisecond_before(at("2026-11-01T00:00:00.2505Z"))),
            1_793_491_200_250
        );
    }

    #[test]
    fn positions_are_exclusive_and_times_move_back_a_millisecond() {
        let p = start_positions(StartAt::Time(at("2026-11-01T00:00:00.250Z")));
        assert!(!p.default.inclusive);
        match p.default.location {
            StartLocation::EnqueuedTime(t) => assert_eq!(ms(t), 1_793_491_200_249),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            start_positions(StartAt::Latest).default.location,
            StartLocation::Latest
        );
        assert_eq!(
            start_positions(StartAt::Earliest).default.location,
            StartLocation::Earliest
        );
        assert!(start_positions(StartAt::Earliest).per_partition.is_empty());
    }
}
