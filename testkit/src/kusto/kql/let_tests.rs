//! `let` functions whose body is a tabular expression: parameters with defaults, calls from
//! other functions, and the errors a wrong call gets.

use super::testing::{columns, fail, run};
use serde_json::json;

const DATA: &str = "let T = datatable(d:string, v:long)['a', 1, 'b', 5, 'a', 7];";

#[test]
fn a_tabular_function_starts_a_query_with_its_arguments_in_place() {
    let t = run(&format!(
        "{DATA} let atleast = (min:long, dev:string = 'a') {{ T | where v >= min and d == dev }}; atleast(2) | project v"
    ));
    assert_eq!(t.rows, [[json!(7)]]);
    let t = run(&format!(
        "{DATA} let atleast = (min:long) {{ T | where v >= min }}; let twice = (min:long) {{ atleast(min) | extend w = v * 2 }}; twice(5) | order by v asc"
    ));
    assert_eq!(columns(&t), ["d:string", "v:long", "w:long"]);
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn a_parameter_hides_a_table_of_the_same_name() {
    let t = run(&format!("{DATA} let f = (T:long) {{ print x = T }}; f(3)"));
    assert_eq!(t.rows, [[json!(3)]]);
}

#[test]
fn wrong_calls_are_errors_naming_the_function() {
    let e = fail(&format!(
        "{DATA} let f = (n:long) {{ T | take n }}; f() | count"
    ));
    assert!(e.contains("'f'") && e.contains("'n'"), "{e}");
    let e = fail(&format!(
        "{DATA} let f = (n:long) {{ T | take n }}; f(1, 2)"
    ));
    assert!(e.contains("expects 1 argument"), "{e}");
    let e = fail("let g = (x:long) { x + 1 }; g(1) | count");
    assert!(e.contains("'g' is a scalar function"), "{e}");
    let e = fail("missing(1) | count");
    assert!(e.contains("Unknown function: 'missing'"), "{e}");
    let e = fail("let f = () { f() | take 1 }; f()");
    assert!(e.contains("calls itself too deeply"), "{e}");
}
