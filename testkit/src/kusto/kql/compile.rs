//! Name resolution and type checking: turns an [`Expr`] into a typed [`TExpr`] against a schema.
//!
//! Every construct the emulator cannot answer exactly is refused here with a Kusto-like error.

use super::ast::{BinOp, Expr, ExprKind, Lit};
use super::error::KqlError;
use super::value::{Type, Value};

use super::typed::{Ext, StrFn};
/// Column names and types of a table flowing between operators.
pub use super::typed::{Func, Schema, TExpr, TKind};
mod calls;

/// Aggregation function names (only valid directly inside summarize).
pub const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "sum",
    "avg",
    "min",
    "max",
    "dcount",
    "arg_max",
    "arg_min",
    "percentile",
    "percentiles",
    "take_any",
    "make_list",
    "make_set",
    "make_bag",
    "make_list_if",
    "make_set_if",
    "make_bag_if",
    "sumif",
    "avgif",
    "minif",
    "maxif",
    "dcountif",
];

/// Known KQL functions outside the subset: refused as unsupported rather than unknown.
const UNSUPPORTED_KNOWN: &[&str] = &[
    "replace",
    "ceiling",
    "sqrt",
    "log",
    "pow",
    "exp",
    "bag_keys",
    "toguid",
    "totimespan",
    "todecimal",
    "stdev",
    "variance",
    "any",
    "hash",
    "gettype",
    "unixtime_seconds_todatetime",
];

/// Compilation context: the input schema and the query's fixed `now()`.
pub struct Ctx<'a> {
    pub schema: &'a [(String, Type)],
    pub now: i64,
}

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::EqTilde => "=~",
        BinOp::NeTilde => "!~",
        BinOp::And => "and",
        BinOp::Or => "or",
    }
}

/// The column name Kusto derives for an unnamed expression: `Col`, `Value.x` -> `Value_x`,
/// `Value[0]` -> `Value_0`; None when the emulator would have to guess.
pub fn derive_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Member(b, k) => Some(format!("{}_{}", derive_name(b)?, k)),
        ExprKind::Index(b, i) if *i >= 0 => Some(format!("{}_{}", derive_name(b)?, i)),
        _ => None,
    }
}

/// Common type of two branches (iff/coalesce): identical, or widened numerics.
fn unify(a: Type, b: Type) -> Option<Type> {
    if a == b {
        return Some(a);
    }
    match (a, b) {
        (Type::Int, Type::Long) | (Type::Long, Type::Int) => Some(Type::Long),
        (x, y) if x.is_numeric() && y.is_numeric() => Some(Type::Real),
        _ => None,
    }
}

impl<'a> Ctx<'a> {
    /// Resolves and type-checks `e`.
    pub fn compile(&self, e: &Expr) -> Result<TExpr, KqlError> {
        let pos = e.pos;
        let t = |kind: TKind, ty: Type| Ok(TExpr { kind, ty, pos });
        match &e.kind {
            ExprKind::Lit(l) => {
                let (v, ty) = match l {
                    Lit::Long(v) => (Value::Long(*v), Type::Long),
                    Lit::Real(v) => (Value::Real(*v), Type::Real),
                    Lit::Str(s) => (Value::Str(s.clone()), Type::String),
                    Lit::Bool(b) => (Value::Bool(*b), Type::Bool),
                    Lit::DateTime(v) => (v.map_or(Value::Null, Value::DateTime), Type::DateTime),
                    Lit::TimeSpan(v) => (v.map_or(Value::Null, Value::TimeSpan), Type::TimeSpan),
                    Lit::Guid(v) => (v.clone().map_or(Value::Null, Value::Guid), Type::Guid),
                    Lit::Int(v) => (v.map_or(Value::Null, Value::Long), Type::Int),
                    Lit::NullLong => (Value::Null, Type::Long),
                    Lit::NullReal => (Value::Null, Type::Real),
                    Lit::NullBool => (Value::Null, Type::Bool),
                    Lit::Dynamic(j) if j.is_null() => (Value::Null, Type::Dynamic),
                    Lit::Dynamic(j) => (Value::Dynamic(j.clone()), Type::Dynamic),
                };
                t(TKind::Lit(v), ty)
            }
            ExprKind::Name(n) => match self.schema.iter().position(|(c, _)| c == n) {
                Some(i) => t(TKind::Col(i), self.schema[i].1),
                None => Err(err(
                    format!("Failed to resolve scalar expression named '{n}'"),
                    pos,
                )),
            },
            ExprKind::Neg(x) => {
                let x = self.compile(x)?;
                match x.ty {
                    Type::Long | Type::Real | Type::TimeSpan => {
                        let ty = x.ty;
                        t(TKind::Neg(Box::new(x)), ty)
                    }
                    other => Err(err(
                        format!(
                            "The unary operator '-' cannot be applied to a value of type '{}'",
                            other.name()
                        ),
                        pos,
                    )),
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, pos),
            ExprKind::StrOp(word, l, r) => {
                let lt = self.compile(l)?;
                let rt = self.compile(r)?;
                if lt.ty != Type::String || rt.ty != Type::String {
                    return Err(err(
                        format!("The operator '{word}' requires string operands, got '{}' and '{}' (convert with tostring())", lt.ty.name(), rt.ty.name()),
                        pos,
                    ));
                }
                let negated = word.starts_with('!');
                let base = word.trim_start_matches('!');
                let cs = base.ends_with("_cs") || base == "matches regex";
                let base = base.trim_end_matches("_cs").to_string();
                t(
                    TKind::StrOp(base, negated, cs, Box::new(lt), Box::new(rt)),
                    Type::Bool,
                )
            }
            ExprKind::In(word, l, list) if word == "has_any" || word == "has_all" => {
                let f = if word == "has_any" {
                    StrFn::HasAny
                } else {
                    StrFn::HasAll
                };
                let args = std::iter::once(&**l)
                    .chain(list)
                    .map(|a| self.compile(a))
                    .collect::<Result<Vec<_>, _>>()?;
                super::functions::typed(Ext::Str(f), word, args, pos)
            }
            ExprKind::In(word, l, list) => {
                let lt = self.compile(l)?;
                let negated = word.starts_with('!');
                let ci = word.ends_with('~');
                let mut items = Vec::new();
                for item in list {
                    let it = self.compile(item)?;
                    let ok = if ci {
                        lt.ty == Type::String && it.ty == Type::String
                    } else {
                        comparable_eq(lt.ty, it.ty)
                            && lt.ty != Type::Dynamic
                            && it.ty != Type::Dynamic
                    };
                    if !ok {
                        return Err(err(
                            format!("The operator '{word}' cannot compare a value of type '{}' with a list element of type '{}'", lt.ty.name(), it.ty.name()),
                            item.pos,
                        ));
                    }
                    items.push(it);
                }
                t(TKind::In(negated, ci, Box::new(lt), items), Type::Bool)
            }
            ExprKind::Between(neg, x, lo, hi) => {
                let xt = self.compile(x)?;
                let lot = self.compile(lo)?;
                let hit = self.compile(hi)?;
                let ok = match xt.ty {
                    ty if ty.is_numeric() => lot.ty.is_numeric() && hit.ty.is_numeric(),
                    Type::DateTime => {
                        lot.ty == Type::DateTime
                            && matches!(hit.ty, Type::DateTime | Type::TimeSpan)
                    }
                    Type::TimeSpan => lot.ty == Type::TimeSpan && hit.ty == Type::TimeSpan,
                    _ => false,
                };
                if !ok {
                    return Err(err(
                        format!(
                            "The operator 'between' cannot be applied to types '{}', '{}' and '{}'",
                            xt.ty.name(),
                            lot.ty.name(),
                            hit.ty.name()
                        ),
                        pos,
                    ));
                }
                t(
                    TKind::Between(*neg, Box::new(xt), Box::new(lot), Box::new(hit)),
                    Type::Bool,
                )
            }
            ExprKind::Member(b, k) => {
                let bt = self.compile(b)?;
                if bt.ty != Type::Dynamic {
                    return Err(err(format!("Property access requires a dynamic value, but the expression is of type '{}'", bt.ty.name()), pos));
                }
                t(TKind::Member(Box::new(bt), k.clone()), Type::Dynamic)
            }
            ExprKind::Index(b, i) => {
                let bt = self.compile(b)?;
                if bt.ty != Type::Dynamic {
                    return Err(err(
                        format!(
                            "Indexing requires a dynamic value, but the expression is of type '{}'",
                            bt.ty.name()
                        ),
                        pos,
                    ));
                }
                if *i < 0 {
                    return Err(err("Negative array indexes are not supported", pos));
                }
                t(TKind::Index(Box::new(bt), *i), Type::Dynamic)
            }
            ExprKind::Call(name, args) => self.call(name, args, pos),
            ExprKind::Star => Err(err(
                "Syntax error: '*' is only allowed as an argument of arg_max() or arg_min()",
                pos,
            )),
        }
    }

    fn binary(&self, op: BinOp, l: &Expr, r: &Expr, pos: usize) -> Result<TExpr, KqlError> {
        let lt = self.compile(l)?;
        let rt = self.compile(r)?;
        let (a, b) = (lt.ty, rt.ty);
        let mk = |kind: fn(Box<TExpr>, Box<TExpr>) -> TKind, ty| {
            Ok(TExpr {
                kind: kind(Box::new(lt.clone()), Box::new(rt.clone())),
                ty,
                pos,
            })
        };
        match op {
            BinOp::And | BinOp::Or => {
                if a != Type::Bool || b != Type::Bool {
                    return Err(err(
                        format!(
                            "The operator '{}' requires bool operands, got '{}' and '{}'",
                            op_text(op),
                            a.name(),
                            b.name()
                        ),
                        pos,
                    ));
                }
                if op == BinOp::And {
                    mk(TKind::And, Type::Bool)
                } else {
                    mk(TKind::Or, Type::Bool)
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                use Type::*;
                // int and long both make a long (the arithmetic type rules); ints are held
                // as longs already.
                let widen = |t: Type| if t == Int { Long } else { t };
                let (a, b) = (widen(a), widen(b));
                let ty = match (op, a, b) {
                    (_, Long, Long) => Some(Long),
                    (_, Long | Real, Long | Real) => Some(Real),
                    (BinOp::Add | BinOp::Sub, DateTime, TimeSpan) => Some(DateTime),
                    (BinOp::Add, TimeSpan, DateTime) => Some(DateTime),
                    (BinOp::Sub, DateTime, DateTime) => Some(TimeSpan),
                    (BinOp::Add | BinOp::Sub, TimeSpan, TimeSpan) => Some(TimeSpan),
                    (BinOp::Div, TimeSpan, TimeSpan) => Some(Real),
                    (BinOp::Mul, TimeSpan, Long) | (BinOp::Mul, Long, TimeSpan) => Some(TimeSpan),
                    _ => None,
                };
                match ty {
                    Some(ty) => Ok(TExpr { kind: TKind::Arith(op, Box::new(lt), Box::new(rt)), ty, pos }),
                    None => Err(err(
                        format!("The operator '{}' cannot be applied to operands of types '{}' and '{}'", op_text(op), a.name(), b.name()),
                        pos,
                    )),
                }
            }
            _ => {
                let ordering = matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge);
                let tilde = matches!(op, BinOp::EqTilde | BinOp::NeTilde);
                let ok = if tilde {
                    matches!(
                        (a, b),
                        (Type::String, Type::String)
                            | (Type::Dynamic, Type::String)
                            | (Type::String, Type::Dynamic)
                    )
                } else if ordering {
                    let orderable =
                        |t: Type| t.is_numeric() || matches!(t, Type::DateTime | Type::TimeSpan);
                    (orderable(a) && comparable_eq(a, b))
                        || (a == Type::Dynamic && b.is_numeric())
                        || (b == Type::Dynamic && a.is_numeric())
                } else {
                    comparable_eq(a, b)
                };
                if !ok {
                    return Err(err(
                        format!(
                            "Cannot compare values of types {} and {}. Try adding explicit casts",
                            a.name(),
                            b.name()
                        ),
                        pos,
                    ));
                }
                Ok(TExpr {
                    kind: TKind::Cmp(op, Box::new(lt), Box::new(rt)),
                    ty: Type::Bool,
                    pos,
                })
            }
        }
    }
}

/// Whether values of the two types may be compared for equality.
fn comparable_eq(a: Type, b: Type) -> bool {
    use Type::*;
    match (a, b) {
        (x, y) if x.is_numeric() && y.is_numeric() => true,
        (Dynamic, Dynamic) => false,
        (Dynamic, x) | (x, Dynamic) => x.is_numeric() || matches!(x, String | Bool),
        (Decimal, _) | (_, Decimal) => false,
        (x, y) => x == y,
    }
}
