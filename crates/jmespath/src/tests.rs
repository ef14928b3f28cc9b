//! Unit tests for the JMESPath engine: grammar, functions, projections,
//! scoping, arithmetic, error reporting and robustness.

use serde_json::{json, Value};

use super::{is_truthy, Expression};

fn run(expr: &str, data: Value) -> Value {
    let e = Expression::compile(expr).unwrap_or_else(|e| panic!("compile {expr}: {e}"));
    e.search(&data)
        .unwrap_or_else(|e| panic!("eval {expr}: {e}"))
}

fn eval_err(expr: &str, data: Value) -> String {
    let e = Expression::compile(expr).unwrap_or_else(|e| panic!("compile {expr}: {e}"));
    match e.search(&data) {
        Ok(v) => panic!("{expr} should fail, gave {v}"),
        Err(e) => e.message,
    }
}

fn compile_err(expr: &str) -> super::CompileError {
    match Expression::compile(expr) {
        Ok(_) => panic!("{expr} should not compile"),
        Err(e) => e,
    }
}

/// Checks the exact JSON text, so 1 and 1.0 are told apart.
fn same_text(expr: &str, data: Value, want: &str) {
    assert_eq!(run(expr, data).to_string(), want, "{expr}");
}

#[test]
fn identifiers_and_subexpressions() {
    let d = json!({"a": {"b": {"c": 5}}, "with space": 1, "x": null});
    assert_eq!(run("a.b.c", d.clone()), json!(5));
    assert_eq!(run("a.missing.c", d.clone()), json!(null));
    assert_eq!(run("\"with space\"", d.clone()), json!(1));
    assert_eq!(run("a.\"b\".c", d.clone()), json!(5));
    assert_eq!(run("\"\\u0061\".b.c", d.clone()), json!(5));
    assert_eq!(run("a.b.c.d", d.clone()), json!(null));
    assert_eq!(run("a\n.\tb", d.clone()), json!({"c": 5}));
    assert_eq!(run("@", json!(3)), json!(3));
    assert_eq!(run("a", json!([1])), json!(null));
}

#[test]
fn index_and_slices() {
    let d = json!({"n": [0, 1, 2, 3, 4, 5]});
    assert_eq!(run("n[0]", d.clone()), json!(0));
    assert_eq!(run("n[-1]", d.clone()), json!(5));
    assert_eq!(run("n[6]", d.clone()), json!(null));
    assert_eq!(run("n[-7]", d.clone()), json!(null));
    assert_eq!(run("n[1:3]", d.clone()), json!([1, 2]));
    assert_eq!(run("n[::2]", d.clone()), json!([0, 2, 4]));
    assert_eq!(run("n[::-1]", d.clone()), json!([5, 4, 3, 2, 1, 0]));
    assert_eq!(run("n[4:1:-2]", d.clone()), json!([4, 2]));
    assert_eq!(run("n[-2:]", d.clone()), json!([4, 5]));
    assert_eq!(run("n[10:]", d.clone()), json!([]));
    assert_eq!(run("n[:-10:-1]", d.clone()), json!([5, 4, 3, 2, 1, 0]));
    assert_eq!(run("n[1:3].to_string(@)", d.clone()), json!(["1", "2"]));
    assert_eq!(run("'hello'[1:4]", json!(null)), json!("ell"));
    assert_eq!(run("'héllo'[::-1]", json!(null)), json!("olléh"));
    assert_eq!(run("'abc'[:].length(@)", json!(null)), json!(3));
    assert_eq!(run("x[0:1]", json!({"x": {"a": 1}})), json!(null));
    let e = compile_err("n[::0]");
    assert!(e.message.contains("step cannot be 0"), "{e}");
}

#[test]
fn projections() {
    let d = json!({"people": [{"name": "a", "age": 1}, {"name": "b"}, {"age": 3}, 7]});
    assert_eq!(run("people[*].name", d.clone()), json!(["a", "b"]));
    assert_eq!(run("people[*].age", d.clone()), json!([1, 3]));
    assert_eq!(run("people[*]", d.clone()), d["people"]);
    // a projection keeps projecting through later index expressions ...
    let nested = json!({"m": [[1, 2], [3, 4], [5]]});
    assert_eq!(run("m[*][1]", nested.clone()), json!([2, 4]));
    // ... but a pipe stops it
    assert_eq!(run("m[*] | [1]", nested.clone()), json!([3, 4]));
    // object (value) projection
    let o = json!({"o": {"x": {"v": 1}, "y": {"v": 2}, "z": {"w": 3}}});
    assert_eq!(run("o.*.v", o.clone()), json!([1, 2]));
    assert_eq!(run("*.x.v", o.clone()), json!([1]));
    assert_eq!(run("o.*", json!({"o": [1]})), json!(null));
    assert_eq!(
        run("people[*].name", json!({"people": {"a": 1}})),
        json!(null)
    );
    // projecting nulls away, projection of projection
    let deep = json!({"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": [{"c": 3}]}]});
    assert_eq!(run("a[*].b[*].c", deep.clone()), json!([[1, 2], [3]]));
    assert_eq!(run("a[].b[].c", deep.clone()), json!([1, 2, 3]));
    // slices project too
    assert_eq!(run("m[:2].length(@)", nested.clone()), json!([2, 2]));
}

#[test]
fn flatten() {
    let d = json!({"a": [[1, 2], 3, [4, [5]], null]});
    assert_eq!(run("a[]", d.clone()), json!([1, 2, 3, 4, [5]]));
    assert_eq!(run("a[][]", d.clone()), json!([1, 2, 3, 4, 5]));
    assert_eq!(run("[]", json!([[1], [2]])), json!([1, 2]));
    assert_eq!(run("a[]", json!({"a": 1})), json!(null));
    assert_eq!(run("a[*][]", json!({"a": [[1], [2, 3]]})), json!([1, 2, 3]));
}

#[test]
fn filters() {
    let d =
        json!({"xs": [{"n": 1, "s": "a"}, {"n": 5, "s": "b"}, {"n": 10, "s": "c"}, {"s": "d"}]});
    assert_eq!(run("xs[?n > `4`].s", d.clone()), json!(["b", "c"]));
    assert_eq!(run("xs[?n == `5`]", d.clone()), json!([{"n": 5, "s": "b"}]));
    assert_eq!(run("xs[?n]| length(@)", d.clone()), json!(3));
    assert_eq!(run("xs[?!n].s", d.clone()), json!(["d"]));
    assert_eq!(run("xs[?n >= `5` && s != 'c'].s", d.clone()), json!(["b"]));
    assert_eq!(
        run("xs[?n < `2` || s == 'd'].s", d.clone()),
        json!(["a", "d"])
    );
    assert_eq!(run("[?@ > `1`]", json!([1, 2, 3])), json!([2, 3]));
    assert_eq!(run("xs[?s == 'a']", json!({"xs": "str"})), json!(null));
    // strings order by code point; a string against a number is null, so dropped
    assert_eq!(run("[?@ < 'b']", json!(["a", "c", 1])), json!(["a"]));
    assert_eq!(
        run("xs[?n > `1`][]", json!({"xs": [{"n": 2}]})),
        json!([{"n": 2}])
    );
}

#[test]
fn comparisons() {
    assert_eq!(run("`1` == `1.0`", json!(null)), json!(true));
    assert_eq!(
        run("`[1, {\"a\": 2}]` == `[1.0, {\"a\": 2}]`", json!(null)),
        json!(true)
    );
    assert_eq!(
        run(
            "`{\"a\": 1, \"b\": 2}` == `{\"b\": 2, \"a\": 1}`",
            json!(null)
        ),
        json!(true)
    );
    assert_eq!(run("`\"1\"` == `1`", json!(null)), json!(false));
    assert_eq!(run("`2` > `1.5`", json!(null)), json!(true));
    assert_eq!(run("'a' < 'b'", json!(null)), json!(true));
    assert_eq!(
        run(
            "'2026-12-03T10:00:00Z' >= '2026-12-03T09:59:59Z'",
            json!(null)
        ),
        json!(true)
    );
    assert_eq!(run("'Z' < 'a'", json!(null)), json!(true));
    assert_eq!(run("'a' < `1`", json!(null)), json!(null));
    assert_eq!(run("`true` < `false`", json!(null)), json!(null));
    assert_eq!(run("a != b", json!({"a": 1})), json!(true));
    assert_eq!(run("`null` == missing", json!({})), json!(true));
}

#[test]
fn boolean_operators_and_truthiness() {
    assert_eq!(run("a || b", json!({"a": [], "b": "x"})), json!("x"));
    assert_eq!(run("a || b", json!({"a": 0, "b": "x"})), json!(0));
    assert_eq!(run("a && b", json!({"a": "", "b": "x"})), json!(""));
    assert_eq!(run("a && b", json!({"a": 1, "b": "x"})), json!("x"));
    assert_eq!(run("!a", json!({"a": {}})), json!(true));
    assert_eq!(run("!!a", json!({"a": "s"})), json!(true));
    assert_eq!(run("(a || b) && c", json!({"b": 1, "c": 2})), json!(2));
    assert!(!is_truthy(&json!(null)));
    assert!(!is_truthy(&json!("")));
    assert!(!is_truthy(&json!([])));
    assert!(!is_truthy(&json!({})));
    assert!(!is_truthy(&json!(false)));
    assert!(is_truthy(&json!(0)));
    assert!(is_truthy(&json!(" ")));
}

#[test]
fn multiselect() {
    let d = json!({"a": 1, "b": {"c": 2}});
    assert_eq!(run("[a, b.c, z]", d.clone()), json!([1, 2, null]));
    assert_eq!(run("{x: a, y: b.c}", d.clone()), json!({"x": 1, "y": 2}));
    assert_eq!(
        run("{\"quoted key\": a}", d.clone()),
        json!({"quoted key": 1})
    );
    assert_eq!(run("b.[c, c]", d.clone()), json!([2, 2]));
    assert_eq!(run("z.{a: a}", d.clone()), json!(null));
    // a multi-select on null is null, as in the reference implementation
    assert_eq!(run("`null` | [@]", d.clone()), json!(null));
    assert_eq!(run("`null` | {a: @}", d.clone()), json!(null));
    assert_eq!(run("`false` | [@]", d.clone()), json!([false]));
    // repeated key: first position, last value
    assert_eq!(
        run("{k: a, j: a, k: b.c}", d.clone()),
        json!({"k": 2, "j": 1})
    );
    let out = run("{z: a, a: a, m: a}", d);
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "m"], "key order preserved");
}

#[test]
fn literals_and_raw_strings() {
    assert_eq!(
        run("`{\"a\": [1, 2.5]}`", json!(null)),
        json!({"a": [1, 2.5]})
    );
    assert_eq!(
        run("`\"with \\` backtick\"`", json!(null)),
        json!("with ` backtick")
    );
    assert_eq!(run("'it\\'s'", json!(null)), json!("it's"));
    assert_eq!(run("'back\\\\slash'", json!(null)), json!("back\\slash"));
    assert_eq!(run("'keep\\n'", json!(null)), json!("keep\\n"));
    assert_eq!(run("`true`.a", json!(null)), json!(null));
    let e = compile_err("`not json`");
    assert!(e.message.contains("invalid JSON"), "{e}");
}

#[test]
fn pipes_and_current_node() {
    let d = json!({"a": [{"b": 1}, {"b": 2}]});
    assert_eq!(run("a[*].b | [0]", d.clone()), json!(1));
    assert_eq!(run("a | length(@)", d.clone()), json!(2));
    assert_eq!(run("a[*].b | @", d.clone()), json!([1, 2]));
    assert_eq!(run("missing | `5`", d), json!(5));
}

#[test]
fn root_reference() {
    let d = json!({"pick": "WA", "states": [{"name": "WA", "c": 1}, {"name": "CA", "c": 2}]});
    assert_eq!(run("states[?name == $.pick].c", d.clone()), json!([1]));
    assert_eq!(
        run("states[*].[name, $.pick]", d.clone()),
        json!([["WA", "WA"], ["CA", "WA"]])
    );
    assert_eq!(run("$", json!(4)), json!(4));
    assert_eq!(run("states[0] | $.pick", d), json!("WA"));
}

#[test]
fn let_scoping() {
    let d = json!({"a": "top", "b": [{"a": "x"}, {"a": "y"}]});
    assert_eq!(run("let $v = a in $v", d.clone()), json!("top"));
    assert_eq!(
        run("let $v = a in b[*].[a, $v]", d.clone()),
        json!([["x", "top"], ["y", "top"]])
    );
    assert_eq!(
        run("let $v = a in b[*].[$v, let $v = a in $v]", d.clone()),
        json!([["top", "x"], ["top", "y"]])
    );
    assert_eq!(
        run("let $x = `1`, $y = `2` in [$x, $y]", d.clone()),
        json!([1, 2])
    );
    // bindings see the outer scope, not each other
    assert_eq!(
        run(
            "let $x = 'outer' in let $x = 'inner', $y = $x in $y",
            d.clone()
        ),
        json!("outer")
    );
    // a bound projection is a finished value
    assert_eq!(run("let $p = b[*] in $p[0]", d.clone()), json!({"a": "x"}));
    // variables inside function arguments and expression references
    assert_eq!(
        run("let $k = 'a' in map(&[a, $k], b)", d.clone()),
        json!([["x", "a"], ["y", "a"]])
    );
    // `let` and `in` stay usable as field names
    assert_eq!(run("let", json!({"let": 1})), json!(1));
    assert_eq!(run("let.in", json!({"let": {"in": 2}})), json!(2));
    // undefined variables fail at evaluation time
    let msg = eval_err("[let $f = 'x' in $f, $f]", d.clone());
    assert!(msg.starts_with("undefined-variable: $f"), "{msg}");
}

#[test]
fn global_variables() {
    let meta = json!({"properties": {"flag": true}});
    let e = Expression::compile(
        "[$meta.properties.flag, let $meta = `1` in $meta, items(@)[*].[$meta.properties]]",
    )
    .unwrap();
    assert_eq!(e.free_variables(), ["meta".to_string()]);
    let out = e.search_with(&json!({"k": 1}), &[("meta", &meta)]).unwrap();
    assert_eq!(out, json!([true, 1, [[{"flag": true}]]]));
    assert!(e
        .search(&json!({}))
        .unwrap_err()
        .message
        .starts_with("undefined-variable"));
    // strict compilation knows the globals up front
    assert!(Expression::compile_with_globals("$meta.x", &["meta"]).is_ok());
    let err = Expression::compile_with_globals("a.b || $metta", &["meta"]).unwrap_err();
    assert_eq!((err.kind(), err.column), ("undefined-variable", 8));
    assert!(Expression::compile_with_globals("let $x = a in $x", &[]).is_ok());
}

#[test]
fn arithmetic_keeps_integers() {
    same_text("a + b", json!({"a": 1, "b": 2}), "3");
    same_text("a - b", json!({"a": 1, "b": 2}), "-1");
    same_text("a * b", json!({"a": 3, "b": 4}), "12");
    same_text("a / b", json!({"a": 6, "b": 3}), "2.0");
    same_text("a / b", json!({"a": 1, "b": 4}), "0.25");
    same_text("a // b", json!({"a": 7, "b": 2}), "3");
    same_text("a // b", json!({"a": -7, "b": 2}), "-4");
    same_text("a % b", json!({"a": -7, "b": 3}), "2");
    same_text("a % b", json!({"a": 7.5, "b": 2}), "1.5");
    same_text("a + b", json!({"a": 1.5, "b": 2}), "3.5");
    same_text("-a", json!({"a": 5}), "-5");
    same_text("+a", json!({"a": 5}), "5");
    same_text(
        "a + b",
        json!({"a": i64::MAX, "b": 1}),
        "9.223372036854776e+18",
    );
    same_text("`1` + `2` * `3`", json!(null), "7");
    same_text("(`1` + `2`) * `3`", json!(null), "9");
    same_text("`10` - `2` - `3`", json!(null), "5");
    same_text("-`1` − +`2`", json!(null), "-3");
    same_text("`2` × `3` ÷ `4`", json!(null), "1.5");
    same_text("a.b * `2`", json!({"a": {"b": 4}}), "8");
    same_text(
        "x[*].v | sum(@) * `2`",
        json!({"x": [{"v": 1}, {"v": 2}]}),
        "6",
    );
    same_text("`1` + `1` == `2`", json!(null), "true");
    same_text("v", json!({"v": 88}), "88");
    assert!(eval_err("a / b", json!({"a": 1, "b": 0})).starts_with("not-a-number"));
    assert!(eval_err("a // b", json!({"a": 1, "b": 0})).starts_with("not-a-number"));
    assert!(eval_err("a % b", json!({"a": 1, "b": 0})).starts_with("not-a-number"));
    let m = eval_err("a + b", json!({"a": 1, "b": "2"}));
    assert_eq!(
        m,
        "invalid-type: the '+' operator expects numbers on both sides, got number and string"
    );
    assert!(eval_err("-a", json!({"a": "x"})).starts_with("invalid-type"));
}

#[test]
fn ternary() {
    assert_eq!(run("a ? 'y' : 'n'", json!({"a": 1})), json!("y"));
    assert_eq!(run("a ? 'y' : 'n'", json!({"a": []})), json!("n"));
    assert_eq!(run("a ? b ? `1` : `2` : `3`", json!({"a": 1})), json!(2));
}

#[test]
fn function_basics() {
    assert_eq!(run("abs(`-3`)", json!(null)), json!(3));
    assert_eq!(run("abs(`-3.5`)", json!(null)), json!(3.5));
    assert_eq!(run("avg(`[1, 2, 3, 4]`)", json!(null)), json!(2.5));
    assert_eq!(run("avg(`[]`)", json!(null)), json!(null));
    same_text("ceil(`1.2`)", json!(null), "2");
    same_text("floor(`-1.2`)", json!(null), "-2");
    same_text("floor(`7`)", json!(null), "7");
    assert_eq!(run("contains('foobar', 'oba')", json!(null)), json!(true));
    assert_eq!(
        run("contains(`[1, \"a\"]`, `1.0`)", json!(null)),
        json!(true)
    );
    assert_eq!(run("contains('abc', `1`)", json!(null)), json!(false));
    assert_eq!(run("ends_with('foobar', 'bar')", json!(null)), json!(true));
    assert_eq!(
        run("starts_with('foobar', 'bar')", json!(null)),
        json!(false)
    );
    assert_eq!(
        run("join(', ', `[\"a\", \"b\"]`)", json!(null)),
        json!("a, b")
    );
    assert_eq!(run("keys(@)", json!({"b": 1, "a": 2})), json!(["b", "a"]));
    assert_eq!(run("values(@)", json!({"b": 1, "a": 2})), json!([1, 2]));
    assert_eq!(run("length('héllo')", json!(null)), json!(5));
    assert_eq!(run("length(@)", json!({"a": 1})), json!(1));
    assert_eq!(
        run("map(&a, @)", json!([{"a": 1}, {}, {"a": 3}])),
        json!([1, null, 3])
    );
    same_text("max(`[1, 3.5, 2]`)", json!(null), "3.5");
    same_text("max(`[1, 3, 2]`)", json!(null), "3");
    assert_eq!(run("min(`[\"b\", \"a\"]`)", json!(null)), json!("a"));
    assert_eq!(run("max(`[]`)", json!(null)), json!(null));
    let people = json!([{"n": "x", "a": 30}, {"n": "y", "a": 20}, {"n": "z", "a": 30}]);
    assert_eq!(run("max_by(@, &a).n", people.clone()), json!("x"));
    assert_eq!(run("min_by(@, &a).n", people.clone()), json!("y"));
    assert_eq!(
        run("sort_by(@, &a)[*].n", people.clone()),
        json!(["y", "x", "z"])
    );
    assert_eq!(
        run("sort_by(@, &n)[*].n", people.clone()),
        json!(["x", "y", "z"])
    );
    assert_eq!(
        run("merge(`{\"a\": 1, \"b\": 2}`, `{\"b\": 3}`)", json!(null)),
        json!({"a": 1, "b": 3})
    );
    assert_eq!(run("merge()", json!(null)), json!({}));
    assert_eq!(run("not_null(a, b, `3`)", json!({"b": []})), json!([]));
    assert_eq!(run("not_null(a)", json!({})), json!(null));
    assert_eq!(run("reverse('abc')", json!(null)), json!("cba"));
    assert_eq!(run("reverse(`[1, 2]`)", json!(null)), json!([2, 1]));
    assert_eq!(run("sort(`[3, 1.5, 2]`)", json!(null)), json!([1.5, 2, 3]));
    assert_eq!(
        run("sort(`[\"b\", \"a\"]`)", json!(null)),
        json!(["a", "b"])
    );
    same_text("sum(`[1, 2, 3]`)", json!(null), "6");
    same_text("sum(`[1, 2.5]`)", json!(null), "3.5");
    same_text("sum(`[]`)", json!(null), "0");
    assert_eq!(run("to_array(`1`)", json!(null)), json!([1]));
    assert_eq!(run("to_array(`[1]`)", json!(null)), json!([1]));
    same_text("to_number('42')", json!(null), "42");
    same_text("to_number('4.5e1')", json!(null), "45.0");
    assert_eq!(run("to_number('x')", json!(null)), json!(null));
    assert_eq!(run("to_number('')", json!(null)), json!(null));
    assert_eq!(run("to_number(`true`)", json!(null)), json!(null));
    assert_eq!(
        run("to_string(`[1, {\"a\": null}]`)", json!(null)),
        json!("[1,{\"a\":null}]")
    );
    assert_eq!(run("to_string('s')", json!(null)), json!("s"));
    assert_eq!(
        run(
            "to_string(`[1.5, 2e20, -0.25, \"\\u00e9\\n\"]`)",
            json!(null)
        ),
        json!("[1.5,2e+20,-0.25,\"é\\n\"]")
    );
    assert!(eval_err("pad_left('a', `100000000000`)", json!(null)).starts_with("invalid-value"));
    assert_eq!(
        run(
            "[type(`1`), type('a'), type(`true`), type(`[]`), type(`{}`), type(`null`)]",
            json!({})
        ),
        json!(["number", "string", "boolean", "array", "object", "null"])
    );
    assert_eq!(run("a.length(@)", json!({"a": "xy"})), json!(2));
    assert_eq!(
        run("a[*].to_number(@)", json!({"a": ["1", "x", "2"]})),
        json!([1, 2])
    );
}

#[test]
fn object_functions() {
    let d = json!({"b": 1, "a": [2]});
    assert_eq!(run("items(@)", d.clone()), json!([["b", 1], ["a", [2]]]));
    assert_eq!(run("from_items(items(@))", d.clone()), d);
    assert_eq!(
        run("from_items(`[[\"k\", 1], [\"k\", 2]]`)", json!(null)),
        json!({"k": 2})
    );
    let m = eval_err("from_items(`[[\"k\"]]`)", json!(null));
    assert!(m.starts_with("invalid-type: from_items()"), "{m}");
    assert_eq!(
        run("zip(`[1, 2, 3]`, `[\"a\", \"b\"]`)", json!(null)),
        json!([[1, "a"], [2, "b"]])
    );
    assert_eq!(run("zip(`[1]`)", json!(null)), json!([[1]]));
    let g = json!([{"t": "x", "v": 1}, {"t": "y", "v": 2}, {"t": "x", "v": 3}, {"v": 4}]);
    assert_eq!(
        run("group_by(@, &t)", g.clone()),
        json!({"x": [{"t": "x", "v": 1}, {"t": "x", "v": 3}], "y": [{"t": "y", "v": 2}]})
    );
    let m = eval_err("group_by(@, &v)", g);
    assert!(m.starts_with("invalid-type: group_by()"), "{m}");
}

#[test]
fn string_functions() {
    let n = json!(null);
    assert_eq!(
        run("find_first('subject string', 'string')", n.clone()),
        json!(8)
    );
    assert_eq!(
        run("find_first('subject string', 's', `1`)", n.clone()),
        json!(8)
    );
    assert_eq!(
        run(
            "find_first('subject string', 'string', `0`, `13`)",
            n.clone()
        ),
        json!(null)
    );
    assert_eq!(run("find_first('abc', '')", n.clone()), json!(null));
    assert_eq!(run("find_last('subject string', 's')", n.clone()), json!(8));
    assert_eq!(
        run("find_last('subject string', 's', `0`, `7`)", n.clone()),
        json!(0)
    );
    assert!(eval_err("find_first('abc', 'b', `1.5`)", n.clone()).starts_with("invalid-value"));
    assert_eq!(run("lower('ÀBc')", n.clone()), json!("àbc"));
    assert_eq!(run("upper('àbc')", n.clone()), json!("ÀBC"));
    assert_eq!(run("pad_left('7', `3`, '0')", n.clone()), json!("007"));
    assert_eq!(run("pad_right('ab', `4`)", n.clone()), json!("ab  "));
    assert_eq!(run("pad_left('abc', `2`)", n.clone()), json!("abc"));
    assert!(eval_err("pad_left('a', `3`, 'xy')", n.clone()).starts_with("invalid-value"));
    assert!(eval_err("pad_left('a', `-1`)", n.clone()).starts_with("invalid-value"));
    assert_eq!(run("replace('aaa', 'a', 'b')", n.clone()), json!("bbb"));
    assert_eq!(
        run("replace('aaa', 'a', 'b', `2`)", n.clone()),
        json!("bba")
    );
    assert_eq!(
        run("replace('aaa', 'a', 'b', `0`)", n.clone()),
        json!("aaa")
    );
    assert_eq!(
        run("split('a,b,c', ',')", n.clone()),
        json!(["a", "b", "c"])
    );
    assert_eq!(
        run("split('a,b,c', ',', `1`)", n.clone()),
        json!(["a", "b,c"])
    );
    assert_eq!(run("split('abc', '')", n.clone()), json!(["a", "b", "c"]));
    assert_eq!(run("split('abc', 'x')", n.clone()), json!(["abc"]));
    assert!(eval_err("split('abc', 'b', `-1`)", n.clone()).starts_with("invalid-value"));
    assert_eq!(run("trim('  x  ')", n.clone()), json!("x"));
    assert_eq!(run("trim_left('--x--', '-')", n.clone()), json!("x--"));
    assert_eq!(run("trim_right('--x--', '-')", n.clone()), json!("--x"));
    assert_eq!(run("trim('abxba', 'ab')", n), json!("x"));
}

#[test]
fn function_type_errors() {
    let cases = [
        ("sum('x')", "invalid-type: sum() expects argument 1 to be array[number], got string"),
        ("sum(`[1, \"a\"]`)", "invalid-type: sum() expects argument 1 to be array[number], got an array with a string at index 1"),
        ("abs('x')", "invalid-type: abs() expects argument 1 to be number, got string"),
        ("length(`1`)", "invalid-type: length() expects argument 1 to be string, array or object, got number"),
        ("sort(`[1, \"a\"]`)", "invalid-type: sort() expects argument 1 to be array[number] or array[string], got an array mixing numbers and strings (a string at index 1)"),
        ("keys(`[]`)", "invalid-type: keys() expects argument 1 to be object, got array"),
        ("join(`1`, `[]`)", "invalid-type: join() expects argument 1 to be string, got number"),
        ("starts_with(`1`, 'a')", "invalid-type: starts_with() expects argument 1 to be string, got number"),
        ("merge(`1`)", "invalid-type: merge() expects argument 1 to be object, got number"),
        ("max(`[{}]`)", "invalid-type: max() expects argument 1 to be array[number] or array[string], got an array with a object at index 0"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval_err(expr, json!(null)), want, "{expr}");
    }
    let m = eval_err("sort_by(@, &a)", json!([{"a": 1}, {"a": "x"}]));
    assert!(
        m.starts_with("invalid-type: sort_by() expects the expression to return the same type"),
        "{m}"
    );
    let m = eval_err("max_by(@, &a)", json!([{"a": null}]));
    assert!(m.starts_with("invalid-type: max_by()"), "{m}");
    for e in [
        "avg('x')",
        "ceil('x')",
        "floor('x')",
        "contains(`1`, `1`)",
        "ends_with('a', `1`)",
        "map(&a, `1`)",
        "min('x')",
        "min_by('x', &a)",
        "not_null()",
        "reverse(`1`)",
        "to_array()",
        "values('x')",
        "zip('x')",
        "items(`1`)",
        "from_items(`1`)",
        "lower(`1`)",
        "upper(`1`)",
        "trim(`1`)",
        "split('a', `1`)",
        "replace('a', 'b', `1`)",
        "pad_right(`1`, `2`)",
        "find_last(`1`, 'a')",
        "group_by(`1`, &a)",
    ] {
        let failed = match Expression::compile(e) {
            Err(c) => c.kind() == "invalid-arity",
            Ok(x) => x
                .search(&json!(null))
                .is_err_and(|r| r.kind() == "invalid-type"),
        };
        assert!(failed, "{e} should be a type or arity error");
    }
}

#[test]
fn compile_time_function_errors() {
    let e = compile_err("a.nope(@)");
    assert_eq!(e.kind(), "unknown-function");
    assert_eq!((e.line, e.column), (1, 3));
    assert!(e.message.contains("nope()"), "{e}");
    let e = compile_err("length(a, b)");
    assert_eq!(
        e.message,
        "invalid-arity: length() takes exactly 1 argument, but 2 were given"
    );
    let e = compile_err("zip()");
    assert_eq!(
        e.message,
        "invalid-arity: zip() takes at least 1 argument, but 0 were given"
    );
    let e = compile_err("pad_left('a')");
    assert_eq!(
        e.message,
        "invalid-arity: pad_left() takes 2 to 3 arguments, but 1 was given"
    );
    let e = compile_err("sort_by(@, a)");
    assert!(
        e.message.starts_with(
            "invalid-type: sort_by() expects argument 2 to be an expression reference"
        ),
        "{e}"
    );
    let e = compile_err("length(&a)");
    assert!(e.message.contains("got an expression reference"), "{e}");
    assert!(compile_err("\"length\"(@)").message.contains("quoted"));
}

#[test]
fn syntax_error_positions() {
    let e = compile_err("a.\n  b.[");
    assert_eq!((e.line, e.column, e.offset), (2, 6, 8));
    assert_eq!(
        e.to_string(),
        "line 2, column 6: expected an expression, found the end of the expression"
    );
    let e = compile_err("foo.1");
    assert_eq!(
        e.to_string(),
        "line 1, column 5: expected an identifier, '*', '[' or '{' after '.', found '1'"
    );
    let e = compile_err("\"é\".#");
    assert_eq!((e.column, e.offset), (5, 5));
    assert_eq!(e.message, "unexpected character '#'");
    let e = compile_err("a b");
    assert_eq!(
        e.message,
        "unexpected 'b' after the end of a complete expression"
    );
    let e = compile_err("{a: b");
    assert!(e.message.starts_with("expected ',' or '}'"), "{e}");
    let e = compile_err("'abc");
    assert_eq!(
        (e.column, e.message.as_str()),
        (1, "unterminated raw string: no closing ' found")
    );
    for bad in [
        "",
        "a.",
        "[1",
        "a[",
        "a[:::]",
        "{}",
        "a ||",
        "&a",
        "`1`[1 2]",
        "let $x = 1 in $x",
        "let $x in a",
        "foo[bar]",
        "a.(b)",
        "1",
        "*.[",
        "$.",
        "a ? b",
    ] {
        assert!(
            Expression::compile(bad).is_err(),
            "{bad:?} should not compile"
        );
    }
}

#[test]
fn expression_api() {
    let e = Expression::compile("a.b").unwrap();
    assert_eq!(e.as_str(), "a.b");
    assert_eq!(e.to_string(), "a.b");
    let e2 = e.clone();
    let h = std::thread::spawn(move || e2.search(&json!({"a": {"b": 1}})).unwrap());
    assert_eq!(h.join().unwrap(), json!(1));
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Expression>();
}

#[test]
fn iot_central_transform() {
    let expr = Expression::compile(
        r#"items(telemetry)[*].{T: $.enqueuedTime, Sim: $meta.properties."iotcentral-simulated", Capability: [0], Value: [1]}"#,
    )
    .unwrap();
    let msg = json!({"enqueuedTime": "t0", "telemetry": {"HeartRate": 88, "Temp": 98.73, "BP": {"D": 7}}});
    let meta = json!({"properties": {"iotcentral-simulated": false}});
    let out = expr.search_with(&msg, &[("meta", &meta)]).unwrap();
    assert_eq!(
        out.to_string(),
        r#"[{"T":"t0","Sim":false,"Capability":"HeartRate","Value":88},{"T":"t0","Sim":false,"Capability":"Temp","Value":98.73},{"T":"t0","Sim":false,"Capability":"BP","Value":{"D":7}}]"#
    );
}

fn deep_array(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = Value::Array(vec![v]);
    }
    v
}

/// Drops a deep value without recursing (serde_json's own drop recurses).
fn drop_deep(mut v: Value) {
    let mut stack = Vec::new();
    loop {
        match &mut v {
            Value::Array(a) => stack.append(a),
            Value::Object(o) => stack.extend(std::mem::take(o).into_iter().map(|(_, x)| x)),
            _ => {}
        }
        match stack.pop() {
            Some(next) => v = next,
            None => break,
        }
    }
}

#[test]
fn deeply_nested_input_is_safe() {
    let data = deep_array(10_000);
    for expr in [
        "@",
        "[0][0][0]",
        "length(@)",
        "@ == @",
        "[]",
        "[*]",
        "[0] == [0]",
        "type(@)",
        "to_array(@)",
        "[@, @]",
        "{a: @}",
        "not_null(@)",
        "to_string(@)",
        "contains(@, `1`)",
        "sort_by([@], &type(@))",
        "@ | [0] | @",
        "let $d = @ in $d[0]",
        "[?@]",
    ] {
        let out = Expression::compile(expr).unwrap().search(&data);
        assert!(out.is_ok(), "{expr}");
        drop_deep(out.unwrap());
    }
    drop_deep(data);
}

#[test]
fn deeply_nested_expressions_are_rejected() {
    let n = 10_000;
    let cases = [
        format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        format!("a{}", ".a".repeat(n)),
        format!("{}a", "!".repeat(n)),
        format!("{}a", "-".repeat(n)),
        "[".repeat(n),
        format!("a{}", " || a".repeat(n)),
        format!("a{}", "[0]".repeat(n)),
        format!("a{}", "[*]".repeat(n)),
        "{a:".repeat(n),
        format!("{}a", "let $x = a in ".repeat(n)),
        format!("{}@{}", "length(".repeat(n), ")".repeat(n)),
    ];
    for c in &cases {
        let e = compile_err(c);
        assert!(e.message.contains("nests too deeply"), "{}: {e}", &c[..20]);
    }
    // moderate nesting still works
    let ok = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(run(&ok, json!({"a": 1})), json!(1));
}

#[test]
fn expressions_near_the_nesting_limit_evaluate() {
    let n = 240;
    let mut data = json!(1);
    for _ in 0..n {
        data = json!({"a": [data]});
    }
    let chain = format!("a{}", "[0].a".repeat(n - 1));
    assert_eq!(run(&format!("{chain}[0]"), data.clone()), json!(1));
    let proj = format!("a{}", "[*].a".repeat(n / 2));
    assert!(Expression::compile(&proj).unwrap().search(&data).is_ok());
    let nots = format!("{}a", "!".repeat(n));
    assert_eq!(run(&nots, data.clone()), json!(true));
    let calls = format!("{}@{}", "to_array(".repeat(n), ")".repeat(n));
    assert!(Expression::compile(&calls)
        .unwrap()
        .search(&json!(1))
        .is_ok());
    let lets = format!("{}$x", "let $x = `1` in ".repeat(n / 2));
    assert_eq!(run(&lets, json!(null)), json!(1));
    let sums = format!("`1`{}", " + `1`".repeat(n));
    assert_eq!(run(&sums, json!(null)), json!(n + 1));
}
