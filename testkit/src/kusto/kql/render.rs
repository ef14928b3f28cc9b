//! The `Visualization` annotation a query's `render` operator produces: what the service
//! returns in the v2 `@ExtendedProperties` (QueryProperties) table, keys as the service names
//! them, unset properties null (`Ymin`/`Ymax` "NaN").

use super::ast::{OpKind, Query, RenderValue};
use serde_json::{json, Map, Value};

/// The visualization of `q`, when its last operator is `render`.
pub fn visualization(q: &Query) -> Option<Value> {
    let OpKind::Render { kind, props } = &q.ops.last()?.kind else {
        return None;
    };
    let get = |name: &str| props.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let text = |name: &str| match get(name) {
        Some(RenderValue::Text(t)) => json!(t),
        Some(RenderValue::Number(n)) => json!(n.to_string()),
        Some(RenderValue::Bool(b)) => json!(b.to_string()),
        None => Value::Null,
    };
    let number = |name: &str| match get(name) {
        Some(RenderValue::Number(n)) => json!(n),
        _ => json!("NaN"),
    };
    let sorted = q
        .ops
        .iter()
        .any(|o| matches!(o.kind, OpKind::Sort(_) | OpKind::Top(..)));
    let mut v = Map::new();
    v.insert("Visualization".into(), json!(kind));
    for (key, prop) in [
        ("Title", "title"),
        ("XColumn", "xcolumn"),
        ("Series", "series"),
        ("YColumns", "ycolumns"),
        ("AnomalyColumns", "anomalycolumns"),
        ("XTitle", "xtitle"),
        ("YTitle", "ytitle"),
        ("XAxis", "xaxis"),
        ("YAxis", "yaxis"),
        ("Legend", "legend"),
        ("YSplit", "ysplit"),
    ] {
        v.insert(key.into(), text(prop));
    }
    v.insert(
        "Accumulate".into(),
        json!(matches!(get("accumulate"), Some(RenderValue::Bool(true)))),
    );
    v.insert("IsQuerySorted".into(), json!(sorted));
    v.insert("Kind".into(), text("kind"));
    v.insert("Ymin".into(), number("ymin"));
    v.insert("Ymax".into(), number("ymax"));
    v.insert("Xmin".into(), text("xmin"));
    v.insert("Xmax".into(), text("xmax"));
    Some(Value::Object(v))
}
