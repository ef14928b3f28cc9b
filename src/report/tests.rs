//! `[reports]` and `[[report]]` from TOML: defaults, inheritance from the pipeline, a
//! configuration of reports only, and every bad value explained by its key path.

use crate::config::{load_str, load_str_with_env, Problem};
use crate::report::settings::{ExportSettings, MissedRuns, QueryText, WebhookFormat};
use std::time::Duration;

const REPORTS_ONLY: &str = r#"
[auth]
type = "none"

[reports]
cluster = "http://127.0.0.1:8080"
database = "iot"
missed = "skip"
history.path = "h/reports.db"

[[report]]
name = "silent-devices"
query = "T | summarize max(ts) by dev"
every = "15m"
when.rows = "> 0"
alert.key = ["dev"]
[[report.webhook]]
format = "teams"
url_env = "TEAMS_URL"

[[report]]
name = "tables"
command = ".show tables details"
schedule = "0 8 * * 1-5"
time_zone = "Europe/Berlin"
timeout = "10m"
max_rows = 10
[[report.export]]
url = "http://127.0.0.1:9/rows"
page_rows = 100
"#;

fn problems(text: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().unwrap();
    load_str(text, dir.path()).unwrap_err().problems
}

#[test]
fn a_configuration_of_reports_only_loads_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let env = [(
        "TEAMS_URL".to_string(),
        "https://example.webhook.office.com/k/secret".to_string(),
    )];
    let s = load_str_with_env(REPORTS_ONLY, dir.path(), env).unwrap();
    assert!(s.source.is_none() && s.sink.is_none() && s.pipeline().is_none());
    let r = &s.reports;
    assert_eq!(r.missed, MissedRuns::Skip);
    assert_eq!(r.history.path, dir.path().join("h/reports.db"));
    assert_eq!(r.history.keep_runs, 1000);
    assert_eq!(r.lease_container, None);
    let silent = &r.reports[0];
    assert_eq!(silent.cluster.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(silent.database, "iot");
    assert_eq!(silent.timeout, Duration::from_secs(90));
    assert_eq!(silent.max_rows, 500_000);
    assert_eq!(silent.max_bytes, 64 * 1024 * 1024);
    assert!(matches!(silent.text, QueryText::Query(_)));
    assert_eq!(silent.alert.as_ref().unwrap().key, vec!["dev".to_string()]);
    assert!(silent.alert.as_ref().unwrap().resolve);
    assert_eq!(silent.webhooks[0].format, WebhookFormat::Teams);
    assert_eq!(silent.webhooks[0].url.0.path(), "/k/secret");
    assert!(
        !format!("{s:?}").contains("secret"),
        "settings never show the key"
    );
    let tables = &r.reports[1];
    assert!(matches!(tables.text, QueryText::Command(_)));
    assert_eq!(tables.timeout, Duration::from_secs(600));
    assert!(tables
        .schedule
        .as_ref()
        .unwrap()
        .describe()
        .contains("Europe/Berlin"));
    assert!(matches!(
        &tables.exports[0],
        ExportSettings::Url { page_rows: 100, .. }
    ));
}

#[test]
fn reports_inherit_the_sinks_cluster_and_the_destinations_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jmespath"), "{Device: deviceId}\n").unwrap();
    std::fs::write(dir.path().join("q.kql"), "// hourly\nT | count\n").unwrap();
    let text = r#"
[source]
type = "eventhubs"
connection_string = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5;EntityPath=hub"
checkpoint_container = "https://acct.blob.core.windows.net/checkpoints"
[sink]
type = "kusto"
cluster = "https://c.westeurope.kusto.windows.net"
[auth]
type = "azure_cli"
[[destination]]
name = "d"
transform = "t.jmespath"
database = "telemetrydb"
table = "T"
columns = "Device:string"
[[report]]
name = "hourly"
file = "q.kql"
schedule = "0 * * * *"
"#;
    let s = load_str(text, dir.path()).unwrap();
    let r = &s.reports.reports[0];
    assert_eq!(
        r.cluster.as_str(),
        "https://c.westeurope.kusto.windows.net/"
    );
    assert_eq!(r.database, "telemetrydb");
    assert_eq!(r.text, QueryText::Query("// hourly\nT | count\n".into()));
    assert_eq!(
        s.reports.lease_container.as_ref().map(|u| u.as_str()),
        Some("https://acct.blob.core.windows.net/checkpoints")
    );
}

#[test]
fn every_bad_report_value_is_named_by_its_key() {
    let text = r#"
[auth]
type = "none"
[reports]
missed = "sometimes"
time_zone = "Mars/Base"
[[report]]
name = "bad name!"
query = ".show tables"
schedule = "every hour"
timeout = "2h"
when.rows = "lots"
when.expression = "rows[?"
[[report.webhook]]
format = "email"
url = "x"
[[report.webhook]]
url_env = "NOT_SET_ANYWHERE_42"
[[report.export]]
table = "T"
url = "http://x"
[[report]]
name = "no-text"
cluster = "ftp://c"
every = "soon"
"#;
    let keys: Vec<String> = problems(text).into_iter().map(|p| p.key).collect();
    for expected in [
        "reports.time_zone",
        "reports.missed",
        "report[0].name",
        "report[0].cluster",
        "report[0].database",
        "report[0].query",
        "report[0].schedule",
        "report[0].timeout",
        "report[0].when.rows",
        "report[0].when.expression",
        "report[0].webhook[0].format",
        "report[0].webhook[1].url_env",
        "report[0].export[0]",
        "report[1]",
        "report[1].cluster",
        "report[1].every",
    ] {
        assert!(
            keys.contains(&expected.to_string()),
            "{expected} missing from {keys:?}"
        );
    }
}

#[test]
fn messages_say_what_to_write_instead() {
    let p = problems(
        r#"
[auth]
type = "none"
[[report]]
name = "a"
cluster = "http://127.0.0.1:1"
database = "d"
command = "T | count"
[[report]]
name = "a"
cluster = "http://127.0.0.1:1"
database = "d"
query = "T"
unknown_key = 1
"#,
    );
    let text = format!("{p:?}");
    assert!(
        text.contains("a control command starts with a dot"),
        "{text}"
    );
    assert!(text.contains("unknown field `unknown_key`"), "{text}");
}

#[test]
fn reports_need_auth() {
    let p = problems(
        r#"
[[report]]
name = "a"
cluster = "http://127.0.0.1:1"
database = "d"
query = "T"
"#,
    );
    assert_eq!(p[0].key, "auth");
}

#[test]
fn every_bad_mail_value_is_named_by_its_key() {
    let text = r#"
[auth]
type = "none"
[reports]
cluster = "http://127.0.0.1:8080"
database = "iot"
[reports.smtp]
security = "ssl"
username = "u"
password_env = "NOT_SET_ANYWHERE_43"
from = "not an address"
ca_file = "missing.pem"
timeout = "soon"
[[report]]
name = "r"
query = "T"
[[report.email]]
to = ["ops@", "{{ row.x"]
cc = ["ok@example.com"]
subject = "{% if %}"
importance = "urgent"
body = "poster"
charts = ["radar"]
attach = ["pdf"]
max_rows = 0
attempts = 99
template = "missing.html"
[[report.email]]
"#;
    let found = problems(text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "reports.smtp.host",
        "reports.smtp.security",
        "reports.smtp.password_env",
        "reports.smtp.from",
        "reports.smtp.ca_file",
        "reports.smtp.timeout",
        "report[0].email[0].to[0]",
        "report[0].email[0].to[1]",
        "report[0].email[0].subject",
        "report[0].email[0].importance",
        "report[0].email[0].body",
        "report[0].email[0].charts[0]",
        "report[0].email[0].attach[0]",
        "report[0].email[0].max_rows",
        "report[0].email[0].attempts",
        "report[0].email[0].template",
        "report[0].email[1].to",
    ] {
        assert!(keys.contains(&expected), "{expected} not in {found:#?}");
    }
    let no_server = "[auth]\ntype = \"none\"\n[reports]\ncluster = \"http://c\"\ndatabase = \"d\"\n[[report]]\nname = \"r\"\nquery = \"T\"\n[[report.email]]\nto = [\"a@example.com\"]\n";
    let found = problems(no_server);
    assert_eq!(found[0].key, "report[0].email[0]");
    assert!(found[0].message.contains("[reports.smtp]"), "{found:?}");
}

#[test]
fn the_smtp_password_comes_from_the_environment_and_is_never_shown() {
    let text = "[auth]\ntype = \"none\"\n[reports]\ncluster = \"http://c\"\ndatabase = \"d\"\n[reports.smtp]\nhost = \"mail.example.com\"\nusername = \"u\"\nfrom = \"a@example.com\"\n[[report]]\nname = \"r\"\nquery = \"T\"\n";
    let dir = tempfile::tempdir().unwrap();
    let env = [(
        "IOTC_ADX__REPORTS__SMTP__PASSWORD".to_string(),
        "hunter2-secret".to_string(),
    )];
    let s = load_str_with_env(text, dir.path(), env).unwrap().reports;
    let smtp = s.smtp.unwrap();
    assert_eq!(smtp.port, 587, "STARTTLS's port by default");
    assert_eq!(smtp.credentials.as_ref().unwrap().1 .0, "hunter2-secret");
    assert!(!format!("{smtp:?}").contains("hunter2"), "{smtp:?}");
    let missing = problems(text);
    assert!(
        missing[0]
            .message
            .contains("IOTC_ADX__REPORTS__SMTP__PASSWORD"),
        "{missing:?}"
    );
}
