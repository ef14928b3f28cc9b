//! Backoff for retried calls to Azure: exponential with full jitter, capped, and overridden by
//! the service's own `Retry-After` when it sends one (no official Kusto SDK honours it; a
//! throttled cluster asking for 10 s should get 10 s, not a burst of early retries).

use std::future::Future;
use std::time::{Duration, SystemTime};

/// Retry timing, from `[sink.retry]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Backoff before the first retry; doubles per attempt.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// Streaming attempts before managed ingestion falls back to queued.
    pub streaming_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            streaming_attempts: 3,
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `attempt` (1 for the first retry). A
    /// `retry_after` from the service wins when given (capped at ten times `max_backoff`, so a
    /// confused server cannot stall the pipeline for hours); otherwise a random duration up
    /// to the exponential bound (full jitter spreads replicas' retries apart).
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_backoff * 10);
        }
        let exponent = attempt.saturating_sub(1).min(20);
        let bound = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        // At least a tenth of the bound, so retries never spin.
        let floor = bound / 10;
        floor + bound.saturating_sub(floor).mul_f64(fastrand::f64())
    }
}

/// Runs `call` (given the attempt number, from 1) up to `attempts` times. After a failure,
/// `again` says whether it is worth another try (`None`: give up now) and what the service
/// asked to wait (`Some(retry_after)`); the wait is [`RetryPolicy::backoff`]. The one retry
/// loop of the bounded callers (the checkpoint store's calls, the dedupe lookup), so that
/// every one of them honours `Retry-After` the same way.
pub async fn retry<T, E, Fut>(
    policy: &RetryPolicy,
    attempts: u32,
    mut call: impl FnMut(u32) -> Fut,
    again: impl Fn(&E) -> Option<Option<Duration>>,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match call(attempt).await {
            Ok(value) => return Ok(value),
            Err(e) => match again(&e) {
                Some(retry_after) if attempt < attempts => {
                    tokio::time::sleep(policy.backoff(attempt, retry_after)).await;
                    attempt += 1;
                }
                _ => return Err(e),
            },
        }
    }
}

/// Parses a `Retry-After` header: delta-seconds, or an HTTP date (a date in the past gives
/// zero). Shared by every client that talks to Azure.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date.with_timezone(&chrono::Utc));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn grows_exponentially_within_the_cap() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            streaming_attempts: 3,
        };
        for _ in 0..100 {
            let first = p.backoff(1, None);
            assert!(
                first >= Duration::from_millis(10) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = p.backoff(3, None);
            assert!(
                third >= Duration::from_millis(40) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            assert!(p.backoff(30, None) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(86_400))),
            Duration::from_secs(300)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_at_the_limit_or_a_permanent_failure_and_waits_as_asked() {
        let policy = RetryPolicy::default();
        let started = tokio::time::Instant::now();
        let calls = std::cell::Cell::new(0);
        let result: Result<(), &str> = retry(
            &policy,
            3,
            |_| {
                calls.set(calls.get() + 1);
                async { Err("busy") }
            },
            |_| Some(Some(Duration::from_secs(7))),
        )
        .await;
        assert_eq!(result, Err("busy"));
        assert_eq!(calls.get(), 3);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(14),
            "two waits of Retry-After"
        );

        calls.set(0);
        let result: Result<(), &str> = retry(
            &policy,
            3,
            |_| {
                calls.set(calls.get() + 1);
                async { Err("refused") }
            },
            |_| None,
        )
        .await;
        assert_eq!(result, Err("refused"));
        assert_eq!(calls.get(), 1, "a permanent failure is not retried");

        let result = retry(
            &policy,
            3,
            |attempt| async move {
                if attempt < 2 {
                    Err("once")
                } else {
                    Ok(attempt)
                }
            },
            |_| Some(None),
        )
        .await;
        assert_eq!(result, Ok(2));
    }
}
