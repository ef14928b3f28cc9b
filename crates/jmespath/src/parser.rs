//! Parser: a Pratt (top-down operator precedence) parser from tokens to the
//! syntax tree. Resolves function names and `$variables` at compile time and
//! enforces a nesting limit so hostile input cannot overflow the stack.

use super::ast::Ty;
use super::ast::{ArithOp, CmpOp, Kind, Node};
use super::error::CompileError;
use super::functions;
use super::lexer::{shorten, tokenize, Tok, Token};

/// Maximum nesting depth of an expression (parser recursion and tree depth).
pub(super) const MAX_DEPTH: usize = 256;

/// Tokens with a binding power below this end a projection.
const PROJECTION_STOP: u8 = 10;
/// Binding power used for the operand of unary `-` / `+`.
const UNARY_BP: u8 = 8;

fn lbp(t: &Tok) -> u8 {
    match t {
        Tok::Pipe => 1,
        Tok::Question => 2,
        Tok::Or => 3,
        Tok::And => 4,
        Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => 5,
        Tok::Plus | Tok::Minus => 6,
        Tok::Star | Tok::Times | Tok::Slash | Tok::DoubleSlash | Tok::Percent => 7,
        Tok::Flatten => 9,
        Tok::Filter => 21,
        Tok::Dot => 40,
        Tok::Not => 45,
        Tok::LBrace => 50,
        Tok::LBracket => 55,
        Tok::LParen => 60,
        _ => 0,
    }
}

/// Parses `text` into a syntax tree plus the names of its free variables.
pub(super) fn parse(text: &str) -> Result<(Node, Vec<String>), CompileError> {
    let mut p = Parser::new(text)?;
    let node = p.expression(0)?;
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.error_here(format!(
            "unexpected {} after the end of a complete expression",
            p.describe(p.pos)
        )));
    }
    Ok((node, p.globals))
}

/// Parses `text` and fails if a variable is neither `let`-bound nor in `allowed`.
pub(super) fn parse_strict(text: &str, allowed: &[&str]) -> Result<(), CompileError> {
    let mut p = Parser::new(text)?;
    p.strict = Some(allowed.iter().map(|s| s.to_string()).collect());
    p.expression(0)?;
    Ok(())
}

struct Parser<'s> {
    text: &'s str,
    toks: Vec<Token>,
    pos: usize,
    rec: usize,
    scopes: Vec<String>,
    globals: Vec<String>,
    strict: Option<Vec<String>>,
}

type PResult = Result<Node, CompileError>;

fn bx(n: Node) -> Box<Node> {
    Box::new(n)
}

impl<'s> Parser<'s> {
    fn new(text: &'s str) -> Result<Parser<'s>, CompileError> {
        Ok(Parser {
            text,
            toks: tokenize(text)?,
            pos: 0,
            rec: 0,
            scopes: Vec::new(),
            globals: Vec::new(),
            strict: None,
        })
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn advance(&mut self) -> Token {
        let i = self.pos.min(self.toks.len() - 1);
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        self.toks[i].clone()
    }

    /// Human description of the token at index `i`.
    fn describe(&self, i: usize) -> String {
        let t = &self.toks[i.min(self.toks.len() - 1)];
        if matches!(t.tok, Tok::Eof) {
            "the end of the expression".to_owned()
        } else {
            format!("'{}'", shorten(&self.text[t.start..t.end]))
        }
    }

    fn error_at(&self, offset: usize, msg: impl Into<String>) -> CompileError {
        CompileError::at(self.text, offset, msg)
    }

    fn error_here(&self, msg: impl Into<String>) -> CompileError {
        let off = self.toks[self.pos.min(self.toks.len() - 1)].start;
        self.error_at(off, msg)
    }

    fn expected(&self, what: &str, after: &str) -> CompileError {
        self.error_here(format!(
            "expected {what} {after}, found {}",
            self.describe(self.pos)
        ))
    }

    fn mk(&self, kind: Kind, offset: usize) -> PResult {
        let n = Node::new(kind);
        if n.depth > MAX_DEPTH {
            return Err(self.error_at(offset, too_deep()));
        }
        Ok(n)
    }

    fn expect(&mut self, t: Tok, what: &str, after: &str) -> Result<Token, CompileError> {
        if *self.peek() == t {
            Ok(self.advance())
        } else {
            Err(self.expected(what, after))
        }
    }

    fn expression(&mut self, rbp: u8) -> PResult {
        self.rec += 1;
        if self.rec > MAX_DEPTH {
            return Err(self.error_here(too_deep()));
        }
        let mut left = self.nud()?;
        while rbp < lbp(self.peek()) {
            left = self.led(left)?;
        }
        self.rec -= 1;
        Ok(left)
    }

    // `nud` and `led` only dispatch: keeping their stack frames small matters
    // because they sit on every level of recursion (debug builds especially).
    fn nud(&mut self) -> PResult {
        let idx = self.pos;
        let tok = self.advance();
        let at = tok.start;
        match tok.tok {
            Tok::Ident(name) => self.nud_ident(name, at),
            Tok::Quoted(name) => self.nud_quoted(name, at),
            Tok::Literal(v) => self.leaf(Kind::Literal(v), at),
            Tok::RawString(s) => self.leaf(Kind::Literal(serde_json::Value::String(s)), at),
            Tok::Star => self.nud_star(at),
            Tok::Filter => self.led_filter(Node::new(Kind::Identity), at),
            Tok::LBrace => self.multi_hash(at),
            Tok::LParen => self.nud_paren(),
            Tok::Flatten => self.led_flatten(Node::new(Kind::Identity), at),
            Tok::LBracket => self.nud_bracket(at),
            Tok::At => self.leaf(Kind::Identity, at),
            Tok::Root => self.leaf(Kind::Root, at),
            Tok::Var(name) => self.variable(name, at),
            Tok::Not | Tok::Minus | Tok::Plus => self.nud_unary(tok.tok, at),
            other => Err(self.nud_error(other, idx, at)),
        }
    }

    fn led(&mut self, left: Node) -> PResult {
        let tok = self.advance();
        let at = tok.start;
        match tok.tok {
            Tok::Dot => self.led_dot(left, at),
            Tok::Question => self.led_ternary(left, at),
            Tok::LParen => self.call(left, at),
            Tok::Filter => self.led_filter(left, at),
            Tok::Flatten => self.led_flatten(left, at),
            Tok::LBracket => self.led_bracket(left, at),
            Tok::Pipe
            | Tok::Or
            | Tok::And
            | Tok::Eq
            | Tok::Ne
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Times
            | Tok::Slash
            | Tok::DoubleSlash
            | Tok::Percent => self.led_binary(tok.tok, left, at),
            _ => Err(self.error_at(
                at,
                format!(
                    "unexpected '{}' after an expression",
                    shorten(&self.text[tok.start..tok.end])
                ),
            )),
        }
    }

    fn leaf(&self, kind: Kind, at: usize) -> PResult {
        self.mk(kind, at)
    }

    fn nud_ident(&mut self, name: String, at: usize) -> PResult {
        if name == "let" && matches!(self.peek(), Tok::Var(_)) {
            return self.parse_let(at);
        }
        self.mk(Kind::Field(name.into()), at)
    }

    fn nud_quoted(&mut self, name: String, at: usize) -> PResult {
        if matches!(self.peek(), Tok::LParen) {
            return Err(self.error_at(
                at,
                "a function name cannot be a quoted identifier; write it without quotes",
            ));
        }
        self.mk(Kind::Field(name.into()), at)
    }

    fn nud_star(&mut self, at: usize) -> PResult {
        let right = if matches!(self.peek(), Tok::RBracket) {
            Node::new(Kind::Identity)
        } else {
            self.projection_rhs(20)?
        };
        self.mk(
            Kind::ValueProjection(bx(Node::new(Kind::Identity)), bx(right)),
            at,
        )
    }

    fn nud_paren(&mut self) -> PResult {
        let e = self.expression(0)?;
        self.expect(Tok::RParen, "')'", "to close '('")?;
        Ok(e)
    }

    fn nud_bracket(&mut self, at: usize) -> PResult {
        match self.peek() {
            Tok::Number(_) | Tok::Colon | Tok::Minus => {
                let idx = self.index_or_slice()?;
                self.project_if_slice(Node::new(Kind::Identity), idx, at)
            }
            Tok::Star if matches!(self.peek_at(1), Tok::RBracket) => {
                self.advance();
                self.advance();
                let right = self.projection_rhs(20)?;
                self.mk(
                    Kind::Projection(bx(Node::new(Kind::Identity)), bx(right)),
                    at,
                )
            }
            _ => self.multi_list(at),
        }
    }

    fn nud_unary(&mut self, tok: Tok, at: usize) -> PResult {
        let bp = if tok == Tok::Not { 45 } else { UNARY_BP };
        let e = bx(self.expression(bp)?);
        let kind = match tok {
            Tok::Not => Kind::Not(e),
            Tok::Minus => Kind::Neg(e),
            _ => Kind::Pos(e),
        };
        self.mk(kind, at)
    }

    #[cold]
    fn nud_error(&self, tok: Tok, idx: usize, at: usize) -> CompileError {
        match tok {
            Tok::Ampersand => self.error_at(
                at,
                "an expression reference '&...' is only allowed as a function argument",
            ),
            Tok::Number(n) => self.error_at(
                at,
                format!("a bare number is not an expression; write a literal such as `{n}`"),
            ),
            _ => self.error_at(
                at,
                format!("expected an expression, found {}", self.describe(idx)),
            ),
        }
    }

    fn led_dot(&mut self, left: Node, at: usize) -> PResult {
        if matches!(self.peek(), Tok::Star) {
            self.advance();
            let right = self.projection_rhs(40)?;
            self.mk(Kind::ValueProjection(bx(left), bx(right)), at)
        } else {
            let right = self.dot_rhs(40)?;
            self.mk(Kind::Sub(bx(left), bx(right)), at)
        }
    }

    fn led_ternary(&mut self, left: Node, at: usize) -> PResult {
        let then = self.expression(0)?;
        self.expect(
            Tok::Colon,
            "':'",
            "in a conditional 'condition ? then : else'",
        )?;
        let otherwise = self.expression(1)?;
        self.mk(Kind::Ternary(bx(left), bx(then), bx(otherwise)), at)
    }

    fn led_binary(&mut self, tok: Tok, left: Node, at: usize) -> PResult {
        let right = bx(self.expression(lbp(&tok))?);
        let left = bx(left);
        let kind = match tok {
            Tok::Pipe => Kind::Pipe(left, right),
            Tok::Or => Kind::Or(left, right),
            Tok::And => Kind::And(left, right),
            Tok::Eq => Kind::Cmp(CmpOp::Eq, left, right),
            Tok::Ne => Kind::Cmp(CmpOp::Ne, left, right),
            Tok::Lt => Kind::Cmp(CmpOp::Lt, left, right),
            Tok::Le => Kind::Cmp(CmpOp::Le, left, right),
            Tok::Gt => Kind::Cmp(CmpOp::Gt, left, right),
            Tok::Ge => Kind::Cmp(CmpOp::Ge, left, right),
            Tok::Plus => Kind::Arith(ArithOp::Add, left, right),
            Tok::Minus => Kind::Arith(ArithOp::Sub, left, right),
            Tok::Slash => Kind::Arith(ArithOp::Div, left, right),
            Tok::DoubleSlash => Kind::Arith(ArithOp::IntDiv, left, right),
            Tok::Percent => Kind::Arith(ArithOp::Mod, left, right),
            _ => Kind::Arith(ArithOp::Mul, left, right),
        };
        self.mk(kind, at)
    }

    fn led_bracket(&mut self, left: Node, at: usize) -> PResult {
        match self.peek() {
            Tok::Number(_) | Tok::Colon | Tok::Minus => {
                let idx = self.index_or_slice()?;
                self.project_if_slice(left, idx, at)
            }
            Tok::Star => {
                self.advance();
                self.expect(Tok::RBracket, "']'", "after '[*'")?;
                let right = self.projection_rhs(20)?;
                self.mk(Kind::Projection(bx(left), bx(right)), at)
            }
            _ => Err(self.expected("a number, ':', '*' or '?'", "after '['")),
        }
    }

    fn projection_rhs(&mut self, rbp: u8) -> PResult {
        let t = self.peek();
        if lbp(t) < PROJECTION_STOP {
            return Ok(Node::new(Kind::Identity));
        }
        match t {
            Tok::LBracket | Tok::Filter => self.expression(rbp),
            Tok::Dot => {
                self.advance();
                self.dot_rhs(rbp)
            }
            _ => Err(self.expected("'.', '[' or '[?'", "after a projection")),
        }
    }

    fn dot_rhs(&mut self, rbp: u8) -> PResult {
        match self.peek() {
            Tok::Ident(_) | Tok::Quoted(_) | Tok::Star => self.expression(rbp),
            Tok::LBracket => {
                let at = self.advance().start;
                self.multi_list(at)
            }
            Tok::LBrace => {
                let at = self.advance().start;
                self.multi_hash(at)
            }
            _ => Err(self.expected("an identifier, '*', '[' or '{'", "after '.'")),
        }
    }

    fn led_filter(&mut self, left: Node, at: usize) -> PResult {
        let cond = self.expression(0)?;
        self.expect(Tok::RBracket, "']'", "to close the filter '[?'")?;
        let right = if matches!(self.peek(), Tok::Flatten) {
            Node::new(Kind::Identity)
        } else {
            self.projection_rhs(21)?
        };
        self.mk(Kind::Filter(bx(left), bx(cond), bx(right)), at)
    }

    fn led_flatten(&mut self, left: Node, at: usize) -> PResult {
        let flat = self.mk(Kind::Flatten(bx(left)), at)?;
        let right = self.projection_rhs(9)?;
        self.mk(Kind::Projection(bx(flat), bx(right)), at)
    }

    fn project_if_slice(&mut self, left: Node, idx: Node, at: usize) -> PResult {
        let is_slice = matches!(idx.kind, Kind::Slice(..));
        let node = if left.is_identity() {
            idx
        } else {
            self.mk(Kind::Sub(bx(left), bx(idx)), at)?
        };
        if is_slice {
            let right = self.projection_rhs(20)?;
            self.mk(Kind::Projection(bx(node), bx(right)), at)
        } else {
            Ok(node)
        }
    }

    /// Parses `n]`, `a:b]` or `a:b:c]` (the `[` is already consumed).
    fn index_or_slice(&mut self) -> PResult {
        let start_tok = self.pos;
        let mut parts: [Option<i64>; 3] = [None; 3];
        let mut colons = 0;
        let mut have = false;
        loop {
            match self.peek().clone() {
                Tok::RBracket => break,
                Tok::Colon => {
                    if colons == 2 {
                        return Err(
                            self.error_here("a slice has at most three parts [start:stop:step]")
                        );
                    }
                    self.advance();
                    colons += 1;
                    have = false;
                }
                Tok::Minus | Tok::Number(_) if !have => {
                    let neg = if matches!(self.peek(), Tok::Minus) {
                        self.advance();
                        true
                    } else {
                        false
                    };
                    match self.peek().clone() {
                        Tok::Number(n) => {
                            self.advance();
                            parts[colons] = Some(if neg { -n } else { n });
                            have = true;
                        }
                        _ => return Err(self.expected("a number", "after '-'")),
                    }
                }
                _ => {
                    return Err(self.expected(
                        if have {
                            "':' or ']'"
                        } else {
                            "a number, ':' or ']'"
                        },
                        "in an index or slice",
                    ))
                }
            }
        }
        let at = self.toks[start_tok].start;
        self.advance(); // ]
        if colons == 0 {
            match parts[0] {
                Some(n) => self.mk(Kind::Index(n), at),
                None => Err(self.error_at(at, "expected an index")),
            }
        } else {
            let step = parts[2].unwrap_or(1);
            if step == 0 {
                return Err(self.error_at(at, "invalid-value: slice step cannot be 0"));
            }
            self.mk(Kind::Slice(parts[0], parts[1], step), at)
        }
    }

    /// `[a, b, ...]` with the `[` already consumed.
    fn multi_list(&mut self, at: usize) -> PResult {
        let mut items = Vec::new();
        loop {
            items.push(self.expression(0)?);
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RBracket => {
                    self.advance();
                    break;
                }
                _ => return Err(self.expected("',' or ']'", "in a multi-select list")),
            }
        }
        self.mk(Kind::MultiList(items), at)
    }

    /// `{k: v, ...}` with the `{` already consumed.
    fn multi_hash(&mut self, at: usize) -> PResult {
        let mut items: Vec<(Box<str>, Node)> = Vec::new();
        loop {
            let key = match self.peek().clone() {
                Tok::Ident(k) | Tok::Quoted(k) => {
                    self.advance();
                    k
                }
                _ => return Err(self.expected("a key name", "in a multi-select hash")),
            };
            self.expect(Tok::Colon, "':'", &format!("after the key '{key}'"))?;
            let value = self.expression(0)?;
            // A repeated key is kept: every value is evaluated, in order, as the reference
            // does (so its errors show), and the last one wins (see `Ctx::multi_hash`).
            items.push((key.into(), value));
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RBrace => {
                    self.advance();
                    break;
                }
                _ => return Err(self.expected("',' or '}'", "in a multi-select hash")),
            }
        }
        self.mk(Kind::MultiHash(items), at)
    }

    fn variable(&mut self, name: String, at: usize) -> PResult {
        if let Some(i) = self.scopes.iter().rposition(|s| *s == name) {
            return self.mk(Kind::Local(i), at);
        }
        if let Some(allowed) = &self.strict {
            if !allowed.contains(&name) {
                return Err(self.error_at(
                    at,
                    format!("undefined-variable: ${name} is not bound by any enclosing let and is not a known global variable"),
                ));
            }
        }
        if !self.globals.contains(&name) {
            self.globals.push(name.clone());
        }
        self.mk(Kind::Global(name.into()), at)
    }

    /// `let $a = x, $b = y in body` with `let` already consumed.
    fn parse_let(&mut self, at: usize) -> PResult {
        let mut names = Vec::new();
        let mut values = Vec::new();
        loop {
            let name = match self.peek().clone() {
                Tok::Var(n) => {
                    self.advance();
                    n
                }
                _ => return Err(self.expected("a variable such as $name", "in a let binding")),
            };
            self.expect(Tok::Assign, "'='", &format!("after ${name}"))?;
            values.push(self.expression(0)?);
            names.push(name);
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::Ident(w) if w == "in" => {
                    self.advance();
                    break;
                }
                _ => return Err(self.expected("',' or 'in'", "after a let binding")),
            }
        }
        let depth_before = self.scopes.len();
        self.scopes.extend(names);
        let body = self.expression(0);
        self.scopes.truncate(depth_before);
        let body = body?;
        self.mk(Kind::Let(values, bx(body)), at)
    }

    /// Function call: `left` must be a plain name; `(` already consumed.
    fn call(&mut self, left: Node, at: usize) -> PResult {
        let name_tok = self.toks[self.pos.saturating_sub(2)].clone();
        let name = match &left.kind {
            Kind::Field(n) => n.to_string(),
            _ => {
                return Err(self.error_at(
                    at,
                    "unexpected '(': only a function name can be followed by '('",
                ))
            }
        };
        let name_at = if self.text.get(name_tok.start..name_tok.end) == Some(name.as_str()) {
            name_tok.start
        } else {
            at
        };
        let mut args = Vec::new();
        let mut arg_at = Vec::new();
        if matches!(self.peek(), Tok::RParen) {
            self.advance();
        } else {
            loop {
                let start = self.toks[self.pos].start;
                arg_at.push(start);
                if matches!(self.peek(), Tok::Ampersand) {
                    self.advance();
                    let e = self.expression(0)?;
                    args.push(self.mk(Kind::ExpRef(bx(e)), start)?);
                } else {
                    args.push(self.expression(0)?);
                }
                match self.peek() {
                    Tok::Comma => {
                        self.advance();
                    }
                    Tok::RParen => {
                        self.advance();
                        break;
                    }
                    _ => {
                        return Err(
                            self.expected("',' or ')'", &format!("in the arguments of {name}()"))
                        )
                    }
                }
            }
        }
        let Some(f) = functions::lookup(&name) else {
            return Err(self.error_at(
                name_at,
                format!(
                    "unknown-function: there is no function named {name}(); known functions are {}",
                    functions::names()
                ),
            ));
        };
        if let Some(msg) = f.arity_error(args.len()) {
            return Err(self.error_at(name_at, msg));
        }
        for (i, a) in args.iter().enumerate() {
            let ty = f.param(i);
            let is_ref = matches!(a.kind, Kind::ExpRef(_));
            if ty == Ty::Expref && !is_ref {
                return Err(self.error_at(
                    arg_at[i],
                    format!(
                        "invalid-type: {}() expects argument {} to be an expression reference such as &field, got a value",
                        f.name,
                        i + 1
                    ),
                ));
            }
            if ty != Ty::Expref && is_ref {
                return Err(self.error_at(
                    arg_at[i],
                    format!(
                        "invalid-type: {}() expects argument {} to be {}, got an expression reference",
                        f.name,
                        i + 1,
                        ty.describe()
                    ),
                ));
            }
        }
        self.mk(Kind::Call(f, args), at)
    }
}

fn too_deep() -> String {
    format!("expression nests too deeply (more than {MAX_DEPTH} levels)")
}
