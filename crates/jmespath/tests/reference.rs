//! Differential test of the JMESPath engine against the
//! reference implementation, Python's `jmespath` package (in the testkit's venv): thousands of
//! generated expressions over generated documents must give the same result, or both fail
//! (a syntax error in one is a syntax error in the other). `JMESPATH_CASES` sets how many
//! (default 4,000); `JMESPATH_SEED` replays one run.

#[path = "support/generate.rs"]
mod generate;

use iotc_adx_jmespath::Expression;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// One generated case and both engines' answers.
struct Case {
    expression: String,
    document: String,
}

/// The reference's answer for each case, in order.
fn reference(cases: &[Case]) -> Vec<Value> {
    let python = iotc_adx_testkit::python::python().expect("the testkit's Python venv");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/reference.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python starts");
    let mut input = String::new();
    for c in cases {
        input.push_str(&json!({"expression": c.expression, "document": c.document}).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("python runs");
    writer.join().unwrap().expect("cases written to python");
    assert!(out.status.success(), "the reference script failed");
    let answers: Vec<Value> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("the reference writes JSON"))
        .collect();
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}

/// JMESPath equality: numbers by value (`2` equals `2.0`), integers exactly, objects
/// whatever their key order.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Errors the engine finds when compiling, anywhere in the expression, where the reference
/// finds them only if evaluation reaches that part (it checks arity and names per call, and a
/// slice's step per slice). Finding them at start-up is the point of compiling transforms.
const STATIC_ERRORS: &[&str] = &["invalid-arity", "unknown-function", "invalid-value"];

/// `None` when the engine and the reference agree on `case`, else a report of both answers.
fn disagreement(case: &Case, answer: &Value) -> Option<String> {
    let compiled = Expression::compile(&case.expression);
    let ours = match &compiled {
        Err(e) => Err((true, e.kind().to_string(), e.to_string())),
        Ok(e) => {
            let doc: Value = serde_json::from_str(&case.document).unwrap();
            e.search(&doc)
                .map_err(|e| (false, e.kind().to_string(), e.to_string()))
        }
    };
    let agree = match (&ours, answer.get("ok")) {
        (Ok(v), Some(r)) => same(v, r),
        (Ok(_), None) => false,
        (Err((compile, kind, _)), Some(_)) => *compile && STATIC_ERRORS.contains(&kind.as_str()),
        // A syntax error in the reference must be one here too; any other failure may show
        // here when compiling already.
        (Err((compile, _, _)), None) => *compile || answer["parse"] != json!(true),
    };
    (!agree).then(|| {
        format!(
            "expression: {}\ndocument:   {}\nreference:  {answer}\nengine:     {ours:?}",
            case.expression, case.document
        )
    })
}

#[test]
fn the_engine_agrees_with_the_reference_implementation() {
    let count: usize = std::env::var("JMESPATH_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4_000);
    let seed: u64 = std::env::var("JMESPATH_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    // Half deep and varied; half shallow over flat documents, where operators and functions
    // meet the values they accept.
    let cases: Vec<Case> = (0..count)
        .map(|i| {
            let (expression, document) = if i % 2 == 0 {
                let e = generate::expression(&mut rng, 3);
                (e, generate::document(&mut rng, 3))
            } else {
                let e = generate::expression(&mut rng, 2);
                (e, generate::flat_document(&mut rng))
            };
            Case {
                expression,
                document: document.to_string(),
            }
        })
        .collect();
    let answers = reference(&cases);
    let values = answers.iter().filter(|a| a.get("ok").is_some()).count();
    let crashes = answers.iter().filter(|a| a.get("crash").is_some()).count();
    let failures: Vec<String> = cases
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.get("crash").is_none())
        .filter_map(|(c, a)| disagreement(c, a))
        .collect();
    println!(
        "seed {seed}: {count} cases, {values} with a value in the reference, {crashes} where it \
         crashed (not compared), {} disagreements",
        failures.len()
    );
    assert!(
        values * 2 > count,
        "most generated cases should evaluate to a value, not fail: {values} of {count}"
    );
    assert!(
        crashes * 20 < count,
        "the reference crashed on {crashes} of {count} cases: too many to call this compared"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases disagree (replay with JMESPATH_SEED={seed}); the first:\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
