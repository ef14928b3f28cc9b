//! Abstract syntax tree produced by the parser and walked by the evaluator.

use serde_json::Value;

use super::ctx::Ctx;
use super::error::EvalError;
use super::value::{ArrView, Val, View};
use std::fmt;

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

// ---- resolved function calls: what a `Call` node points at ----
//
// These live with the tree because the types refer to each other (a call node names its
// function; a function's argument may be an expression node); the implementations are in
// `functions.rs`.

/// An evaluated function argument.
pub(super) enum Arg<'a> {
    Val(Val<'a>),
    Expr(&'a Node),
}

/// Parameter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Any,
    Number,
    String,
    Array,
    Object,
    Expref,
    ArrayNumber,
    ArrayString,
    ArrayNumOrStr,
    StrOrArr,
    StrArrObj,
}

impl Ty {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::Number => "number",
            Ty::String => "string",
            Ty::Array => "array",
            Ty::Object => "object",
            Ty::Expref => "expression reference (&expr)",
            Ty::ArrayNumber => "array[number]",
            Ty::ArrayString => "array[string]",
            Ty::ArrayNumOrStr => "array[number] or array[string]",
            Ty::StrOrArr => "string or array",
            Ty::StrArrObj => "string, array or object",
        }
    }

    /// Checks `v`; on mismatch returns a description of what was found.
    fn check(self, v: &Val<'_>) -> Result<(), String> {
        let view = v.view();
        let ok = match (self, &view) {
            (Ty::Any, _) => true,
            (Ty::Number, View::Num(_)) => true,
            (Ty::String, View::Str(_)) => true,
            (Ty::Array, View::Arr(_)) => true,
            (Ty::Object, View::Obj(_)) => true,
            (Ty::StrOrArr, View::Str(_) | View::Arr(_)) => true,
            (Ty::StrArrObj, View::Str(_) | View::Arr(_) | View::Obj(_)) => true,
            (Ty::ArrayNumber | Ty::ArrayString | Ty::ArrayNumOrStr, View::Arr(a)) => {
                return check_elements(self, *a);
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(v.type_name().to_owned())
        }
    }
}

fn check_elements(ty: Ty, a: ArrView<'_, '_>) -> Result<(), String> {
    let mut first: Option<&'static str> = None;
    for (i, el) in a.iter().enumerate() {
        let t = el.type_name();
        let allowed = match ty {
            Ty::ArrayNumber => t == "number",
            Ty::ArrayString => t == "string",
            _ => t == "number" || t == "string",
        };
        if !allowed {
            return Err(format!("an array with a {t} at index {i}"));
        }
        match first {
            None => first = Some(t),
            Some(f) if f != t => {
                return Err(format!(
                    "an array mixing {f}s and {t}s (a {t} at index {i})"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

type R<'a> = Result<Val<'a>, EvalError>;

/// Implementation signature: arguments are already type-checked.
pub(super) type Imp = for<'a> fn(&mut Ctx<'a>, &[Arg<'a>]) -> Result<Val<'a>, EvalError>;

/// A built-in function.
pub(super) struct Function {
    pub name: &'static str,
    pub(super) params: &'static [Ty],
    /// How many trailing parameters may be omitted.
    pub(super) optional: usize,
    /// Whether the last parameter repeats.
    pub(super) variadic: bool,
    pub(super) imp: Imp,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}()", self.name)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Function {
    /// Type expected for argument `i` (0-based).
    pub(super) fn param(&self, i: usize) -> Ty {
        self.params
            .get(i)
            .or(self.params.last())
            .copied()
            .unwrap_or(Ty::Any)
    }

    /// A message if `n` arguments is not acceptable.
    pub(super) fn arity_error(&self, n: usize) -> Option<String> {
        let min = self.params.len() - self.optional;
        let max = self.params.len();
        let expected = if self.variadic {
            if n >= min {
                return None;
            }
            format!("at least {min} argument{}", plural(min))
        } else {
            if n >= min && n <= max {
                return None;
            }
            if min == max {
                format!("exactly {min} argument{}", plural(min))
            } else {
                format!("{min} to {max} arguments")
            }
        };
        Some(format!(
            "invalid-arity: {}() takes {expected}, but {n} {} given",
            self.name,
            if n == 1 { "was" } else { "were" }
        ))
    }

    /// Type-checks the arguments and runs the function.
    pub(super) fn call<'a>(&self, ctx: &mut Ctx<'a>, args: &[Arg<'a>]) -> R<'a> {
        for (i, a) in args.iter().enumerate() {
            let ty = self.param(i);
            match a {
                Arg::Val(v) => {
                    if ty == Ty::Expref {
                        return Err(EvalError::invalid_type(format!(
                            "{}() expects argument {} to be an expression reference (&expr), got {}",
                            self.name,
                            i + 1,
                            v.type_name()
                        )));
                    }
                    if let Err(got) = ty.check(v) {
                        return Err(EvalError::invalid_type(format!(
                            "{}() expects argument {} to be {}, got {got}",
                            self.name,
                            i + 1,
                            ty.describe()
                        )));
                    }
                }
                Arg::Expr(_) => {
                    if ty != Ty::Expref {
                        return Err(EvalError::invalid_type(format!(
                            "{}() expects argument {} to be {}, got an expression reference",
                            self.name,
                            i + 1,
                            ty.describe()
                        )));
                    }
                }
            }
        }
        (self.imp)(ctx, args)
    }
}
