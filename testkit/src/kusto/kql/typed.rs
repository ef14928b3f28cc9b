//! Typed expressions, what compiling produces and evaluating consumes: [`TExpr`], its
//! shapes ([`TKind`]) and the functions it calls ([`Func`], [`Ext`]). A file of its own so the
//! compiler, the evaluator and `functions.rs` share them without a cycle.

use super::ast::BinOp;
use super::datefns::Period;
use super::value::{Type, Value};

pub type Schema = Vec<(String, Type)>;

/// Scalar functions the evaluator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Bin,
    ToString,
    ToInt,
    ToLong,
    ToReal,
    ToDateTime,
    StrLen,
    ToLower,
    ToUpper,
    Iff,
    Coalesce,
    IsNull,
    IsNotNull,
    IsEmpty,
    IsNotEmpty,
    Not,
    /// The functions of `functions.rs`.
    Ext(Ext),
}

/// A typed expression ready for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Type,
    pub pos: usize,
}

/// The shapes of a typed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Col(usize),
    Lit(Value),
    Neg(Box<TExpr>),
    Arith(BinOp, Box<TExpr>, Box<TExpr>),
    Cmp(BinOp, Box<TExpr>, Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    /// (base operator without `!` and `_cs`, negated, case-sensitive, left, right).
    StrOp(String, bool, bool, Box<TExpr>, Box<TExpr>),
    /// (negated, case-insensitive, left, list).
    In(bool, bool, Box<TExpr>, Vec<TExpr>),
    /// (negated, value, low, high).
    Between(bool, Box<TExpr>, Box<TExpr>, Box<TExpr>),
    Member(Box<TExpr>, String),
    Index(Box<TExpr>, i64),
    Func(Func, Vec<TExpr>),
}

/// The string functions of `strings.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFn {
    Trim,
    TrimStart,
    TrimEnd,
    Extract,
    ExtractAll,
    CountOf,
    Reverse,
    StrRep,
    StrCatDelim,
    /// `s has_any (a, b)`: the operator, compiled as a call.
    HasAny,
    /// `s has_all (a, b)`.
    HasAll,
}

/// The functions of `functions.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    StrCat,
    Split,
    IndexOf,
    Substring,
    ReplaceString,
    Round,
    Abs,
    Case,
    ParseJson,
    ArrayLength,
    ToBool,
    StartOf(Period),
    EndOf(Period),
    DayOfWeek,
    DateTimeAdd,
    DateTimeDiff,
    BinAt,
    FormatDateTime,
    /// The string functions of `strings.rs`.
    Str(StrFn),
}

impl TExpr {
    /// Adds to `out` (once each) the input columns the expression reads, so that a columnar
    /// scan decodes only those cells of each row.
    pub fn columns_into(&self, out: &mut Vec<usize>) {
        let mut add = |e: &TExpr| e.columns_into(out);
        match &self.kind {
            TKind::Col(i) => {
                if !out.contains(i) {
                    out.push(*i);
                }
            }
            TKind::Lit(_) => {}
            TKind::Neg(x) | TKind::Member(x, _) | TKind::Index(x, _) => add(x),
            TKind::Arith(_, l, r)
            | TKind::Cmp(_, l, r)
            | TKind::And(l, r)
            | TKind::Or(l, r)
            | TKind::StrOp(_, _, _, l, r) => {
                add(l);
                add(r);
            }
            TKind::In(_, _, x, list) => {
                add(x);
                list.iter().for_each(add);
            }
            TKind::Between(_, x, lo, hi) => {
                add(x);
                add(lo);
                add(hi);
            }
            TKind::Func(_, args) => args.iter().for_each(add),
        }
    }
}
