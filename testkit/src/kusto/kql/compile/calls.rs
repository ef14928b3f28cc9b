//! The core scalar functions (`now`, `ago`, `bin`, conversions, string and null tests):
//! type-checked here; the further functions are in [`super::super::functions`].

use super::super::ast::{BinOp, Expr};
use super::super::error::KqlError;
use super::super::value::{Type, Value};
use super::{err, unify, Ctx, Func, TExpr, TKind, AGGREGATES, UNSUPPORTED_KNOWN};

impl Ctx<'_> {
    pub(super) fn call(&self, name: &str, args: &[Expr], pos: usize) -> Result<TExpr, KqlError> {
        if let Some(ext) = super::super::functions::lookup(name) {
            let compiled = args
                .iter()
                .map(|a| self.compile(a))
                .collect::<Result<Vec<_>, _>>()?;
            return super::super::functions::typed(ext, name, compiled, pos);
        }
        if AGGREGATES.contains(&name) {
            return Err(err(format!("Function '{name}' cannot be invoked in current context (aggregations are only allowed directly in summarize)"), pos));
        }
        let arity = |n: usize| -> Result<(), KqlError> {
            if args.len() != n {
                Err(err(
                    format!(
                        "Function '{name}' expects {n} argument(s), got {}",
                        args.len()
                    ),
                    pos,
                ))
            } else {
                Ok(())
            }
        };
        let bad_arg = |t: Type| {
            err(
                format!(
                    "Function '{name}' does not accept an argument of type '{}'",
                    t.name()
                ),
                pos,
            )
        };
        match name {
            "now" => {
                arity(0)?;
                Ok(TExpr {
                    kind: TKind::Lit(Value::DateTime(self.now)),
                    ty: Type::DateTime,
                    pos,
                })
            }
            "ago" => {
                arity(1)?;
                let a = self.compile(&args[0])?;
                if a.ty != Type::TimeSpan {
                    return Err(bad_arg(a.ty));
                }
                let now = TExpr {
                    kind: TKind::Lit(Value::DateTime(self.now)),
                    ty: Type::DateTime,
                    pos,
                };
                Ok(TExpr {
                    kind: TKind::Arith(BinOp::Sub, Box::new(now), Box::new(a)),
                    ty: Type::DateTime,
                    pos,
                })
            }
            "bin" | "floor" => {
                arity(2)?;
                let x = self.compile(&args[0])?;
                let s = self.compile(&args[1])?;
                let ty = match (x.ty, s.ty) {
                    (Type::Long, Type::Long) => Type::Long,
                    (Type::Long | Type::Real, Type::Long | Type::Real) => Type::Real,
                    (Type::DateTime, Type::TimeSpan) => Type::DateTime,
                    (Type::TimeSpan, Type::TimeSpan) => Type::TimeSpan,
                    _ => {
                        return Err(err(
                            format!("Function '{name}' cannot be applied to arguments of types '{}' and '{}'", x.ty.name(), s.ty.name()),
                            pos,
                        ))
                    }
                };
                Ok(TExpr {
                    kind: TKind::Func(Func::Bin, vec![x, s]),
                    ty,
                    pos,
                })
            }
            "tostring" | "toint" | "tolong" | "todouble" | "toreal" | "todatetime" | "strlen"
            | "tolower" | "toupper" | "isnull" | "isnotnull" | "isempty" | "isnotempty" | "not" => {
                arity(1)?;
                let a = self.compile(&args[0])?;
                let (f, ty, ok) = unary_signature(name, a.ty);
                if !ok {
                    return Err(bad_arg(a.ty));
                }
                Ok(TExpr {
                    kind: TKind::Func(f, vec![a]),
                    ty,
                    pos,
                })
            }
            "iff" | "iif" => {
                arity(3)?;
                self.iff(name, args, pos)
            }
            "coalesce" => self.coalesce(args, pos),
            _ if UNSUPPORTED_KNOWN.contains(&name) => Err(err(
                format!("Function '{name}' is not supported by the emulator"),
                pos,
            )),
            _ => Err(err(format!("Unknown function: '{name}'."), pos)),
        }
    }

    /// `iff(condition, then, else)`: a bool condition, branches of one type.
    fn iff(&self, name: &str, args: &[Expr], pos: usize) -> Result<TExpr, KqlError> {
        let c = self.compile(&args[0])?;
        if c.ty != Type::Bool {
            return Err(err(
                format!(
                    "The first argument of '{name}' must be of type bool, not '{}'",
                    c.ty.name()
                ),
                args[0].pos,
            ));
        }
        let a = self.compile(&args[1])?;
        let b = self.compile(&args[2])?;
        let ty = unify(a.ty, b.ty).ok_or_else(|| {
            err(
                format!(
                    "The branches of '{name}' must have the same type, got '{}' and '{}'",
                    a.ty.name(),
                    b.ty.name()
                ),
                pos,
            )
        })?;
        Ok(TExpr {
            kind: TKind::Func(Func::Iff, vec![c, a, b]),
            ty,
            pos,
        })
    }

    /// `coalesce(a, b, ...)`: the first non-null of values of one type.
    fn coalesce(&self, args: &[Expr], pos: usize) -> Result<TExpr, KqlError> {
        if args.len() < 2 {
            return Err(err("Function 'coalesce' expects at least 2 arguments", pos));
        }
        let mut out = Vec::new();
        let mut ty: Option<Type> = None;
        for a in args {
            let c = self.compile(a)?;
            ty = Some(match ty {
                None => c.ty,
                Some(t) => unify(t, c.ty).ok_or_else(|| {
                    err(format!("The arguments of 'coalesce' must have the same type, got '{}' and '{}'", t.name(), c.ty.name()), a.pos)
                })?,
            });
            out.push(c);
        }
        let ty = ty.unwrap_or(Type::Dynamic);
        Ok(TExpr {
            kind: TKind::Func(Func::Coalesce, out),
            ty,
            pos,
        })
    }
}

/// The function, result type and whether the argument type is accepted, for the one-argument
/// conversions and tests.
fn unary_signature(name: &str, ty: Type) -> (Func, Type, bool) {
    let convertible = matches!(
        ty,
        Type::Int | Type::Long | Type::Real | Type::String | Type::Bool | Type::Dynamic
    );
    match name {
        "tostring" => (Func::ToString, Type::String, ty != Type::Decimal),
        "toint" => (Func::ToInt, Type::Int, convertible),
        "tolong" => (Func::ToLong, Type::Long, convertible),
        "todouble" | "toreal" => (Func::ToReal, Type::Real, convertible),
        "todatetime" => (
            Func::ToDateTime,
            Type::DateTime,
            matches!(ty, Type::DateTime | Type::String | Type::Dynamic),
        ),
        "strlen" => (Func::StrLen, Type::Long, ty == Type::String),
        "tolower" => (Func::ToLower, Type::String, ty == Type::String),
        "toupper" => (Func::ToUpper, Type::String, ty == Type::String),
        "isnull" => (Func::IsNull, Type::Bool, true),
        "isnotnull" => (Func::IsNotNull, Type::Bool, true),
        "isempty" => (Func::IsEmpty, Type::Bool, ty != Type::Decimal),
        "isnotempty" => (Func::IsNotEmpty, Type::Bool, ty != Type::Decimal),
        _ => (Func::Not, Type::Bool, ty == Type::Bool),
    }
}
