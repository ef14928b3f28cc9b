//! Unit tests of the KQL subset over a small telemetry table.

use super::*;
use serde_json::{json, Value as J};
use std::collections::HashMap;

struct Cat(HashMap<String, DataTable>);

impl Catalog for Cat {
    fn table(&self, name: &str) -> Option<&DataTable> {
        self.0.get(name)
    }
}

fn col(name: &str, kind: &str) -> Column {
    Column {
        name: name.into(),
        kind: kind.into(),
    }
}

fn catalog() -> Cat {
    let t = DataTable {
        name: "T".into(),
        columns: vec![
            col("Timestamp", "datetime"),
            col("Device", "string"),
            col("Value", "real"),
            col("Count", "long"),
            col("Ok", "bool"),
            col("Props", "dynamic"),
            col("Dur", "timespan"),
            col("Id", "guid"),
        ],
        rows: vec![
            vec![
                json!("2026-01-01T11:50:00.0000000Z"),
                json!("dev-a"),
                json!(1.5),
                json!(10),
                json!(true),
                json!({"temp": 20, "name": "A", "arr": [1, 2]}),
                json!("00:00:01"),
                json!("11111111-1111-1111-1111-111111111111"),
            ],
            vec![
                json!("2026-01-01T11:52:30.0000000Z"),
                json!("dev-b"),
                json!(2.5),
                json!(20),
                json!(false),
                json!({"temp": 25.5}),
                json!("1.00:00:00"),
                json!("22222222-2222-2222-2222-222222222222"),
            ],
            vec![
                json!("2026-01-01T11:57:00.0000000Z"),
                json!("dev-a"),
                J::Null,
                json!(30),
                json!(true),
                J::Null,
                J::Null,
                J::Null,
            ],
            vec![
                json!("2026-01-01T10:00:00.0000000Z"),
                json!("Dev-C"),
                json!(4.0),
                J::Null,
                J::Null,
                json!({"temp": 30}),
                json!("00:30:00"),
                J::Null,
            ],
            vec![
                json!("2026-01-01T11:58:00.0000000Z"),
                json!("dev-b"),
                json!(3.5),
                json!(50),
                json!(true),
                json!({"name": "B"}),
                json!("-00:00:05.5000000"),
                J::Null,
            ],
        ],
    };
    let empty = DataTable {
        name: "Empty".into(),
        columns: vec![col("X", "long"), col("S", "string")],
        rows: vec![],
    };
    let mut space = t.clone();
    space.name = "My Table".into();
    Cat(HashMap::from([
        ("T".to_string(), t),
        ("Empty".to_string(), empty),
        ("My Table".to_string(), space),
    ]))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The query over the catalog's decoded rows and over its column stores (which must agree).
fn both(q: &str) -> Result<DataTable, KqlError> {
    let cat = catalog();
    let params = serde_json::Map::new();
    super::testing::both(&cat.0, |c| execute_request(q, c, now(), &params)).map(|o| o.table)
}

fn run(q: &str) -> DataTable {
    match both(q) {
        Ok(t) => t,
        Err(e) => panic!("query {q:?} failed: {e} at {}", e.position),
    }
}

fn fail(q: &str) -> KqlError {
    match both(q) {
        Ok(t) => panic!("query {q:?} unexpectedly succeeded: {t:?}"),
        Err(e) => e,
    }
}

fn schema(t: &DataTable) -> Vec<(String, String)> {
    t.columns
        .iter()
        .map(|c| (c.name.clone(), c.kind.clone()))
        .collect()
}

fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn column(t: &DataTable, name: &str) -> Vec<J> {
    let i = t
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    t.rows.iter().map(|r| r[i].clone()).collect()
}

fn devices(q: &str) -> Vec<J> {
    column(&run(q), "Device")
}

#[test]
fn take_limit_count() {
    assert_eq!(run("T | take 2").rows.len(), 2);
    assert_eq!(run("T | limit 10").rows.len(), 5);
    assert_eq!(run("T | take 0").rows.len(), 0);
    let c = run("T | count");
    assert_eq!(c.name, "PrimaryResult");
    assert_eq!(schema(&c), s(&[("Count", "long")]));
    assert_eq!(c.rows, vec![vec![json!(5)]]);
    assert_eq!(
        run("T | where Device == 'dev-a' | count").rows,
        vec![vec![json!(2)]]
    );
    assert_eq!(run("Empty | count").rows, vec![vec![json!(0)]]);
}

#[test]
fn identity_keeps_wire_forms_and_types() {
    let t = run("T");
    assert_eq!(t.columns, catalog().0["T"].columns);
    assert_eq!(t.rows[0][0], json!("2026-01-01T11:50:00.0000000Z"));
    assert_eq!(t.rows[1][6], json!("1.00:00:00"));
    assert_eq!(t.rows[4][6], json!("-00:00:05.5000000"));
    assert_eq!(t.rows[2][2], J::Null);
    assert_eq!(t.rows[0][7], json!("11111111-1111-1111-1111-111111111111"));
    assert_eq!(
        t.rows[0][5],
        json!({"temp": 20, "name": "A", "arr": [1, 2]})
    );
}

#[test]
fn quoted_table_names_comments_and_newlines() {
    assert_eq!(run("['My Table'] | count").rows, vec![vec![json!(5)]]);
    assert_eq!(
        run("[\"T\"]\n// a comment | take 1\n| where Count > 15 // trailing\n| count").rows,
        vec![vec![json!(3)]]
    );
}

#[test]
fn where_comparisons() {
    assert_eq!(devices("T | where Count == 20"), vec![json!("dev-b")]);
    assert_eq!(
        devices("T | where Count != 20"),
        vec![
            json!("dev-a"),
            json!("dev-a"),
            json!("Dev-C"),
            json!("dev-b")
        ],
        "null != x is true"
    );
    assert_eq!(
        devices("T | where Count == long(null)").len(),
        0,
        "null == null is null"
    );
    assert_eq!(
        devices("T | where Count < 15"),
        vec![json!("dev-a")],
        "null < x is null"
    );
    let t = run(
        "T | project a = Count == 20, b = Count != 20, c = Count > 20, d = Count == long(null)",
    );
    assert_eq!(t.rows[3], vec![json!(false), json!(true), J::Null, J::Null]);
    assert_eq!(devices("T | where Count !in (10, 20)").len(), 3);
    assert_eq!(devices("T | where Value < 2"), vec![json!("dev-a")]);
    assert_eq!(
        devices("T | where Value <= 2.5"),
        vec![json!("dev-a"), json!("dev-b")]
    );
    assert_eq!(
        devices("T | where Count > 20"),
        vec![json!("dev-a"), json!("dev-b")]
    );
    assert_eq!(
        devices("T | where Count >= 20 and Value > 3"),
        vec![json!("dev-b")]
    );
    assert_eq!(
        devices("T | where Value > 3.9 or Count == 10"),
        vec![json!("dev-a"), json!("Dev-C")]
    );
    assert_eq!(
        devices("T | where Device == 'dev-c'").len(),
        0,
        "== is case-sensitive"
    );
    assert_eq!(devices("T | where Device =~ 'dev-c'"), vec![json!("Dev-C")]);
    assert_eq!(devices("T | where Device !~ 'DEV-A'").len(), 3);
    assert_eq!(
        devices("T | where Timestamp < datetime(2026-01-01T11:00:00Z)"),
        vec![json!("Dev-C")]
    );
    assert_eq!(
        devices("T | where Timestamp >= datetime(2026-01-01 11:57)").len(),
        2
    );
    assert_eq!(devices("T | where Ok == true").len(), 3);
    assert_eq!(devices("T | where Ok").len(), 3);
    assert_eq!(devices("T | where not(Ok)"), vec![json!("dev-b")]);
    assert_eq!(devices("T | where Dur > 1h"), vec![json!("dev-b")]);
    assert_eq!(
        devices("T | where Id == guid(22222222-2222-2222-2222-222222222222)"),
        vec![json!("dev-b")]
    );
    assert_eq!(
        devices("T | where (Count == 10 or Count == 20) and Ok"),
        vec![json!("dev-a")]
    );
}

#[test]
fn where_string_operators() {
    assert_eq!(
        devices("T | where Device contains 'V-C'"),
        vec![json!("Dev-C")]
    );
    assert_eq!(devices("T | where Device contains_cs 'V-C'").len(), 0);
    assert_eq!(devices("T | where Device !contains 'dev'").len(), 0);
    assert_eq!(devices("T | where Device startswith 'DEV-'").len(), 5);
    assert_eq!(
        devices("T | where Device startswith_cs 'Dev'"),
        vec![json!("Dev-C")]
    );
    assert_eq!(devices("T | where Device endswith 'b'").len(), 2);
    assert_eq!(devices("T | where Device !endswith 'b'").len(), 3);
    assert_eq!(devices("T | where Device has 'C'"), vec![json!("Dev-C")]);
    assert_eq!(
        devices("T | where Device has 'de'").len(),
        0,
        "has matches whole terms only"
    );
    assert_eq!(devices("T | where Device !has 'a'").len(), 3);
    assert_eq!(devices("T | where Device in ('dev-a', 'Dev-C')").len(), 3);
    assert_eq!(devices("T | where Device in ('DEV-A')").len(), 0);
    assert_eq!(devices("T | where Device in~ ('DEV-A')").len(), 2);
    assert_eq!(
        devices("T | where Device !in ('dev-a', 'dev-b')"),
        vec![json!("Dev-C")]
    );
    assert_eq!(devices("T | where Count in (10, 50)").len(), 2);
    assert_eq!(devices("T | where Count between (15 .. 30)").len(), 2);
    assert_eq!(devices("T | where Count !between (15 .. 30)").len(), 2);
    assert_eq!(
        devices("T | where Timestamp between (datetime(2026-01-01T11:50) .. 5m)").len(),
        2
    );
    assert_eq!(devices("T | where Value between (1 .. 2.5)").len(), 2);
}

#[test]
fn null_and_empty_tests() {
    assert_eq!(devices("T | where isnull(Value)"), vec![json!("dev-a")]);
    assert_eq!(devices("T | where isnotnull(Count)").len(), 4);
    assert_eq!(devices("T | where isnull(Props)").len(), 1);
    assert_eq!(
        devices("T | where isnull(Device)").len(),
        0,
        "strings are never null"
    );
    assert_eq!(devices("T | where isempty(Props.name)").len(), 3);
    assert_eq!(devices("T | where isnotempty(Device)").len(), 5);
    assert_eq!(devices("T | where isempty(Id)").len(), 3);
}

#[test]
fn project_extend_and_friends() {
    let t = run("T | project Device, V2 = Value * 2, C = Count + 1, Props.temp, ['Ts'] = Timestamp | take 2");
    assert_eq!(
        schema(&t),
        s(&[
            ("Device", "string"),
            ("V2", "real"),
            ("C", "long"),
            ("Props_temp", "dynamic"),
            ("Ts", "datetime")
        ])
    );
    assert_eq!(
        t.rows[0],
        vec![
            json!("dev-a"),
            json!(3.0),
            json!(11),
            json!(20),
            json!("2026-01-01T11:50:00.0000000Z")
        ]
    );
    let t = run("T | project-away Props, Dur, Id, Ok | take 1");
    assert_eq!(
        schema(&t),
        s(&[
            ("Timestamp", "datetime"),
            ("Device", "string"),
            ("Value", "real"),
            ("Count", "long")
        ])
    );
    let t = run("T | project-away D* | take 1");
    assert_eq!(t.columns.len(), 6);
    let t = run("T | project-rename When = Timestamp, Dev = Device | take 1");
    assert_eq!(t.columns[0].name, "When");
    assert_eq!(t.columns[1].name, "Dev");
    let t = run("T | extend Double = Count * 2, Quad = Double * 2, Value = Value + 1 | take 1");
    assert_eq!(t.columns.len(), 10);
    assert_eq!(
        t.columns[9],
        col("Value", "real"),
        "a replaced column moves to the end"
    );
    assert_eq!(t.columns[2], col("Count", "long"));
    assert_eq!(&t.rows[0][7..], &[json!(20), json!(40), json!(2.5)]);
    assert_eq!(
        run("T | extend Props.temp | take 1").columns[8].name,
        "Props_temp"
    );
}

#[test]
fn arithmetic_typing_and_wire_forms() {
    let t = run(
        "T | where Device == 'dev-b' | take 1 | project a = Count / 3, b = Count % 7, c = Count / 8.0, d = -Count, \
         e = Timestamp + 1h, f = now() - Timestamp, g = Timestamp - 1d, h = 2 * 1h + 30m, i = 1h / 30m, j = 1.5 + 1, \
         k = datetime(2026-01-01) - datetime(2025-12-30T12:00:00.5Z), l = Dur * 2",
    );
    assert_eq!(
        schema(&t),
        s(&[
            ("a", "long"),
            ("b", "long"),
            ("c", "real"),
            ("d", "long"),
            ("e", "datetime"),
            ("f", "timespan"),
            ("g", "datetime"),
            ("h", "timespan"),
            ("i", "real"),
            ("j", "real"),
            ("k", "timespan"),
            ("l", "timespan")
        ])
    );
    assert_eq!(
        t.rows[0],
        vec![
            json!(6),
            json!(6),
            json!(2.5),
            json!(-20),
            json!("2026-01-01T12:52:30.0000000Z"),
            json!("00:07:30"),
            json!("2025-12-31T11:52:30.0000000Z"),
            json!("02:30:00"),
            json!(2.0),
            json!(2.5),
            json!("1.11:59:59.5000000"),
            json!("2.00:00:00")
        ]
    );
    assert_eq!(
        run("T | project x = Value + Count").rows[2][0],
        J::Null,
        "null propagates"
    );
    assert_eq!(
        run("T | project x = -7 / 2, y = -7 % 2 | take 1").rows[0],
        vec![json!(-3), json!(1)],
        "division truncates; modulo is never negative"
    );
}

#[test]
fn literals() {
    let t = run("T | take 1 | project a = 1d, b = 100ms, c = time(01:02:03), d = timespan(1.02:03:04.5), e = 1.5h, f = \"dq\", g = @'c:\\x', h = 'it\\'s', i = datetime(2026-01-01), j = false, k = long(null), l = 10s + 1tick, m = 2.5e1");
    assert_eq!(
        t.rows[0],
        vec![
            json!("1.00:00:00"),
            json!("00:00:00.1000000"),
            json!("01:02:03"),
            json!("1.02:03:04.5000000"),
            json!("01:30:00"),
            json!("dq"),
            json!("c:\\x"),
            json!("it's"),
            json!("2026-01-01T00:00:00.0000000Z"),
            json!(false),
            J::Null,
            json!("00:00:10.0000001"),
            json!(25.0)
        ]
    );
    assert_eq!(t.columns[10].kind, "long");
}

#[test]
fn scalar_functions() {
    let t = run(
        "T | take 1 | project a = tostring(Count), b = tostring(Value), c = toint('42'), d = tolong(Value), e = todouble(Count), \
         f = toreal('2.5'), g = todatetime('2026-02-03T04:05:06Z'), h = strlen(Device), i = tolower('AbC'), j = toupper(Device), \
         k = iff(Count > 5, 'big', 'small'), l = iif(Ok, 1, 2.5), m = coalesce(tolong(Props.missing), Count), n = tostring(Timestamp), \
         o = tostring(Props.name), p = toint(Props.temp), q = todouble(Props.temp), r = tostring(Props), s = toint('x'), t = tostring(Ok)",
    );
    assert_eq!(
        schema(&t)
            .iter()
            .map(|(_, k)| k.as_str())
            .collect::<Vec<_>>(),
        vec![
            "string", "string", "int", "long", "real", "real", "datetime", "long", "string",
            "string", "string", "real", "long", "string", "string", "int", "real", "string", "int",
            "string"
        ]
    );
    // tostring(dynamic) is the bag's JSON text; its key order depends on serde_json's
    // `preserve_order` feature (on in the workspace), so compare it as JSON.
    let mut row = t.rows[0].clone();
    let bag: J = serde_json::from_str(row[17].as_str().unwrap_or_default()).unwrap_or(J::Null);
    assert_eq!(bag, json!({"arr": [1, 2], "name": "A", "temp": 20}));
    row[17] = json!("(checked above)");
    assert_eq!(
        row,
        vec![
            json!("10"),
            json!("1.5"),
            json!(42),
            json!(1),
            json!(10.0),
            json!(2.5),
            json!("2026-02-03T04:05:06.0000000Z"),
            json!(5),
            json!("abc"),
            json!("DEV-A"),
            json!("big"),
            json!(1.0),
            json!(10),
            json!("2026-01-01T11:50:00.0000000Z"),
            json!("A"),
            json!(20),
            json!(20.0),
            json!("(checked above)"),
            J::Null,
            json!("true")
        ]
    );
    assert_eq!(
        column(&run("T | project c = coalesce(Value, 0.0)"), "c")[2],
        json!(0.0)
    );
}

#[test]
fn dynamic_access() {
    let t = run("T | project a = Props.temp, b = Props['name'], c = Props.arr[1], d = Props.arr[5], e = Props.name.x | take 1");
    assert_eq!(
        t.rows[0],
        vec![json!(20), json!("A"), json!(2), J::Null, J::Null]
    );
    assert!(t.columns.iter().all(|c| c.kind == "dynamic"));
    assert_eq!(
        devices("T | where Props.temp > 21"),
        vec![json!("dev-b"), json!("Dev-C")]
    );
    assert_eq!(devices("T | where Props.name == 'B'"), vec![json!("dev-b")]);
    assert_eq!(devices("T | where todouble(Props.temp) >= 25.5").len(), 2);
}

#[test]
fn bin_and_floor() {
    let t = run("T | take 2 | project a = bin(Timestamp, 5m), b = bin(Count, 7), c = bin(Value, 1), d = floor(Value, 0.5), e = bin(Dur, 1h), f = bin(Timestamp, 1d)");
    assert_eq!(
        schema(&t)
            .iter()
            .map(|(_, k)| k.as_str())
            .collect::<Vec<_>>(),
        vec!["datetime", "long", "real", "real", "timespan", "datetime"]
    );
    assert_eq!(
        t.rows[0],
        vec![
            json!("2026-01-01T11:50:00.0000000Z"),
            json!(7),
            json!(1.0),
            json!(1.5),
            json!("00:00:00"),
            json!("2026-01-01T00:00:00.0000000Z")
        ]
    );
    assert_eq!(t.rows[1][0], json!("2026-01-01T11:50:00.0000000Z"));
    assert_eq!(t.rows[1][4], json!("1.00:00:00"));
    assert_eq!(
        run("T | take 1 | project x = bin(-3, 2)").rows[0][0],
        json!(-4)
    );
    assert_eq!(
        run("print bin(4.5, 1), bin(time(16d), 7d), bin(5, -1), bin(2.5, -0.5)").rows[0],
        [json!(4.0), json!("14.00:00:00"), J::Null, J::Null]
    );
    assert!(fail("print bin(5, 0)").message.contains("zero"));
    assert!(fail("print bin(-9223372036854775807 - 1, 3)")
        .message
        .contains("overflow"));
    assert!(fail("print -9223372036854775807 - 2")
        .message
        .contains("overflow"));
    let e = fail("T | project x = bin(Timestamp, 7d)");
    assert!(e.message.contains("not supported"), "{e}");
}

#[test]
fn summarize_defaults_and_types() {
    let t = run("T | summarize count(), countif(Ok), sum(Count), avg(Value), min(Timestamp), max(Value), dcount(Device), sum(Value), avg(Count)");
    assert_eq!(
        schema(&t),
        s(&[
            ("count_", "long"),
            ("countif_", "long"),
            ("sum_Count", "long"),
            ("avg_Value", "real"),
            ("min_Timestamp", "datetime"),
            ("max_Value", "real"),
            ("dcount_Device", "long"),
            ("sum_Value", "real"),
            ("avg_Count", "real")
        ])
    );
    assert_eq!(
        t.rows,
        vec![vec![
            json!(5),
            json!(3),
            json!(110),
            json!(2.875),
            json!("2026-01-01T10:00:00.0000000Z"),
            json!(4.0),
            json!(3),
            json!(11.5),
            json!(27.5)
        ]]
    );
    let t = run(
        "T | summarize n = count(), total = sum(Count), a = avg(Count), m = max(Count) by Device",
    );
    assert_eq!(
        schema(&t),
        s(&[
            ("Device", "string"),
            ("n", "long"),
            ("total", "long"),
            ("a", "real"),
            ("m", "long")
        ])
    );
    assert_eq!(
        t.rows,
        vec![
            vec![json!("dev-a"), json!(2), json!(40), json!(20.0), json!(30)],
            vec![json!("dev-b"), json!(2), json!(70), json!(35.0), json!(50)],
            vec![json!("Dev-C"), json!(1), json!(0), json!("NaN"), J::Null],
        ],
        "nulls are ignored: sum of nothing is 0, avg is NaN, max is null"
    );
    let t = run("T | summarize count(Value), sum(Count), sum(Count), dcount(Ok)");
    assert_eq!(
        schema(&t),
        s(&[
            ("count_Value", "long"),
            ("sum_Count", "long"),
            ("sum_Count1", "long"),
            ("dcount_Ok", "long")
        ])
    );
    assert_eq!(t.rows[0], vec![json!(5), json!(110), json!(110), json!(2)]);
    let e = fail("T | summarize max(Props.temp) by Device");
    assert!(e.message.contains("dynamic"), "{e}");
    let e = fail("T | summarize n = count(), n = sum(Count)");
    assert!(e.message.contains("more than once"), "{e}");
}

#[test]
fn summarize_by_bin_and_expressions() {
    let t = run("T | summarize c = count() by bin(Timestamp, 5m)");
    assert_eq!(schema(&t), s(&[("Timestamp", "datetime"), ("c", "long")]));
    assert_eq!(
        t.rows,
        vec![
            vec![json!("2026-01-01T11:50:00.0000000Z"), json!(2)],
            vec![json!("2026-01-01T11:55:00.0000000Z"), json!(2)],
            vec![json!("2026-01-01T10:00:00.0000000Z"), json!(1)],
        ]
    );
    let t = run("T | summarize by Device, Hour = bin(Timestamp, 1h)");
    assert_eq!(schema(&t), s(&[("Device", "string"), ("Hour", "datetime")]));
    assert_eq!(t.rows.len(), 3);
    let e = fail("T | summarize count() by Props.name");
    assert!(e.message.contains("dynamic"), "{e}");
    let t = run("T | summarize count() by N = tostring(Props.name)");
    assert_eq!(
        t.rows,
        vec![
            vec![json!("A"), json!(1)],
            vec![json!(""), json!(3)],
            vec![json!("B"), json!(1)]
        ]
    );
    let t = run("Empty | summarize count(), sum(X), avg(X), max(X)");
    assert_eq!(
        t.rows,
        vec![vec![json!(0), json!(0), json!("NaN"), J::Null]]
    );
    assert_eq!(run("Empty | summarize count() by S").rows.len(), 0);
}

#[test]
fn order_by() {
    assert_eq!(
        column(&run("T | order by Count"), "Count"),
        vec![json!(50), json!(30), json!(20), json!(10), J::Null],
        "default desc, nulls last"
    );
    assert_eq!(
        column(&run("T | sort by Count asc"), "Count"),
        vec![J::Null, json!(10), json!(20), json!(30), json!(50)],
        "asc puts nulls first"
    );
    assert_eq!(
        column(&run("T | order by Count asc nulls last"), "Count"),
        vec![json!(10), json!(20), json!(30), json!(50), J::Null]
    );
    assert_eq!(
        column(&run("T | order by Count desc nulls first"), "Count")[0],
        J::Null
    );
    assert_eq!(
        column(&run("T | order by Device asc, Timestamp desc"), "Count"),
        vec![J::Null, json!(30), json!(10), json!(50), json!(20)],
        "ordinal strings: 'Dev-C' < 'dev-a'"
    );
    assert_eq!(
        column(&run("T | order by Timestamp asc | take 1"), "Device"),
        vec![json!("Dev-C")]
    );
    assert_eq!(
        column(&run("T | order by Dur"), "Dur")[0],
        json!("1.00:00:00")
    );
    let nan = "T | extend R = iff(Device == 'dev-b', todouble('NaN'), Value)";
    assert_eq!(
        column(&run(&format!("{nan} | order by R asc")), "R"),
        vec![J::Null, json!("NaN"), json!("NaN"), json!(1.5), json!(4.0)]
    );
    assert_eq!(
        column(&run(&format!("{nan} | order by R desc")), "R"),
        vec![json!(4.0), json!(1.5), json!("NaN"), json!("NaN"), J::Null]
    );
    assert_eq!(
        column(&run(&format!("{nan} | order by R desc nulls first")), "R"),
        vec![J::Null, json!("NaN"), json!("NaN"), json!(4.0), json!(1.5)]
    );
    assert!(fail("T | order by Ok").message.contains("bool"));
}

#[test]
fn top_and_distinct() {
    let t = run("T | top 2 by Value");
    assert_eq!(column(&t, "Value"), vec![json!(4.0), json!(3.5)]);
    assert_eq!(
        column(&run("T | top 2 by Value asc"), "Value"),
        vec![J::Null, json!(1.5)]
    );
    let t = run("T | distinct Device");
    assert_eq!(schema(&t), s(&[("Device", "string")]));
    assert_eq!(
        t.rows,
        vec![
            vec![json!("dev-a")],
            vec![json!("dev-b")],
            vec![json!("Dev-C")]
        ]
    );
    assert_eq!(run("T | distinct Device, Ok").rows.len(), 4);
    assert_eq!(run("T | project Device | distinct *").rows.len(), 3);
}

#[test]
fn report_queries() {
    let t = run("T | where Timestamp > ago(1h) | summarize avg(Value) by bin(Timestamp, 5m), Device | order by Timestamp asc");
    assert_eq!(
        schema(&t),
        s(&[
            ("Timestamp", "datetime"),
            ("Device", "string"),
            ("avg_Value", "real")
        ])
    );
    assert_eq!(
        t.rows,
        vec![
            vec![
                json!("2026-01-01T11:50:00.0000000Z"),
                json!("dev-a"),
                json!(1.5)
            ],
            vec![
                json!("2026-01-01T11:50:00.0000000Z"),
                json!("dev-b"),
                json!(2.5)
            ],
            vec![
                json!("2026-01-01T11:55:00.0000000Z"),
                json!("dev-a"),
                json!("NaN")
            ],
            vec![
                json!("2026-01-01T11:55:00.0000000Z"),
                json!("dev-b"),
                json!(3.5)
            ],
        ]
    );
    assert_eq!(run("T | count").rows, vec![vec![json!(5)]]);
    assert_eq!(run("T | take 10").rows.len(), 5);
    // The real clock entry point works too.
    assert!(execute("T | where Timestamp > ago(1h) | count", &catalog()).is_ok());
}

#[test]
fn errors_with_positions() {
    let e = fail("T | where Foo > 1");
    assert_eq!(
        (e.message.as_str(), e.position),
        ("Failed to resolve scalar expression named 'Foo'", 10)
    );
    let e = fail("T | extend x = foo(Count)");
    assert_eq!(
        (e.message.as_str(), e.position),
        ("Unknown function: 'foo'.", 15)
    );
    let e = fail("Nope | take 1");
    assert_eq!(
        (e.message.as_str(), e.position),
        (
            "Failed to resolve table or column expression named 'Nope'",
            0
        )
    );
    let e = fail("T | where Device == 1");
    assert!(
        e.message
            .starts_with("Cannot compare values of types string and long"),
        "{e}"
    );
    assert_eq!(e.position, 10);
    let e = fail("T | make-series n = count() on Timestamp step 1h");
    assert!(e.message.starts_with("Syntax error"), "{e}");
    assert_eq!(e.position, 4);
    let e = fail("T | where (Count > 1");
    assert!(e.message.starts_with("Syntax error"), "{e}");
    assert_eq!(e.position, 20);
    let e = fail("T | where Device == 'abc");
    assert_eq!(e.position, 20);
    let e = fail("T | project tostring(Count)");
    assert_eq!(e.position, 12);
    let e = fail("T | where count() > 1");
    assert_eq!(e.position, 10);
    let e = fail("T | where Count");
    assert!(e.message.contains("bool"), "{e}");
    let e = fail("T | summarize sum(Device)");
    assert_eq!(e.position, 14);
    let e = fail("T | summarize avg(todouble(Value))");
    assert!(e.message.contains("Name the aggregation"), "{e}");
    let e = fail("T | project Device + 'x'");
    assert_eq!(e.position, 12);
    let e = fail("T | take 1 | where Props.name > 1");
    assert!(e.message.contains("dynamic"), "{e}");
    let e = fail("T | project a = 1, a = 2");
    assert!(e.message.contains("more than once"), "{e}");
    let e = fail("T | where Value.x == 1");
    assert!(e.message.contains("dynamic"), "{e}");
    let e = fail("T | take Count");
    assert_eq!(e.position, 9);
    let e = fail("let f = (t:(x:long)) { t | count }; f(T)");
    assert!(e.message.contains("tabular parameters"), "{e}");
    let e = fail("let f = (x:long) { x + 1 | count }; T");
    assert!(
        e.message.contains("one scalar expression or one tabular"),
        "{e}"
    );
    let e = fail("T | where Timestamp > ago(1)");
    assert!(e.message.contains("ago"), "{e}");
    let e = fail("T | where Device contains 1");
    assert!(e.message.contains("string"), "{e}");
    let e = fail("T | where Device > 'a'");
    assert!(e.message.starts_with("Cannot compare"), "{e}");
    let e = fail("T | where Props.name == 1");
    assert!(e.message.contains("dynamic"), "{e}");
    let e = fail("T | where Timestamp > datetime(2026-13-01)");
    assert!(e.message.starts_with("Syntax error"), "{e}");
    assert_eq!(e.position, 22);
    let e = fail("T | where x == 1 | ");
    assert!(e.message.starts_with("Syntax error"), "{e}");
    assert_eq!(e.position, 19);
    let e = fail("T | take 1 | project y = 5 / 0");
    assert!(e.message.contains("Division by zero"), "{e}");
    let e = fail("T | order by Props");
    assert!(e.message.contains("dynamic"), "{e}");
    let e = fail("T | where Device has 'x' | where Device hasprefix 'a'");
    assert_eq!(e.position, 40);
}

#[test]
fn positions_count_characters_not_bytes() {
    let e = fail("T | where Device == 'é' and Bad == 1");
    assert_eq!(e.position, 28);
}

#[test]
fn never_panics_on_garbage() {
    let garbage = [
        "",
        "|",
        "T |",
        "T | where",
        "T | project",
        "T | summarize",
        "T | summarize by",
        "T | order",
        "T | order by",
        "T | top",
        "T | top 1",
        "T | where (((",
        "T | where Props[",
        "T | where Props[-",
        "T | where Props.",
        "datetime(",
        "T | where x in (",
        "T | where x between (1 ..",
        "T | project a =",
        "T | extend = 1",
        "[",
        "['x",
        "T | where '\\",
        "T | take -1",
        "T | take 99999999999999999999",
        "T | project 1.e5",
        "T | project a = 5xyz",
        "T | where Timestamp > datetime(2026-01-01T25:00)",
        "T | project-away",
        "T | project-rename a",
        "T | distinct",
        "T | where !",
        "T | where Device !in~ (",
        "T | project x = time(",
        "T | project x = guid(zz)",
        "T | where Count = 1",
        "T | where Count == 1 1",
        "T | project a = int(99999999999)",
        "T | project a = bool(3)",
        "T | project a = dynamic([1)",
        "\u{1F600}",
        "T | where Device == \"\u{1F600}",
    ];
    for q in garbage {
        assert!(
            execute_at(q, &catalog(), now()).is_err(),
            "{q:?} should fail"
        );
    }
}

#[test]
fn hostile_nesting_is_refused_not_overflowed() {
    let deep = format!(
        "T | where {}Count > 1{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(fail(&deep).message.contains("nested too deeply"));
    let chain = format!("T | project x = Count{}", " + 1".repeat(5000));
    assert!(fail(&chain).message.contains("nested too deeply"));
    let neg = format!("T | project x = {}1", "- ".repeat(5000));
    assert!(fail(&neg).message.contains("nested too deeply"));
    let members = format!("T | project x = Props{}", ".a".repeat(5000));
    assert!(fail(&members).message.contains("nested too deeply"));
    let ors = format!("T | where {}", vec!["Ok"; 5000].join(" or "));
    assert!(fail(&ors).message.contains("nested too deeply"));
    // Ordinary depth is fine, and the deepest accepted query fits in a 2 MiB thread stack
    // (the default for test threads and tokio workers).
    let fine = format!("T | project x = Count{} | take 1", " + 1".repeat(50));
    assert_eq!(run(&fine).rows[0][0], json!(60));
    let mut deepest = None;
    for n in 1..200 {
        let q = format!(
            "T | where {}-Count < 1{} | count",
            "(".repeat(n),
            ")".repeat(n)
        );
        match execute_at(&q, &catalog(), now()) {
            Ok(_) => deepest = Some(n),
            Err(_) => break,
        }
    }
    assert!(deepest.is_some_and(|n| n >= 20), "{deepest:?}");
    // The caller's stack does not matter: queries run on their own thread with a large stack.
    let n = deepest.unwrap_or(1);
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let ok = format!(
                "T | where {}-Count < 1{} | count",
                "(".repeat(n),
                ")".repeat(n)
            );
            let too_deep = format!(
                "T | where {}-Count < 1{} | count",
                "(".repeat(n + 1),
                ")".repeat(n + 1)
            );
            (
                execute_at(&ok, &catalog(), now()).is_ok(),
                execute_at(&too_deep, &catalog(), now()).is_err(),
            )
        })
        .expect("spawn");
    assert_eq!(handle.join().ok(), Some((true, true)));
}

#[test]
fn trailing_semicolon_and_long_fractions() {
    assert_eq!(run("T | count;").rows, vec![vec![json!(5)]]);
    assert_eq!(
        run("T | take 1 | project d = datetime(2026-01-01T00:00:00.123456700Z)").rows[0][0],
        json!("2026-01-01T00:00:00.1234567Z")
    );
    assert!(
        fail("T | take 1 | project d = datetime(2026-01-01T00:00:00.123456789Z)")
            .message
            .starts_with("Syntax error")
    );
    assert!(fail("T | where Device == 'a'; T")
        .message
        .starts_with("Syntax error"));
}

/// A tiny deterministic generator so the fuzz test needs no extra crates.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn fuzzed_queries_never_panic() {
    let pieces = [
        "T",
        " | ",
        "where ",
        "project ",
        "extend ",
        "summarize ",
        " by ",
        "order by ",
        "take ",
        "top ",
        "count",
        "distinct ",
        "project-away ",
        "project-rename ",
        "Count",
        "Value",
        "Device",
        "Timestamp",
        "Props",
        ".temp",
        "['name']",
        "[0]",
        "(",
        ")",
        ",",
        " = ",
        " == ",
        " != ",
        " < ",
        " >= ",
        " =~ ",
        " contains ",
        " has ",
        " in ",
        " !in ",
        " between ",
        " .. ",
        " and ",
        " or ",
        "not(",
        "1",
        "-",
        "2.5",
        "'x'",
        "\"y\"",
        "1h",
        "5m",
        "datetime(2026-01-01)",
        "time(1d)",
        "now()",
        "ago(1h)",
        "bin(",
        "floor(",
        "tostring(",
        "toint(",
        "todouble(",
        "iff(",
        "coalesce(",
        "count()",
        "sum(",
        "avg(",
        "min(",
        "max(",
        "dcount(",
        "countif(",
        " asc",
        " desc",
        " nulls first",
        "*",
        "/",
        "%",
        "+",
        "isnull(",
        "isempty(",
        "strlen(",
        "é",
        "\u{1F600}",
        "@'",
        "'",
        "\\",
        "//",
        "\n",
        ";",
        "!",
        "~",
        "[",
        "]",
        ".",
        "int(null)",
        "guid(",
        "long(",
        "0",
        "99999999999999999999",
    ];
    let cat = catalog();
    let mut rng = Lcg(42);
    for _ in 0..5_000 {
        let n = 1 + rng.next(14);
        let q: String = (0..n).map(|_| pieces[rng.next(pieces.len())]).collect();
        let _ = execute_at(&q, &cat, now());
        let q2 = format!("T | {}", q);
        let _ = execute_at(&q2, &cat, now());
    }
}

#[test]
fn arg_max_and_arg_min() {
    let t = run("T | summarize arg_max(Timestamp, *) by Device");
    assert_eq!(
        schema(&t),
        s(&[
            ("Device", "string"),
            ("Timestamp", "datetime"),
            ("Value", "real"),
            ("Count", "long"),
            ("Ok", "bool"),
            ("Props", "dynamic"),
            ("Dur", "timespan"),
            ("Id", "guid")
        ])
    );
    assert_eq!(
        t.rows[0][..4],
        [
            json!("dev-a"),
            json!("2026-01-01T11:57:00.0000000Z"),
            J::Null,
            json!(30)
        ]
    );
    assert_eq!(
        t.rows[1][..4],
        [
            json!("dev-b"),
            json!("2026-01-01T11:58:00.0000000Z"),
            json!(3.5),
            json!(50)
        ]
    );
    let t = run("T | summarize arg_min(Value, Device, Props.temp)");
    assert_eq!(
        schema(&t),
        s(&[
            ("Value", "real"),
            ("Device", "string"),
            ("Props_temp", "dynamic")
        ])
    );
    assert_eq!(t.rows, vec![vec![json!(1.5), json!("dev-a"), json!(20)]]);
    // A group whose keys are all null still returns a row (Kusto's documented behaviour).
    let t = run("T | where Device == 'Dev-C' | summarize arg_max(Count, Value) by Device");
    assert_eq!(t.rows, vec![vec![json!("Dev-C"), J::Null, json!(4.0)]]);
    assert!(fail("T | summarize x = arg_max(Count, *)")
        .message
        .contains("Naming"));
    assert!(fail("T | summarize arg_max(Count)")
        .message
        .contains("arg_max"));
    assert!(fail("T | summarize arg_max(Device, *)")
        .message
        .contains("string"));
    assert!(fail("T | where arg_max(Count, *) > 1")
        .message
        .contains("cannot be invoked"));
    assert!(fail("T | project *").message.contains("'*'"));
}

#[test]
fn print_statement() {
    let t = run("print 1, x = 'a', now(), 2h + 1h");
    assert_eq!(
        schema(&t),
        s(&[
            ("print_0", "long"),
            ("x", "string"),
            ("print_2", "datetime"),
            ("print_3", "timespan")
        ])
    );
    assert_eq!(
        t.rows,
        vec![vec![
            json!(1),
            json!("a"),
            json!("2026-01-01T12:00:00.0000000Z"),
            json!("03:00:00")
        ]]
    );
    assert_eq!(
        run("print x = 5 | extend y = x * 2").rows,
        vec![vec![json!(5), json!(10)]]
    );
    assert_eq!(
        fail("print Count").message,
        "Failed to resolve scalar expression named 'Count'"
    );
    assert!(
        fail("print").message.starts_with("Failed to resolve table"),
        "a table named print"
    );
}

#[test]
fn take_any_star_keeps_one_row_per_group() {
    let t = run("T | summarize take_any(*) by Device");
    assert_eq!(
        schema(&t),
        s(&[
            ("Device", "string"),
            ("Timestamp", "datetime"),
            ("Value", "real"),
            ("Count", "long"),
            ("Ok", "bool"),
            ("Props", "dynamic"),
            ("Dur", "timespan"),
            ("Id", "guid")
        ])
    );
    let all = run("T | distinct Device");
    assert_eq!(t.rows.len(), all.rows.len(), "one row per device");
    // Each row is a whole input row of its group (the group's first).
    let first = run("T | where Device == 'dev-a' | take 1");
    let dev_a = t.rows.iter().find(|r| r[0] == json!("dev-a")).unwrap();
    assert_eq!(dev_a[1], first.rows[0][0]);
    assert_eq!(dev_a[3], first.rows[0][3]);
    // Two keys: every column but the keys is returned.
    let t = run("T | summarize take_any(*) by Device, Count");
    assert_eq!(t.columns.len(), 8);
    assert!(fail("T | summarize take_any(Value)")
        .message
        .contains("take_any(*)"));
    assert!(fail("T | summarize x = take_any(*) by Device")
        .message
        .contains("take_any(*)"));
}
