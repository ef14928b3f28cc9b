//! Evaluator: walks the syntax tree over borrowed input, producing [`Val`]s.

use super::ast::{Arg, ArithOp, CmpOp, Function, Kind, Node};
use super::ctx::Ctx;
use super::error::EvalError;
use super::value::{equal, Num, Text, Val, View};

impl<'a> Ctx<'a> {
    /// Evaluates `node` with `cur` as the current node.
    ///
    /// Simple nodes are handled inline; the others live in helper methods so
    /// that this frame, which sits on every level of recursion, stays small.
    pub(super) fn eval(&mut self, node: &'a Node, cur: &Val<'a>) -> Result<Val<'a>, EvalError> {
        match &node.kind {
            Kind::Identity => Ok(cur.clone()),
            Kind::Root => Ok(Val::Ref(self.root)),
            Kind::Field(name) => Ok(cur.field(name)),
            Kind::Local(i) => Ok(self.env.get(*i).cloned().unwrap_or(Val::Null)),
            Kind::Global(name) => self.global(name),
            Kind::Literal(v) => Ok(Val::Ref(v)),
            Kind::Index(i) => Ok(index(cur, *i)),
            Kind::Slice(a, b, c) => Ok(slice(cur, *a, *b, *c)),
            Kind::Sub(l, r) => {
                let lv = self.eval(l, cur)?;
                if lv.is_null() {
                    Ok(Val::Null)
                } else {
                    self.eval(r, &lv)
                }
            }
            Kind::Pipe(l, r) => {
                let lv = self.eval(l, cur)?;
                self.eval(r, &lv)
            }
            Kind::Projection(l, r) => self.list_projection(l, r, cur),
            Kind::ValueProjection(l, r) => self.value_projection(l, r, cur),
            Kind::Filter(l, c, r) => self.filter(l, c, r, cur),
            Kind::Flatten(inner) => self.flatten(inner, cur),
            Kind::MultiList(items) => self.multi_list(items, cur),
            Kind::MultiHash(items) => self.multi_hash(items, cur),
            Kind::Or(l, r) => {
                let lv = self.eval(l, cur)?;
                if lv.truthy() {
                    Ok(lv)
                } else {
                    self.eval(r, cur)
                }
            }
            Kind::And(l, r) => {
                let lv = self.eval(l, cur)?;
                if lv.truthy() {
                    self.eval(r, cur)
                } else {
                    Ok(lv)
                }
            }
            Kind::Ternary(c, t, e) => {
                if self.eval(c, cur)?.truthy() {
                    self.eval(t, cur)
                } else {
                    self.eval(e, cur)
                }
            }
            Kind::Not(e) => Ok(Val::Bool(!self.eval(e, cur)?.truthy())),
            Kind::Cmp(op, l, r) => self.compare(*op, l, r, cur),
            Kind::Arith(op, l, r) => self.arith(*op, l, r, cur),
            Kind::Neg(e) => self.unary(e, true, cur),
            Kind::Pos(e) => self.unary(e, false, cur),
            Kind::Call(f, args) => self.call(f, args, cur),
            Kind::ExpRef(_) => Err(EvalError::invalid_type(
                "an expression reference '&...' can only be used as a function argument",
            )),
            Kind::Let(bindings, body) => self.let_expr(bindings, body, cur),
        }
    }

    fn global(&self, name: &str) -> Result<Val<'a>, EvalError> {
        match self.vars.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(Val::Ref(v)),
            None => Err(EvalError::new(
                "undefined-variable",
                format!("${name} is not defined: no enclosing let binds it and it was not supplied by the caller"),
            )),
        }
    }

    fn list_projection(
        &mut self,
        l: &'a Node,
        r: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let base = self.eval(l, cur)?;
        match base.view() {
            View::Arr(items) => self.project(items.iter(), r),
            // Slicing a string gives a string, which is not projected.
            View::Str(_) if is_slice(l) => self.eval(r, &base),
            _ => Ok(Val::Null),
        }
    }

    fn value_projection(
        &mut self,
        l: &'a Node,
        r: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let base = self.eval(l, cur)?;
        let View::Obj(o) = base.view() else {
            return Ok(Val::Null);
        };
        self.project(o.values().into_iter(), r)
    }

    fn filter(
        &mut self,
        l: &'a Node,
        c: &'a Node,
        r: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let base = self.eval(l, cur)?;
        let View::Arr(items) = base.view() else {
            return Ok(Val::Null);
        };
        let mut out = Vec::new();
        for el in items.iter() {
            if self.eval(c, &el)?.truthy() {
                let v = if r.is_identity() {
                    el
                } else {
                    self.eval(r, &el)?
                };
                if !v.is_null() {
                    out.push(v);
                }
            }
        }
        Ok(Val::arr(out))
    }

    fn flatten(&mut self, inner: &'a Node, cur: &Val<'a>) -> Result<Val<'a>, EvalError> {
        let base = self.eval(inner, cur)?;
        let View::Arr(items) = base.view() else {
            return Ok(Val::Null);
        };
        let mut out = Vec::with_capacity(items.len());
        for el in items.iter() {
            match el.view() {
                View::Arr(sub) => out.extend(sub.iter()),
                _ => out.push(el.clone()),
            }
        }
        Ok(Val::arr(out))
    }

    /// `[a, b]`; null when the current node is null, as the specification's reference does.
    fn multi_list(&mut self, items: &'a [Node], cur: &Val<'a>) -> Result<Val<'a>, EvalError> {
        if cur.is_null() {
            return Ok(Val::Null);
        }
        let mut out = Vec::with_capacity(items.len());
        for n in items {
            out.push(self.eval(n, cur)?);
        }
        Ok(Val::arr(out))
    }

    /// `{k: v}`; null when the current node is null, like `multi_list`.
    fn multi_hash(
        &mut self,
        items: &'a [(Box<str>, Node)],
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        if cur.is_null() {
            return Ok(Val::Null);
        }
        let mut out: Vec<(Text<'a>, Val<'a>)> = Vec::with_capacity(items.len());
        for (k, n) in items {
            let value = self.eval(n, cur)?;
            // A repeated key keeps its first position and takes the last value.
            match out.iter_mut().find(|(seen, _)| seen.as_str() == &**k) {
                Some(slot) => slot.1 = value,
                None => out.push((Text::B(k), value)),
            }
        }
        Ok(Val::Obj(std::rc::Rc::new(out)))
    }

    fn compare(
        &mut self,
        op: CmpOp,
        l: &'a Node,
        r: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let a = self.eval(l, cur)?;
        let b = self.eval(r, cur)?;
        Ok(compare(op, &a, &b))
    }

    fn arith(
        &mut self,
        op: ArithOp,
        l: &'a Node,
        r: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let a = self.eval(l, cur)?;
        let b = self.eval(r, cur)?;
        arith(op, &a, &b)
    }

    fn unary(&mut self, e: &'a Node, negate: bool, cur: &Val<'a>) -> Result<Val<'a>, EvalError> {
        let v = self.eval(e, cur)?;
        match (v.as_num(), negate) {
            (Some(Num::I(i)), true) => Ok(i
                .checked_neg()
                .map(Val::Int)
                .unwrap_or(Val::Float(-(i as f64)))),
            (Some(Num::F(f)), true) => Ok(Val::Float(-f)),
            (Some(_), false) => Ok(v),
            (None, _) => Err(EvalError::invalid_type(format!(
                "unary '{}' expects a number, got {}",
                if negate { "-" } else { "+" },
                v.type_name()
            ))),
        }
    }

    fn call(
        &mut self,
        f: &'static Function,
        args: &'a [Node],
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let mut vals: Vec<Arg<'a>> = Vec::with_capacity(args.len());
        for a in args {
            match &a.kind {
                Kind::ExpRef(e) => vals.push(Arg::Expr(e)),
                _ => vals.push(Arg::Val(self.eval(a, cur)?)),
            }
        }
        f.call(self, &vals)
    }

    fn let_expr(
        &mut self,
        bindings: &'a [Node],
        body: &'a Node,
        cur: &Val<'a>,
    ) -> Result<Val<'a>, EvalError> {
        let mark = self.env.len();
        for b in bindings {
            match self.eval(b, cur) {
                Ok(v) => self.env.push(v),
                Err(e) => {
                    self.env.truncate(mark);
                    return Err(e);
                }
            }
        }
        let out = self.eval(body, cur);
        self.env.truncate(mark);
        out
    }

    fn project(
        &mut self,
        items: impl Iterator<Item = Val<'a>>,
        rhs: &'a Node,
    ) -> Result<Val<'a>, EvalError> {
        let mut out = Vec::with_capacity(items.size_hint().0);
        if rhs.is_identity() {
            out.extend(items.filter(|v| !v.is_null()));
        } else {
            for el in items {
                let v = self.eval(rhs, &el)?;
                if !v.is_null() {
                    out.push(v);
                }
            }
        }
        Ok(Val::arr(out))
    }
}

fn is_slice(n: &Node) -> bool {
    match &n.kind {
        Kind::Slice(..) => true,
        Kind::Sub(_, r) => matches!(r.kind, Kind::Slice(..)),
        _ => false,
    }
}

fn index<'a>(cur: &Val<'a>, i: i64) -> Val<'a> {
    let View::Arr(a) = cur.view() else {
        return Val::Null;
    };
    let len = a.len() as i64;
    let idx = if i < 0 { len + i } else { i };
    if idx < 0 || idx >= len {
        return Val::Null;
    }
    a.get(idx as usize).unwrap_or(Val::Null)
}

/// Python-style slice index computation; returns the selected indices.
pub(super) fn slice_indices(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> Vec<usize> {
    let len = len as i64;
    let adjust = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(mut x) => {
                if x < 0 {
                    x += len;
                    if x < 0 {
                        x = if step < 0 { -1 } else { 0 };
                    }
                } else if x >= len {
                    x = if step < 0 { len - 1 } else { len };
                }
                x
            }
        }
    };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, stop) = (adjust(start, 0), adjust(stop, len));
        while i < stop {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(n) => i = n,
                None => break,
            }
        }
    } else if step < 0 {
        let (mut i, stop) = (adjust(start, len - 1), adjust(stop, -1));
        while i > stop {
            out.push(i as usize);
            match i.checked_add(step) {
                Some(n) => i = n,
                None => break,
            }
        }
    }
    out
}

fn slice<'a>(cur: &Val<'a>, start: Option<i64>, stop: Option<i64>, step: i64) -> Val<'a> {
    match cur.view() {
        View::Arr(a) => {
            let idx = slice_indices(a.len(), start, stop, step);
            Val::arr(idx.into_iter().filter_map(|i| a.get(i)).collect())
        }
        View::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let idx = slice_indices(chars.len(), start, stop, step);
            let out: String = idx.into_iter().filter_map(|i| chars.get(i)).collect();
            Val::string(out)
        }
        _ => Val::Null,
    }
}

fn compare<'a>(op: CmpOp, a: &Val<'a>, b: &Val<'a>) -> Val<'a> {
    match op {
        CmpOp::Eq => Val::Bool(equal(a, b)),
        CmpOp::Ne => Val::Bool(!equal(a, b)),
        _ => {
            let ord = match (a.as_num(), b.as_num()) {
                (Some(x), Some(y)) if !x.f().is_nan() && !y.f().is_nan() => x.cmp(y),
                // Strings order by code point (UTF-8 byte order is the same), as the
                // reference implementation and the Community edition do.
                (None, None) => match (a.view(), b.view()) {
                    (View::Str(x), View::Str(y)) => x.cmp(y),
                    _ => return Val::Null,
                },
                _ => return Val::Null,
            };
            Val::Bool(match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
    }
}

fn finite<'a>(f: f64, op: ArithOp) -> Result<Val<'a>, EvalError> {
    if f.is_finite() {
        Ok(Val::Float(f))
    } else {
        Err(EvalError::not_a_number(format!(
            "the result of '{}' is not a finite number",
            op.symbol()
        )))
    }
}

/// Binary arithmetic with integer preservation.
pub(super) fn arith<'a>(op: ArithOp, a: &Val<'a>, b: &Val<'a>) -> Result<Val<'a>, EvalError> {
    let (Some(x), Some(y)) = (a.as_num(), b.as_num()) else {
        return Err(EvalError::invalid_type(format!(
            "the '{}' operator expects numbers on both sides, got {} and {}",
            op.symbol(),
            a.type_name(),
            b.type_name()
        )));
    };
    let zero = || EvalError::not_a_number(format!("division by zero in '{}'", op.symbol()));
    if let (Num::I(i), Num::I(j)) = (x, y) {
        let exact = match op {
            ArithOp::Add => i.checked_add(j),
            ArithOp::Sub => i.checked_sub(j),
            ArithOp::Mul => i.checked_mul(j),
            ArithOp::Div => None,
            ArithOp::IntDiv => {
                if j == 0 {
                    return Err(zero());
                }
                i.checked_div(j).map(|q| {
                    if (i % j != 0) && ((i < 0) != (j < 0)) {
                        q - 1
                    } else {
                        q
                    }
                })
            }
            ArithOp::Mod => {
                if j == 0 {
                    return Err(zero());
                }
                Some(match i.checked_rem(j) {
                    Some(r) if r != 0 && ((r < 0) != (j < 0)) => r + j,
                    Some(r) => r,
                    None => 0,
                })
            }
        };
        if let Some(v) = exact {
            return Ok(Val::Int(v));
        }
    }
    let (p, q) = (x.f(), y.f());
    match op {
        ArithOp::Add => finite(p + q, op),
        ArithOp::Sub => finite(p - q, op),
        ArithOp::Mul => finite(p * q, op),
        ArithOp::Div => {
            if q == 0.0 {
                return Err(zero());
            }
            finite(p / q, op)
        }
        ArithOp::IntDiv => {
            if q == 0.0 {
                return Err(zero());
            }
            finite((p / q).floor(), op)
        }
        ArithOp::Mod => {
            if q == 0.0 {
                return Err(zero());
            }
            let mut r = p % q;
            if r != 0.0 && ((r < 0.0) != (q < 0.0)) {
                r += q;
            }
            finite(r, op)
        }
    }
}
