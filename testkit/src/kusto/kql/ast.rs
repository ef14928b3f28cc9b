//! Syntax tree of a parsed query, before name resolution and typing.

/// A literal value written in the query.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Long(i64),
    Real(f64),
    Str(String),
    Bool(bool),
    /// A datetime in ticks, or a typed null.
    DateTime(Option<i64>),
    TimeSpan(Option<i64>),
    Guid(Option<String>),
    /// `int(5)` / `int(null)`.
    Int(Option<i64>),
    /// `long(null)`.
    NullLong,
    /// `real(null)` / `double(null)`.
    NullReal,
    /// `bool(null)`.
    NullBool,
    /// `dynamic(...)`: JSON (null for `dynamic(null)`).
    Dynamic(serde_json::Value),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    EqTilde,
    NeTilde,
    And,
    Or,
}

/// A scalar expression with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
}

/// The shapes a scalar expression can take.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    /// A column (or, when followed by `(`, a function name; see `Call`).
    Name(String),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A string operator such as `contains`, `!has`, `startswith_cs`.
    StrOp(String, Box<Expr>, Box<Expr>),
    /// `x in (a, b)`, `!in`, `in~`, `!in~`: (operator word, left, list).
    In(String, Box<Expr>, Vec<Expr>),
    /// `x between (lo .. hi)` or `!between` (negated = true).
    Between(bool, Box<Expr>, Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(String, Vec<Expr>),
    /// `x.name` or `x['name']`.
    Member(Box<Expr>, String),
    /// `x[0]`.
    Index(Box<Expr>, i64),
    /// `*` as an argument (only meaningful in `arg_max(x, *)` / `arg_min(x, *)`).
    Star,
}

/// `[name =] expr` in project/extend/summarize.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    pub name: Option<(String, usize)>,
    pub expr: Expr,
}

/// One `order by` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    /// Explicit `nulls first` (Some(true)) / `nulls last` (Some(false)).
    pub nulls_first: Option<bool>,
}

/// A tabular operator after a `|`, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub kind: OpKind,
    pub pos: usize,
}

/// The supported tabular operators.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    Where(Expr),
    Project(Vec<NamedExpr>),
    /// Names or `prefix*` patterns, with positions.
    ProjectAway(Vec<(String, usize)>),
    /// (new name, old name, position of old name).
    ProjectRename(Vec<(String, String, usize)>),
    Extend(Vec<NamedExpr>),
    Summarize {
        aggs: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    Sort(Vec<SortKey>),
    Take(Expr),
    Top(Expr, SortKey),
    Count,
    /// None for `distinct *`.
    Distinct(Option<Vec<(String, usize)>>),
    /// `render kind [with (property = value, ...)]`: the data passes unchanged; the result
    /// carries the visualization.
    Render {
        /// `timechart`, `piechart`, ...
        kind: String,
        /// Properties by their lower-case name, values as written (lists comma-joined).
        props: Vec<(String, RenderValue)>,
    },
    /// `union T2, (query), ...` after a pipe: this input followed by the parts' rows.
    Union(Vec<Query>),
    /// `mv-expand [kind=bag|array] [with_itemindex=I] [Name =] expr [to typeof(T)], ...
    /// [limit N]`.
    MvExpand {
        /// `kind=array`: a property bag's entries become `[key, value]` (else `{key: value}`).
        bags_as_arrays: bool,
        /// `with_itemindex`: a column with each element's index.
        index: Option<String>,
        /// (output name, expression, `to typeof(T)` type).
        items: Vec<(Option<String>, Expr, Option<String>)>,
        /// Most rows made from one input row.
        limit: Option<i64>,
    },
    /// `evaluate bag_unpack(Column [, Prefix] [, columnsConflict] [, ignoredProperties])
    /// [: (Name:type, ...)]`.
    BagUnpack {
        /// The dynamic column to unpack.
        column: Expr,
        /// The further arguments: (name when written `name = value`, constant expression).
        args: Vec<(Option<String>, Expr)>,
        /// The output schema: whether it starts with `*`, then (name, type) pairs.
        schema: Option<(bool, Vec<(String, String)>)>,
    },
    /// `join [kind=K] (right) on keys`.
    Join {
        /// The join flavour (`innerunique` when not given).
        kind: String,
        /// The right side: a whole pipeline.
        right: Box<Query>,
        /// (left column, right column) pairs that must be equal.
        on: Vec<(String, String)>,
    },
}

/// A value of a `render ... with (...)` property.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderValue {
    /// A string or a name (or a comma-joined list of names).
    Text(String),
    /// A number (`ymin`, `ymax`).
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
}

/// A whole query: source (table, or `print` expressions) and operators.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Table name; empty for `print`.
    pub table: String,
    pub table_pos: usize,
    /// `print a, b = expr`: a one-row source instead of a table.
    pub print: Option<Vec<NamedExpr>>,
    pub ops: Vec<Operator>,
    /// `let` statements before the query, in order.
    pub lets: Vec<Let>,
    /// `datatable(...)[...]` or `range ...` instead of a table.
    pub inline: Option<Inline>,
}

/// One `let` statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Let {
    /// `let name = scalar;`
    Scalar(String, Expr),
    /// `let name = tabular expression;`
    Table(String, Box<Query>),
    /// `let name = (param:type [= default], ...) { scalar };`
    Function {
        /// The function's name.
        name: String,
        /// Parameter names and defaults.
        params: Vec<(String, Option<Expr>)>,
        /// The body.
        body: Expr,
    },
    /// `let name = (param:type [= default], ...) { tabular expression };`
    TableFunction {
        /// The function's name.
        name: String,
        /// Parameter names and defaults (scalar parameters only).
        params: Vec<(String, Option<Expr>)>,
        /// The body.
        body: Box<Query>,
    },
}

/// A source written in the query.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// `datatable(name:type, ...)[value, ...]`: values row by row.
    DataTable {
        /// (name, type) of each column.
        columns: Vec<(String, String)>,
        /// Every value, row after row.
        values: Vec<Expr>,
    },
    /// `union T1, (query), ...`: the parts' rows one after the other.
    Union(Vec<Query>),
    /// `f(args)`: a call of a tabular let function, replaced by its body when names are bound.
    Call {
        /// The function's name.
        name: String,
        /// The arguments, in order.
        args: Vec<Expr>,
    },
    /// `range name from a to b step s`.
    Range {
        /// The column.
        name: String,
        /// First value.
        from: Box<Expr>,
        /// Last value (inclusive).
        to: Box<Expr>,
        /// Increment.
        step: Box<Expr>,
    },
}
