//! The condition step: does `when` hold for this result? The row count is compared, and the
//! JMESPath expression is evaluated over `{row_count, columns, rows}` and must be truthy
//! (an empty list, `false`, `null` and `""` are not).

use super::outcome::{RunFailure, Step};
use super::result::ReportResult;
use super::settings::{Comparison, Condition};

/// Whether `when` holds; an expression that fails to evaluate fails the run.
pub fn holds(when: &Condition, result: &ReportResult) -> Result<bool, RunFailure> {
    if let Some((op, n)) = when.rows {
        let rows = result.rows.len() as u64;
        let ok = match op {
            Comparison::Gt => rows > n,
            Comparison::Ge => rows >= n,
            Comparison::Lt => rows < n,
            Comparison::Le => rows <= n,
            Comparison::Eq => rows == n,
            Comparison::Ne => rows != n,
        };
        if !ok {
            return Ok(false);
        }
    }
    if let Some(e) = &when.expression {
        let value = e.search(&result.document()).map_err(|err| {
            RunFailure::failed(
                Step::Condition,
                format!("when.expression {:?} failed: {err}", e.as_str()),
            )
        })?;
        return Ok(iotc_adx_jmespath::is_truthy(&value));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::result::ResultColumn;
    use iotc_adx_jmespath::Expression;
    use serde_json::json;

    fn result(values: &[i64]) -> ReportResult {
        ReportResult {
            columns: vec![ResultColumn {
                name: "Temperature".into(),
                r#type: "long".into(),
            }],
            rows: values.iter().map(|v| vec![json!(v)]).collect(),
            visualization: None,
        }
    }

    #[test]
    fn row_counts_and_expressions() {
        let always = Condition::default();
        assert!(holds(&always, &result(&[])).unwrap());
        let some = Condition {
            rows: Some((Comparison::Gt, 0)),
            expression: None,
        };
        assert!(!holds(&some, &result(&[])).unwrap());
        assert!(holds(&some, &result(&[1])).unwrap());
        let hot = Condition {
            rows: None,
            expression: Some(Expression::compile("rows[?Temperature > `80`]").unwrap()),
        };
        assert!(!holds(&hot, &result(&[20, 79])).unwrap());
        assert!(holds(&hot, &result(&[20, 81])).unwrap());
        let both = Condition {
            rows: Some((Comparison::Ge, 3)),
            expression: hot.expression.clone(),
        };
        assert!(!holds(&both, &result(&[81, 20])).unwrap());
        assert!(holds(&both, &result(&[81, 20, 1])).unwrap());
        let count = Condition {
            rows: None,
            expression: Some(Expression::compile("row_count == `2`").unwrap()),
        };
        assert!(holds(&count, &result(&[1, 2])).unwrap());
    }
}
