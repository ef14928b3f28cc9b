//! The types of `summarize`'s aggregations ([`AggFn`], [`Agg`], [`State`]), in a file of
//! their own so `aggregate.rs` and `aggregate_lists.rs` share them without a cycle.

use super::typed::TExpr;
use super::value::{Type, Value};
use std::collections::HashSet;

/// Which aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFn {
    Count,
    CountIf,
    Sum,
    Avg,
    Min,
    Max,
    DCount,
    ArgMax,
    ArgMin,
    /// `take_any(*)`: every column of one row of the group (the deduplication idiom).
    TakeAny,
    /// `percentile(x, p)`: the nearest-rank percentile.
    Percentile,
    /// `make_list(x [, max])`: the non-null values in input order.
    MakeList,
    /// `make_set(x [, max])`: the distinct non-null values in first-seen order.
    MakeSet,
    /// `make_bag(x [, max])`: the property bags merged (a key's first value wins; values
    /// that are not bags are ignored).
    MakeBag,
    /// `sumif(x, p)`, `avgif(x, p)`, `dcountif(x, p)`: over the rows where `p` holds.
    SumIf,
    AvgIf,
    DCountIf,
}

/// A compiled aggregation: function, argument, result type and output column name.
#[derive(Debug, Clone)]
pub struct Agg {
    pub func: AggFn,
    pub arg: Option<TExpr>,
    pub ty: Type,
    pub name: String,
    pub pos: usize,
    /// arg_max/arg_min/take_any: the columns returned from the chosen row (name, expression).
    pub returns: Vec<(String, TExpr)>,
    /// percentile: the percent, 0 to 100; make_list/make_set: the most elements.
    pub param: f64,
    /// The `*if` variants' predicate: rows where it is not true are skipped.
    pub filter: Option<TExpr>,
}

/// Running state of one aggregation for one group.
#[derive(Debug, Clone)]
pub enum State {
    Count(i64),
    SumLong(i64, usize),
    SumReal(f64, usize),
    Avg(f64, usize),
    Extreme(Option<Value>),
    Distinct(HashSet<String>),
    /// arg_max/arg_min: best key so far and the returned values of its row.
    Arg(Value, Option<Vec<Value>>),
    /// percentile, make_list: every non-null value.
    Values(Vec<Value>),
    /// make_set: the keys seen and the distinct values.
    Set(HashSet<String>, Vec<Value>),
}
