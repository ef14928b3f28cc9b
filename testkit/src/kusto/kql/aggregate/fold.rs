//! Running an aggregation: its start state, folding rows in, and the output columns.

use super::super::error::KqlError;
use super::super::eval::{eval, order};
use super::super::value::{Type, Value};
use super::*;

impl Agg {
    /// make_list/make_set's limit (all for percentile).
    fn max_items(&self) -> usize {
        if self.func == AggFn::Percentile || self.param <= 0.0 {
            usize::MAX
        } else {
            self.param as usize
        }
    }

    /// The argument's type (dynamic when there is none).
    fn arg_type(&self) -> Type {
        self.arg.as_ref().map_or(Type::Dynamic, |a| a.ty)
    }

    /// Fresh state.
    pub fn start(&self) -> State {
        match (self.func, self.ty) {
            (AggFn::Count | AggFn::CountIf, _) => State::Count(0),
            (AggFn::Sum, Type::Long) => State::SumLong(0, 0),
            (AggFn::Sum, _) => State::SumReal(0.0, 0),
            (AggFn::Avg, _) => State::Avg(0.0, 0),
            (AggFn::Min | AggFn::Max, _) => State::Extreme(None),
            (AggFn::DCount, _) => State::Distinct(HashSet::new()),
            (AggFn::Percentile | AggFn::MakeList | AggFn::MakeBag, _) => State::Values(Vec::new()),
            (AggFn::MakeSet, _) => State::Set(HashSet::new(), Vec::new()),
            (AggFn::SumIf, Type::Long) => State::SumLong(0, 0),
            (AggFn::SumIf, _) => State::SumReal(0.0, 0),
            (AggFn::AvgIf, _) => State::Avg(0.0, 0),
            (AggFn::DCountIf, _) => State::Distinct(HashSet::new()),
            // take_any keeps the first row: with no key, no later row is better.
            (AggFn::ArgMax | AggFn::ArgMin | AggFn::TakeAny, _) => State::Arg(Value::Null, None),
        }
    }

    /// Folds one input row into `st`.
    pub fn add(&self, st: &mut State, row: &[Value]) -> Result<(), KqlError> {
        if let Some(f) = &self.filter {
            if eval(f, row)? != Value::Bool(true) {
                return Ok(());
            }
        }
        let v = match &self.arg {
            Some(a) => eval(a, row)?,
            None => Value::Null,
        };
        match st {
            State::Count(n) => {
                if self.func == AggFn::Count || v == Value::Bool(true) {
                    *n += 1;
                }
            }
            State::SumLong(s, n) => {
                if let Value::Long(i) = v {
                    *s = s
                        .checked_add(i)
                        .ok_or_else(|| err("Arithmetic overflow in sum()", self.pos))?;
                    *n += 1;
                }
            }
            State::SumReal(s, n) | State::Avg(s, n) => {
                let f = match v {
                    Value::Long(i) => Some(i as f64),
                    Value::Real(f) => Some(f),
                    _ => None,
                };
                if let Some(f) = f {
                    *s += f;
                    *n += 1;
                }
            }
            State::Extreme(cur) => {
                if v.is_null() {
                    return Ok(());
                }
                if matches!(v, Value::Real(f) if f.is_nan()) {
                    return Err(err(
                        "min()/max() over NaN values is not supported by the emulator",
                        self.pos,
                    ));
                }
                let replace = match cur {
                    None => true,
                    Some(c) => {
                        let o = order(&v, c)
                            .ok_or_else(|| err("values cannot be ordered", self.pos))?;
                        (self.func == AggFn::Min && o.is_lt())
                            || (self.func == AggFn::Max && o.is_gt())
                    }
                };
                if replace {
                    *cur = Some(v);
                }
            }
            State::Distinct(set) => {
                if !v.is_null() {
                    set.insert(key_of(&v));
                }
            }
            State::Values(values) => {
                if !v.is_null() && values.len() < self.max_items() {
                    values.push(v);
                }
            }
            State::Set(seen, values) => {
                if !v.is_null() && values.len() < self.max_items() && seen.insert(key_of(&v)) {
                    values.push(v);
                }
            }
            State::Arg(best, vals) => {
                if matches!(v, Value::Real(f) if f.is_nan()) {
                    return Err(err(
                        "arg_max()/arg_min() over NaN values is not supported by the emulator",
                        self.pos,
                    ));
                }
                // The first row stands in until a row with a non-null key is seen; ties keep
                // the earliest row (Kusto returns any one of them).
                let better = match (&v, &*best) {
                    (Value::Null, _) => false,
                    (_, Value::Null) => true,
                    (x, b) => {
                        let o =
                            order(x, b).ok_or_else(|| err("values cannot be ordered", self.pos))?;
                        (self.func == AggFn::ArgMax && o.is_gt())
                            || (self.func == AggFn::ArgMin && o.is_lt())
                    }
                };
                if better || vals.is_none() {
                    *vals = Some(
                        self.returns
                            .iter()
                            .map(|(_, e)| eval(e, row))
                            .collect::<Result<_, _>>()?,
                    );
                    *best = v;
                }
            }
        }
        Ok(())
    }

    /// The aggregated value; `group_rows` is how many rows the group had (0 only without `by`).
    /// Output columns: the aggregate itself, then arg_max/arg_min's returned columns.
    pub fn columns(&self) -> Vec<(String, Type)> {
        if self.func == AggFn::TakeAny {
            return self
                .returns
                .iter()
                .map(|(n, e)| (n.clone(), e.ty))
                .collect();
        }
        let mut cols = vec![(self.name.clone(), self.ty)];
        cols.extend(self.returns.iter().map(|(n, e)| (n.clone(), e.ty)));
        cols
    }

    /// The output values for one group (one per entry of [`Agg::columns`]).
    pub fn finish(&self, st: State) -> Result<Vec<Value>, KqlError> {
        if let State::Arg(best, vals) = st {
            let vals = vals.unwrap_or_else(|| vec![Value::Null; self.returns.len()]);
            if self.func == AggFn::TakeAny {
                return Ok(vals);
            }
            let mut out = vec![best];
            out.extend(vals);
            return Ok(out);
        }
        Ok(vec![self.finish_single(st)])
    }

    fn finish_single(&self, st: State) -> Value {
        // Nulls are ignored; sum over nothing is 0 and avg over nothing is NaN (0/0), as
        // Kusto documents for empty input.
        match st {
            State::Count(n) => Value::Long(n),
            State::SumLong(s, _) => Value::Long(s),
            State::SumReal(s, _) => Value::Real(s),
            State::Avg(s, n) => Value::Real(s / n as f64),
            State::Extreme(v) => v.unwrap_or(Value::Null),
            State::Distinct(set) => Value::Long(set.len() as i64),
            State::Arg(best, _) => best,
            State::Values(values) if self.func == AggFn::MakeBag => {
                super::super::aggregate_lists::merge_bags(values, self.param)
            }
            State::Values(values) if self.func == AggFn::Percentile => {
                percentile_of(values, self.param)
            }
            State::Values(values) | State::Set(_, values) => {
                super::super::aggregate_lists::to_array(values, self.arg_type())
            }
        }
    }
}
