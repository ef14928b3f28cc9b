//! The constructs reports use: query parameters, `render`, every `join` kind, `percentile`.

use super::*;
use serde_json::{json, Map, Value as J};
use std::collections::HashMap;

struct Cat(HashMap<String, DataTable>);

impl Catalog for Cat {
    fn table(&self, name: &str) -> Option<&DataTable> {
        self.0.get(name)
    }
}

fn table(name: &str, cols: &[(&str, &str)], rows: Vec<Vec<J>>) -> (String, DataTable) {
    (
        name.to_string(),
        DataTable {
            name: name.into(),
            columns: cols
                .iter()
                .map(|(n, k)| Column {
                    name: (*n).into(),
                    kind: (*k).into(),
                })
                .collect(),
            rows,
        },
    )
}

/// Devices (d1, d2, d3) and telemetry (d1 twice, d2 once, d9 unknown).
fn catalog() -> Cat {
    Cat(HashMap::from([
        table(
            "Devices",
            &[("DeviceId", "string"), ("Site", "string")],
            vec![
                vec![json!("d1"), json!("north")],
                vec![json!("d2"), json!("south")],
                vec![json!("d3"), json!("south")],
            ],
        ),
        table(
            "Telemetry",
            &[("DeviceId", "string"), ("Ts", "datetime"), ("V", "long")],
            vec![
                vec![json!("d1"), json!("2026-12-03T10:00:00Z"), json!(10)],
                vec![json!("d1"), json!("2026-12-03T10:30:00Z"), json!(20)],
                vec![json!("d2"), json!("2026-12-03T09:00:00Z"), json!(30)],
                vec![json!("d9"), json!("2026-12-03T10:10:00Z"), json!(40)],
            ],
        ),
    ]))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-03T11:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn run(q: &str, params: &[(&str, &str)]) -> Result<QueryOutput, KqlError> {
    let p: Map<String, J> = params
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    super::testing::both(&catalog().0, |c| execute_request(q, c, now(), &p))
}

fn rows(q: &str) -> Vec<Vec<J>> {
    run(q, &[])
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .table
        .rows
}

#[test]
fn query_parameters_are_values_from_the_request() {
    let q = "declare query_parameters(start:datetime, end:datetime, min:long = 15);\n\
             Telemetry | where Ts >= start and Ts < end and V >= min | project DeviceId, V";
    let out = run(
        q,
        &[
            ("start", "datetime(2026-12-03T10:00:00Z)"),
            ("end", "datetime(2026-12-03T11:00:00.0000000Z)"),
        ],
    )
    .unwrap();
    assert_eq!(
        out.table.rows,
        vec![vec![json!("d1"), json!(20)], vec![json!("d9"), json!(40)]]
    );
    // A bare datetime and an explicit default both work.
    let out = run(
        q,
        &[
            ("start", "2026-12-03T09:00:00Z"),
            ("end", "2026-12-03T09:30:00Z"),
            ("min", "1"),
        ],
    )
    .unwrap();
    assert_eq!(out.table.rows, vec![vec![json!("d2"), json!(30)]]);
    // Strings arrive as their plain text.
    let s = "declare query_parameters(dev:string); Telemetry | where DeviceId == dev | count";
    assert_eq!(
        run(s, &[("dev", "d1")]).unwrap().table.rows,
        vec![vec![json!(2)]]
    );
    let missing = run(q, &[("start", "datetime(2026-12-03T10:00:00Z)")]).unwrap_err();
    assert!(missing.message.contains("'end'"), "{missing}");
    let wrong = run(q, &[("start", "yesterday"), ("end", "x")]).unwrap_err();
    assert!(wrong.message.contains("not a valid datetime"), "{wrong}");
    let no_semicolon = run("declare query_parameters(a:long) Telemetry", &[]).unwrap_err();
    assert!(no_semicolon.message.contains("';'"), "{no_semicolon}");
}

#[test]
fn render_annotates_without_changing_rows() {
    let q = "Telemetry | summarize V = sum(V) by bin(Ts, 1h) | order by Ts asc \
             | render timechart with (title=\"Load\", xcolumn=Ts, ycolumns=V, ymin=0, legend=hidden)";
    let out = run(q, &[]).unwrap();
    assert_eq!(out.table.rows.len(), 2);
    let v = out.visualization.unwrap();
    assert_eq!(v["Visualization"], "timechart");
    assert_eq!(v["Title"], "Load");
    assert_eq!(v["XColumn"], "Ts");
    assert_eq!(v["YColumns"], "V");
    assert_eq!(v["Legend"], "hidden");
    assert_eq!(v["Ymin"], 0.0);
    assert_eq!(v["Ymax"], "NaN");
    assert_eq!(v["Series"], J::Null);
    assert_eq!(v["IsQuerySorted"], true);
    let list = run(
        "Devices | extend a = 1, b = 2 | render columnchart with (ycolumns=a, b, title='x')",
        &[],
    );
    let v = list.unwrap().visualization.unwrap();
    assert_eq!(v["YColumns"], "a,b", "a list stops at the next property");
    assert_eq!(v["Title"], "x");
    let pie = run(
        "Devices | summarize n = count() by Site | render piechart",
        &[],
    )
    .unwrap();
    assert_eq!(pie.visualization.unwrap()["Visualization"], "piechart");
    assert_eq!(run("Devices", &[]).unwrap().visualization, None);
    let e = run("Devices | render piechart | take 1", &[]).unwrap_err();
    assert!(e.message.contains("last operator"), "{e}");
    let e = run("Devices | render pies", &[]).unwrap_err();
    assert!(e.message.contains("not a render kind"), "{e}");
}

#[test]
fn joins_of_every_kind() {
    let silent = "Devices | join kind=leftanti (Telemetry | where Ts > ago(45m)) on DeviceId";
    assert_eq!(
        rows(silent),
        vec![
            vec![json!("d2"), json!("south")],
            vec![json!("d3"), json!("south")]
        ]
    );
    let inner =
        rows("Devices | join kind=inner (Telemetry) on DeviceId | project DeviceId, DeviceId1, V");
    assert_eq!(
        inner,
        vec![
            vec![json!("d1"), json!("d1"), json!(10)],
            vec![json!("d1"), json!("d1"), json!(20)],
            vec![json!("d2"), json!("d2"), json!(30)]
        ]
    );
    // innerunique (the default) keeps one left row per key: here the left has duplicates.
    let unique = rows("Telemetry | join (Devices) on DeviceId | project V, Site");
    assert_eq!(
        unique,
        vec![
            vec![json!(10), json!("north")],
            vec![json!(30), json!("south")]
        ]
    );
    let outer = rows("Devices | join kind=leftouter (Telemetry | where V > 15) on $left.DeviceId == $right.DeviceId | project DeviceId, V");
    assert_eq!(
        outer,
        vec![
            vec![json!("d1"), json!(20)],
            vec![json!("d2"), json!(30)],
            vec![json!("d3"), J::Null]
        ]
    );
    assert_eq!(
        rows("Devices | join kind=leftsemi (Telemetry) on DeviceId | count"),
        vec![vec![json!(2)]]
    );
    assert_eq!(
        rows("Devices | join kind=rightanti (Telemetry) on DeviceId | project DeviceId"),
        vec![vec![json!("d9")]]
    );
    assert_eq!(
        rows("Devices | join kind=rightsemi (Telemetry) on DeviceId | count"),
        vec![vec![json!(3)]]
    );
    assert_eq!(
        rows("Devices | join kind=fullouter (Telemetry) on DeviceId | count"),
        vec![vec![json!(5)]]
    );
    assert_eq!(
        rows("Devices | join kind=rightouter (Telemetry) on DeviceId | count"),
        vec![vec![json!(4)]]
    );
    let e = run("Devices | join (Telemetry) on Nope", &[]).unwrap_err();
    assert!(e.message.contains("'Nope'"), "{e}");
    let e = run("Devices | join kind=sideways (Telemetry) on DeviceId", &[]).unwrap_err();
    assert!(e.message.contains("not a join kind"), "{e}");
    let e = run(
        "Devices | join (Telemetry) on $left.DeviceId == $right.V",
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("different types"), "{e}");
}

#[test]
fn summaries_reports_write() {
    let hourly = rows(
        "Telemetry | where Ts between (datetime(2026-12-03T09:00:00Z) .. datetime(2026-12-03T11:00:00Z)) \
         | summarize n = count(), devices = dcount(DeviceId), avg_v = avg(V), lo = min(V), hi = max(V), \
           total = sum(V), p50 = percentile(V, 50), percentile(V, 95) by Hour = bin(Ts, 1h) \
         | order by Hour asc",
    );
    assert_eq!(
        hourly,
        vec![
            vec![
                json!("2026-12-03T09:00:00.0000000Z"),
                json!(1),
                json!(1),
                json!(30.0),
                json!(30),
                json!(30),
                json!(30),
                json!(30),
                json!(30)
            ],
            vec![
                json!("2026-12-03T10:00:00.0000000Z"),
                json!(3),
                json!(2),
                json!(70.0 / 3.0),
                json!(10),
                json!(40),
                json!(70),
                json!(20),
                json!(40)
            ],
        ]
    );
    let out = run("Telemetry | summarize percentile(V, 95)", &[]).unwrap();
    assert_eq!(out.table.columns[0].name, "percentile_V_95");
    let latest = rows(
        "Telemetry | summarize arg_max(Ts, *) by DeviceId | top 2 by Ts desc | project DeviceId, V",
    );
    assert_eq!(
        latest,
        vec![vec![json!("d1"), json!(20)], vec![json!("d9"), json!(40)]]
    );
    let e = run("Telemetry | summarize percentile(V, 101)", &[]).unwrap_err();
    assert!(e.message.contains("0 to 100"), "{e}");
    let e = run("Telemetry | summarize percentile(DeviceId, 50)", &[]).unwrap_err();
    assert!(e.message.contains("type 'string'"), "{e}");
}
