//! `evaluate bag_unpack` and the regular-expression string functions: the errors and edge
//! cases the conformance cases do not show.

use super::testing::{columns, fail, run};
use serde_json::{json, Value as J};

const BAGS: &str = r#"datatable(Site:string, d:dynamic)['a', dynamic({"Site": "x", "n": 1, "v": 1.5, "tags": [1]}), 'b', dynamic({"n": "two", "v": 2})]"#;

#[test]
fn bag_unpack_types_each_slot_by_its_values() {
    let t = run(&format!("{BAGS} | evaluate bag_unpack(d, 'p_')"));
    // n is a long then a string: dynamic; v is a real then a long: dynamic; tags an array.
    assert_eq!(
        columns(&t),
        [
            "Site:string",
            "p_Site:string",
            "p_n:dynamic",
            "p_tags:dynamic",
            "p_v:dynamic"
        ]
    );
    assert_eq!(
        t.rows[1],
        [json!("b"), json!(""), json!("two"), J::Null, json!(2)]
    );
}

#[test]
fn bag_unpack_conflicts_are_errors_unless_resolved() {
    let e = fail(&format!("{BAGS} | evaluate bag_unpack(d)"));
    assert!(e.contains("'Site'") && e.contains("columnsConflict"), "{e}");
    let kept = run(&format!(
        "{BAGS} | evaluate bag_unpack(d, columnsConflict='keep_source', ignoredProperties=dynamic(['tags', 'v']))"
    ));
    assert_eq!(columns(&kept), ["Site:string", "n:dynamic"]);
    assert_eq!(kept.rows[0][0], json!("a"));
    let e = fail(&format!(
        "{BAGS} | evaluate bag_unpack(d, columnsConflict='merge')"
    ));
    assert!(e.contains("columnsConflict must be"), "{e}");
}

#[test]
fn bag_unpack_with_an_output_schema_converts_and_keeps_what_it_names() {
    let t = run(&format!(
        "{BAGS} | evaluate bag_unpack(d) : (n:long, v:real)"
    ));
    assert_eq!(columns(&t), ["n:long", "v:real"]);
    assert_eq!(t.rows, [[json!(1), json!(1.5)], [J::Null, json!(2.0)]]);
    let t = run(&format!("{BAGS} | evaluate bag_unpack(d) : (*, n:long)"));
    assert_eq!(columns(&t), ["Site:string", "n:long"]);
}

#[test]
fn bag_unpack_refuses_what_it_cannot_unpack() {
    let e = fail(&format!("{BAGS} | evaluate bag_unpack(Site)"));
    assert!(e.contains("must be of type dynamic"), "{e}");
    let e = fail(&format!("{BAGS} | evaluate bag_unpack(nope)"));
    assert!(e.contains("'nope'"), "{e}");
    let e = fail(&format!("{BAGS} | evaluate bag_unpack(d, NoSuch = 1)"));
    assert!(e.contains("no argument named 'NoSuch'"), "{e}");
    let e = fail(&format!("{BAGS} | evaluate narrow()"));
    assert!(e.contains("'narrow'"), "{e}");
}

#[test]
fn regular_expressions_that_do_not_compile_are_errors_naming_them() {
    for q in [
        "print extract('(', 1, 'x')",
        "print countof('x', '[', 'regex')",
        "print trim('(', 'x')",
        "print 'a' matches regex '('",
    ] {
        let e = fail(q);
        assert!(e.contains("Invalid regular expression"), "{q}: {e}");
    }
    let e = fail("print extract_all('x', 'xx')");
    assert!(e.contains("needs a capture group"), "{e}");
    let e = fail("print countof('x', 'x', 'fuzzy')");
    assert!(e.contains("'normal' or 'regex'"), "{e}");
}

#[test]
fn string_functions_check_their_argument_types() {
    let e = fail("print trim(1, 'x')");
    assert!(e.contains("'trim'"), "{e}");
    let e = fail("print strrep('ab', 2000000)");
    assert!(e.contains("strrep would make"), "{e}");
    let e = fail("print a = 1 has_any ('x')");
    assert!(e.contains("has_any"), "{e}");
    let t = run("print a = strrep('ab', 0), b = extract('(a)(b)?', 2, 'a')");
    assert_eq!(t.rows[0], [json!(""), json!("")]);
}

#[test]
fn todatetime_refuses_day_month_order_it_would_have_to_guess() {
    let e = fail("print todatetime('03/04/2024')");
    assert!(e.contains("day and month"), "{e}");
    let t = run("print a = todatetime('not a date'), b = todatetime('2024-04-03')");
    assert_eq!(t.rows[0][0], J::Null);
}
