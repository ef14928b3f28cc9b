//! `[reports]` and `[[report]]` checked into [`ReportsSettings`], each problem under its key
//! path (`report[1].timeout`); none stops the search for the next. Secrets named by
//! `url_env` are read from the environment the configuration was loaded with.

use super::raw::{ReportConfig, ReportsConfig};
use super::schedule::{time_zone, Schedule};
use super::settings::{
    HistorySettings, HistoryTableSettings, MissedRuns, QueryText, ReportSettings, ReportsSettings,
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, MAX_TIMEOUT,
};
use super::validate_actions::{alert, condition, exports, webhooks};
use super::validate_mail::{emails, smtp};
use crate::settings_check::Checker;
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What reports take from the rest of the configuration when they do not say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    /// `[sink] cluster`.
    pub cluster: Option<url::Url>,
    /// The destinations' database, when they all share one.
    pub database: Option<String>,
    /// The Event Hubs source's checkpoint container.
    pub lease_container: Option<url::Url>,
}

/// Checks `[reports]` and every `[[report]]`.
pub(crate) fn reports(
    c: &mut Checker,
    section: Option<Value>,
    list: Option<Value>,
    defaults: &Defaults,
    env: &HashMap<String, String>,
) -> Option<ReportsSettings> {
    let shared: ReportsConfig = match section {
        None => ReportsConfig::default(),
        Some(v) => c.section("reports", v)?,
    };
    let items = match list {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            c.problem(
                "report",
                "must be an array of tables: write each one under [[report]]",
            );
            return None;
        }
    };
    let zone = match shared.time_zone.as_deref() {
        None => Tz::UTC,
        Some(name) => match time_zone(name) {
            Ok(tz) => tz,
            Err(e) => {
                c.problem("reports.time_zone", e.to_string());
                Tz::UTC
            }
        },
    };
    let cluster = shared
        .cluster
        .as_deref()
        .and_then(|t| url_at(c, "reports.cluster", t))
        .or_else(|| defaults.cluster.clone());
    let database = shared
        .database
        .clone()
        .or_else(|| defaults.database.clone());
    let smtp = shared.smtp.as_ref().and_then(|s| smtp(c, s, env));
    let inherited = Inherited {
        cluster,
        database,
        zone,
        has_smtp: shared.smtp.is_some(),
    };
    let mut names = HashSet::new();
    let mut reports = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("report[{i}]");
        let Some(r) = c.section::<ReportConfig>(&key, item) else {
            continue;
        };
        if !names.insert(r.name.clone()) {
            c.problem(
                format!("{key}.name"),
                format!(
                    "{:?} is used by another report: names must be unique",
                    r.name
                ),
            );
        }
        if let Some(s) = report(c, &key, r, &inherited, env) {
            reports.push(s);
        }
    }
    let table = history_table(c, &shared, &inherited);
    Some(ReportsSettings {
        reports,
        history: HistorySettings {
            table,
            ..history(c, &shared)
        },
        missed: missed(c, shared.missed.as_deref()),
        lease_container: lease(c, &shared, defaults),
        smtp,
    })
}

struct Inherited {
    cluster: Option<url::Url>,
    database: Option<String>,
    zone: Tz,
    has_smtp: bool,
}

fn report(
    c: &mut Checker,
    key: &str,
    r: ReportConfig,
    inherited: &Inherited,
    env: &HashMap<String, String>,
) -> Option<ReportSettings> {
    let before = c.problems_len();
    if r.name.is_empty()
        || !r
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        c.problem(
            format!("{key}.name"),
            format!(
                "{:?} is not a report name: use letters, digits, '-' and '_'",
                r.name
            ),
        );
    }
    let cluster = match r.cluster.as_deref() {
        Some(t) => url_at(c, &format!("{key}.cluster"), t),
        None => inherited.cluster.clone().or_else(|| {
            c.problem(
                format!("{key}.cluster"),
                "no cluster: set it here, in [reports] cluster, or use a [sink] type = \"kusto\"",
            );
            None
        }),
    };
    let database = r.database.clone().or_else(|| inherited.database.clone());
    if database.is_none() {
        c.problem(
            format!("{key}.database"),
            "no database: set it here or in [reports] database",
        );
    }
    let text = query_text(c, key, &r);
    let schedule = schedule(c, key, &r, inherited.zone);
    let window = r
        .window
        .as_deref()
        .and_then(|w| c.duration(&format!("{key}.window"), w));
    let timeout = match r.timeout.as_deref() {
        None => DEFAULT_TIMEOUT,
        Some(t) => timeout_at(c, &format!("{key}.timeout"), t),
    };
    let max_rows = r.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    c.range(&format!("{key}.max_rows"), max_rows, 1, u64::MAX);
    let max_bytes = r.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    c.range(&format!("{key}.max_bytes"), max_bytes, 1, u64::MAX);
    let when = condition(c, key, r.when.as_ref());
    let alert = r.alert.as_ref().map(alert);
    let webhooks = webhooks(c, key, &r.webhook, env);
    let is_command = matches!(text, Some(QueryText::Command(_)));
    let exports = exports(c, key, &r.export, is_command, env);
    let emails = emails(c, key, &r.email, inherited.has_smtp);
    let time_zone = r
        .time_zone
        .as_deref()
        .and_then(|n| time_zone(n).ok())
        .unwrap_or(inherited.zone);
    if c.problems_len() > before {
        return None;
    }
    Some(ReportSettings {
        name: r.name,
        description: r.description,
        cluster: cluster?,
        database: database?,
        text: text?,
        schedule,
        window,
        timeout,
        max_rows,
        max_bytes,
        enabled: r.enabled.unwrap_or(true),
        when,
        for_each_row: r.for_each_row.unwrap_or(false),
        alert,
        webhooks,
        exports,
        emails,
        time_zone,
    })
}

/// Exactly one of `query`, `command`, `file`; a command starts with a dot, a query does not.
fn query_text(c: &mut Checker, key: &str, r: &ReportConfig) -> Option<QueryText> {
    let given = [&r.query, &r.command, &r.file]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if given != 1 {
        c.problem(
            key.to_string(),
            "give exactly one of query, command or file (a .kql file)",
        );
        return None;
    }
    if let Some(q) = &r.query {
        if q.trim_start().starts_with('.') {
            c.problem(
                format!("{key}.query"),
                "starts with a dot, so it is a control command: write it as command = \"...\"",
            );
            return None;
        }
        return Some(QueryText::Query(q.clone()));
    }
    if let Some(cmd) = &r.command {
        if !cmd.trim_start().starts_with('.') {
            c.problem(
                format!("{key}.command"),
                "a control command starts with a dot (such as .show tables details); write a query as query = \"...\"",
            );
            return None;
        }
        return Some(QueryText::Command(cmd.clone()));
    }
    let file = r.file.as_deref().unwrap_or_default();
    let path = c.path(file);
    match std::fs::read_to_string(&path) {
        Ok(t) if t.trim_start().starts_with('.') => Some(QueryText::Command(t)),
        Ok(t) if t.trim().is_empty() => {
            c.problem(
                format!("{key}.file"),
                format!("{} is empty", path.display()),
            );
            None
        }
        Ok(t) => Some(QueryText::Query(t)),
        Err(e) => {
            c.problem(
                format!("{key}.file"),
                format!("cannot read {}: {e}", path.display()),
            );
            None
        }
    }
}

fn schedule(c: &mut Checker, key: &str, r: &ReportConfig, zone: Tz) -> Option<Schedule> {
    let zone = match r.time_zone.as_deref() {
        None => zone,
        Some(name) => match time_zone(name) {
            Ok(tz) => tz,
            Err(e) => {
                c.problem(format!("{key}.time_zone"), e.to_string());
                return None;
            }
        },
    };
    let every = match r.every.as_deref() {
        None => None,
        Some(t) => Some(c.duration(&format!("{key}.every"), t)?),
    };
    if r.schedule.is_none() && every.is_none() {
        return None;
    }
    match Schedule::new(r.schedule.as_deref().map(|s| (s, zone)), every) {
        Ok(s) => Some(s),
        Err(e) => {
            let field = if r.schedule.is_some() {
                "schedule"
            } else {
                "every"
            };
            c.problem(format!("{key}.{field}"), e.to_string());
            None
        }
    }
}

fn timeout_at(c: &mut Checker, key: &str, text: &str) -> Duration {
    let Some(d) = c.duration(key, text) else {
        return DEFAULT_TIMEOUT;
    };
    if d > MAX_TIMEOUT {
        c.problem(
            key,
            format!("{text:?} is longer than the service's limit of 1h"),
        );
    }
    d
}

/// An http(s) URL.
pub(super) fn url_at(c: &mut Checker, key: &str, text: &str) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(u),
        _ => {
            let mut shown = text.to_string();
            shown.truncate(shown.find('?').unwrap_or(shown.len()));
            c.problem(key, format!("{shown:?} is not an http(s) URL"));
            None
        }
    }
}

fn history(c: &mut Checker, shared: &ReportsConfig) -> HistorySettings {
    let h = &shared.history;
    let keep_runs = h.keep_runs.unwrap_or(1000);
    c.range("reports.history.keep_runs", keep_runs, 1, 10_000_000);
    let keep_days = h.keep_days.unwrap_or(30);
    c.range("reports.history.keep_days", keep_days, 1, 3650);
    HistorySettings {
        path: c.path(h.path.as_deref().unwrap_or("reports.db")),
        keep_runs,
        keep: Duration::from_secs(keep_days * 86_400),
        table: None,
    }
}

fn history_table(
    c: &mut Checker,
    shared: &ReportsConfig,
    inherited: &Inherited,
) -> Option<HistoryTableSettings> {
    let h = &shared.history;
    let table = h.table.clone()?;
    let cluster = match h.cluster.as_deref() {
        Some(t) => url_at(c, "reports.history.cluster", t),
        None => inherited.cluster.clone(),
    };
    let database = h.database.clone().or_else(|| inherited.database.clone());
    match (cluster, database) {
        (Some(cluster), Some(database)) => Some(HistoryTableSettings {
            cluster,
            database,
            table,
        }),
        _ => {
            c.problem(
                "reports.history.table",
                "the history table needs a cluster and a database: set [reports] cluster and database (or history.cluster, history.database)",
            );
            None
        }
    }
}

fn missed(c: &mut Checker, text: Option<&str>) -> MissedRuns {
    match text {
        None | Some("run_once") => MissedRuns::RunOnce,
        Some("skip") => MissedRuns::Skip,
        Some(other) => {
            c.problem(
                "reports.missed",
                format!("{other:?} is not a policy: expected \"run_once\" or \"skip\""),
            );
            MissedRuns::RunOnce
        }
    }
}

fn lease(c: &mut Checker, shared: &ReportsConfig, defaults: &Defaults) -> Option<url::Url> {
    if shared.lease.enabled == Some(false) {
        return None;
    }
    match shared.lease.container.as_deref() {
        Some(t) => url_at(c, "reports.lease.container", t),
        None => defaults.lease_container.clone(),
    }
}
