//! Random JMESPath expressions and documents for the differential test against the reference
//! implementation (`tests/reference.rs`). Only the JMESPath specification's grammar
//! and functions are generated (the reference knows none of the Community additions); most
//! expressions are valid, some are not on purpose, and both kinds must be judged alike.

use fastrand::Rng;
use serde_json::{json, Map, Value};

/// Names used both as object keys in documents and as identifiers in expressions, so that
/// expressions find data.
const NAMES: &[&str] = &["a", "b", "c", "foo", "bar", "a b", "ünï"];

/// Strings that appear as values: comparable, sortable, some containing others.
const STRINGS: &[&str] = &["", "a", "ab", "b", "foo", "foobar", "Zeta", "x,y", "é"];

/// A random document: objects, arrays and scalars, at most `depth` levels deep.
pub fn document(rng: &mut Rng, depth: u32) -> Value {
    let pick = if depth == 0 {
        rng.u32(0..6)
    } else {
        rng.u32(0..9)
    };
    match pick {
        0 => Value::Null,
        1 => Value::Bool(rng.bool()),
        2 => json!(rng.i64(-2..6)),
        3 => json!(float(rng)),
        4 | 5 => json!(STRINGS[rng.usize(..STRINGS.len())]),
        6 => {
            // Arrays of one kind are what functions such as sort and sum accept.
            let n = rng.usize(0..5);
            let kind = rng.u32(0..3);
            Value::Array(
                (0..n)
                    .map(|_| match kind {
                        0 => json!(rng.i64(-5..20)),
                        1 => json!(STRINGS[rng.usize(..STRINGS.len())]),
                        _ => document(rng, depth - 1),
                    })
                    .collect(),
            )
        }
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.usize(0..5) {
                map.insert(name(rng).to_string(), document(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// A flat document of small numbers and strings under every name: shallow expressions over
/// it reach operators and functions with values they accept, and often with equal values.
pub fn flat_document(rng: &mut Rng) -> Value {
    let mut map = Map::new();
    for n in NAMES {
        let value = match rng.u32(0..5) {
            0 => json!(rng.i64(-2..4)),
            1 => json!(f64::from(rng.i32(-4..8)) / 2.0),
            2 => json!(STRINGS[rng.usize(..STRINGS.len())]),
            3 => json!((0..rng.usize(0..4))
                .map(|_| rng.i64(-2..4))
                .collect::<Vec<_>>()),
            _ => json!((0..rng.usize(0..4))
                .map(|_| STRINGS[rng.usize(..STRINGS.len())])
                .collect::<Vec<_>>()),
        };
        map.insert(n.to_string(), value);
    }
    Value::Object(map)
}

/// A float with a short, exact decimal form (halves and quarters), as devices send them.
fn float(rng: &mut Rng) -> f64 {
    f64::from(rng.i32(-40..80)) / 4.0 + if rng.bool() { 0.0 } else { 0.5 }
}

fn name(rng: &mut Rng) -> &'static str {
    NAMES[rng.usize(..NAMES.len())]
}

fn identifier(rng: &mut Rng) -> String {
    let n = name(rng);
    if n.chars().all(|c| c.is_ascii_alphabetic()) && rng.u32(0..4) > 0 {
        n.to_string()
    } else {
        format!("\"{n}\"")
    }
}

/// A random expression, at most `depth` operators deep.
pub fn expression(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 {
        return leaf(rng);
    }
    let d = depth - 1;
    match rng.u32(0..22) {
        0..=2 => leaf(rng),
        3 | 4 => format!("{}.{}", operand(rng, d), identifier(rng)),
        5 => format!("{}[{}]", operand(rng, d), rng.i32(-3..4)),
        6 => format!("{}[{}]", operand(rng, d), slice(rng)),
        7 => format!("{}[*].{}", operand(rng, d), identifier(rng)),
        8 => format!("{}[]", operand(rng, d)),
        9 => format!("{}.*", operand(rng, d)),
        10 => format!("{}[?{}]", operand(rng, d), condition(rng, d)),
        11 => format!("{} | {}", expression(rng, d), expression(rng, d)),
        12 => format!("{} || {}", operand(rng, d), operand(rng, d)),
        13 => format!("{} && {}", operand(rng, d), operand(rng, d)),
        14 => format!("!{}", operand(rng, d)),
        15 => condition(rng, d),
        16 => format!("[{}, {}]", expression(rng, d), expression(rng, d)),
        17 => format!(
            "{{{}: {}, {}: {}}}",
            identifier(rng),
            expression(rng, d),
            identifier(rng),
            expression(rng, d)
        ),
        18..=20 => function(rng, d),
        _ => broken(rng, d),
    }
}

/// An expression that can stand on the left of `.`, `[` or an operator: sometimes in
/// parentheses, sometimes bare, so that precedence is exercised too.
fn operand(rng: &mut Rng, depth: u32) -> String {
    let e = expression(rng, depth);
    if rng.u32(0..3) == 0 {
        e
    } else {
        format!("({e})")
    }
}

fn leaf(rng: &mut Rng) -> String {
    match rng.u32(0..8) {
        0 => "@".to_string(),
        1 => format!("`{}`", document(rng, 1)),
        2 => format!("'{}'", STRINGS[rng.usize(..STRINGS.len())]),
        _ => identifier(rng),
    }
}

fn slice(rng: &mut Rng) -> String {
    let part = |rng: &mut Rng| {
        if rng.bool() {
            rng.i32(-4..5).to_string()
        } else {
            String::new()
        }
    };
    let (start, stop) = (part(rng), part(rng));
    match rng.u32(0..3) {
        0 => format!("{start}:{stop}"),
        // Step 0 is an error in both.
        1 => format!("{start}:{stop}:{}", rng.i32(-2..3)),
        _ => format!("{start}:{stop}:"),
    }
}

fn condition(rng: &mut Rng, depth: u32) -> String {
    const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
    let left = operand(rng, depth);
    // Equal sides, and small numbers that documents hold too, so that the boundary of
    // every operator (`<` against `<=`) is met often.
    let right = match rng.u32(0..4) {
        0 => left.clone(),
        1 => format!("`{}`", rng.i64(-2..6)),
        _ => operand(rng, depth),
    };
    format!("{left} {} {right}", OPS[rng.usize(..OPS.len())])
}

/// A call of one of the specification's functions, mostly with the right number of
/// arguments; the wrong types are what documents give.
fn function(rng: &mut Rng, depth: u32) -> String {
    const ONE: &[&str] = &[
        "abs",
        "avg",
        "ceil",
        "floor",
        "keys",
        "length",
        "max",
        "min",
        "not_null",
        "reverse",
        "sort",
        "sum",
        "to_array",
        "to_number",
        "to_string",
        "type",
        "values",
    ];
    const TWO: &[&str] = &[
        "contains",
        "ends_with",
        "starts_with",
        "join",
        "merge",
        "not_null",
    ];
    const BY: &[&str] = &["sort_by", "max_by", "min_by"];
    let arg = |rng: &mut Rng| expression(rng, depth);
    match rng.u32(0..10) {
        0..=4 => format!("{}({})", ONE[rng.usize(..ONE.len())], arg(rng)),
        5..=6 => format!(
            "{}({}, {})",
            TWO[rng.usize(..TWO.len())],
            arg(rng),
            arg(rng)
        ),
        7 => format!(
            "{}({}, &{})",
            BY[rng.usize(..BY.len())],
            arg(rng),
            identifier(rng)
        ),
        8 => format!("map(&{}, {})", arg(rng), arg(rng)),
        // Wrong arity or an unknown function: an error in both.
        _ => format!("{}()", ONE[rng.usize(..ONE.len())]),
    }
}

/// A syntax error, in one of several ways.
fn broken(rng: &mut Rng, depth: u32) -> String {
    let e = expression(rng, depth);
    match rng.u32(0..6) {
        0 => format!("{e}."),
        1 => format!("{e}["),
        2 => format!("({e}"),
        3 => format!("{e} &&"),
        4 => format!("{e}[?]"),
        _ => format!("{{{e}}}"),
    }
}
