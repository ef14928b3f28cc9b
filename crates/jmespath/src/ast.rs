//! Abstract syntax tree produced by the parser and walked by the evaluator.

use serde_json::Value;

use super::functions::Function;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Binary arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    IntDiv,
    Mod,
}

impl ArithOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::IntDiv => "//",
            ArithOp::Mod => "%",
        }
    }
}

/// A node of the syntax tree together with the depth of the subtree below it
/// (used to reject expressions that nest too deeply).
#[derive(Debug)]
pub(super) struct Node {
    pub kind: Kind,
    pub depth: usize,
}

/// The kinds of syntax tree nodes.
#[derive(Debug)]
pub(super) enum Kind {
    /// `@`, or the implicit current node.
    Identity,
    /// `$`
    Root,
    /// Field lookup on the current node.
    Field(Box<str>),
    /// `$name` bound by an enclosing `let`: index into the binding stack.
    Local(usize),
    /// `$name` not bound by any `let`: looked up in the caller's variables.
    Global(Box<str>),
    /// Backtick literal or raw string.
    Literal(Value),
    /// `[n]` applied to the current node.
    Index(i64),
    /// `[start:stop:step]` applied to the current node (step is never 0).
    Slice(Option<i64>, Option<i64>, i64),
    /// `lhs.rhs` (null left side gives null).
    Sub(Box<Node>, Box<Node>),
    /// `lhs | rhs`
    Pipe(Box<Node>, Box<Node>),
    /// List projection: evaluate rhs on every element of the array lhs.
    Projection(Box<Node>, Box<Node>),
    /// Object projection: evaluate rhs on every value of the object lhs.
    ValueProjection(Box<Node>, Box<Node>),
    /// `cond ? then : else` (JEP-21).
    Ternary(Box<Node>, Box<Node>, Box<Node>),
    /// Filter projection: lhs, condition, rhs.
    Filter(Box<Node>, Box<Node>, Box<Node>),
    /// `lhs[]` flattening (one level).
    Flatten(Box<Node>),
    MultiList(Vec<Node>),
    MultiHash(Vec<(Box<str>, Node)>),
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    Arith(ArithOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Pos(Box<Node>),
    /// Function call with the function resolved at compile time.
    Call(&'static Function, Vec<Node>),
    /// `&expr`, only ever a direct function argument.
    ExpRef(Box<Node>),
    /// `let $a = .., $b = .. in body`: bindings pushed in order, then body.
    Let(Vec<Node>, Box<Node>),
}

impl Node {
    /// Wraps `kind`, computing the subtree depth from its children.
    pub(super) fn new(kind: Kind) -> Node {
        fn d(n: &Node) -> usize {
            n.depth
        }
        let child = match &kind {
            Kind::Identity
            | Kind::Root
            | Kind::Field(_)
            | Kind::Local(_)
            | Kind::Global(_)
            | Kind::Literal(_)
            | Kind::Index(_)
            | Kind::Slice(..) => 0,
            Kind::Sub(a, b)
            | Kind::Pipe(a, b)
            | Kind::Projection(a, b)
            | Kind::ValueProjection(a, b)
            | Kind::Or(a, b)
            | Kind::And(a, b)
            | Kind::Cmp(_, a, b)
            | Kind::Arith(_, a, b) => d(a).max(d(b)),
            Kind::Filter(a, b, c) | Kind::Ternary(a, b, c) => d(a).max(d(b)).max(d(c)),
            Kind::Flatten(a) | Kind::Not(a) | Kind::Neg(a) | Kind::Pos(a) | Kind::ExpRef(a) => d(a),
            Kind::MultiList(v) | Kind::Call(_, v) => v.iter().map(d).max().unwrap_or(0),
            Kind::MultiHash(v) => v.iter().map(|(_, n)| d(n)).max().unwrap_or(0),
            Kind::Let(v, b) => v.iter().map(d).max().unwrap_or(0).max(d(b)),
        };
        Node {
            kind,
            depth: child + 1,
        }
    }

    pub(super) fn is_identity(&self) -> bool {
        matches!(self.kind, Kind::Identity)
    }
}
