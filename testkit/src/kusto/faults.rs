//! Fault injection: the next N requests of a route class answer 429 with `Retry-After`, a 5xx,
//! arrive late, or lose their connection; and `.get ingestion resources` can hand out SAS
//! tokens that expire early. Tests use these to watch client retries.

use std::sync::Mutex;
use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// `POST /v1/rest/mgmt`
    Mgmt,
    /// `POST /v1/rest/query`, `POST /v2/rest/query`
    Query,
    /// `POST /v1/rest/ingest/{db}/{table}`
    Ingest,
    /// Every route.
    Any,
}

impl RouteClass {
    /// The class of a request path (`None` for routes faults never touch).
    pub fn of_path(path: &str) -> Option<RouteClass> {
        if path.starts_with("/v1/rest/mgmt") {
            Some(RouteClass::Mgmt)
        } else if path.starts_with("/v1/rest/query") || path.starts_with("/v2/rest/query") {
            Some(RouteClass::Query)
        } else if path.starts_with("/v1/rest/ingest/") {
            Some(RouteClass::Ingest)
        } else {
            None
        }
    }

    fn matches(self, actual: RouteClass) -> bool {
        self == RouteClass::Any || self == actual
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 429 (`code` "TooManyRequests") with `Retry-After: <seconds>`.
    Throttle {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Answer this status (e.g. 500, 503, 504) with a transient OneApiError.
    Status(u16),
    /// Wait this long, then serve the request normally.
    Delay(Duration),
    /// Close the connection without answering.
    Reset,
}

/// A fault armed for the next `count` requests of `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which requests.
    pub class: RouteClass,
    /// What happens to them.
    pub kind: FaultKind,
    /// How many requests are still affected.
    pub count: usize,
}

/// The armed faults (first match wins) and SAS settings.
#[derive(Debug, Default)]
pub(super) struct Faults {
    armed: Mutex<Vec<Fault>>,
    sas_lifetime: Mutex<Option<Duration>>,
}

impl Faults {
    pub(super) fn arm(&self, fault: Fault) {
        if fault.count > 0 {
            if let Ok(mut armed) = self.armed.lock() {
                armed.push(fault);
            }
        }
    }

    pub(super) fn clear(&self) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.clear();
        }
    }

    /// Consumes one use of the first fault armed for `class`.
    pub(super) fn take(&self, class: RouteClass) -> Option<FaultKind> {
        let mut armed = self.armed.lock().ok()?;
        let index = armed.iter().position(|f| f.class.matches(class))?;
        let kind = armed[index].kind.clone();
        armed[index].count -= 1;
        if armed[index].count == 0 {
            armed.remove(index);
        }
        Some(kind)
    }

    pub(super) fn set_sas_lifetime(&self, lifetime: Option<Duration>) {
        if let Ok(mut l) = self.sas_lifetime.lock() {
            *l = lifetime;
        }
    }

    pub(super) fn sas_lifetime(&self) -> Option<Duration> {
        self.sas_lifetime.lock().ok().and_then(|l| *l)
    }
}
