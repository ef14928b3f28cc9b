//! Parses the control commands the emulator knows into [`Command`]s: a small tokenizer for
//! words, Kusto string literals (`'..'`, `".."` with backslash escapes, `@'..'` verbatim,
//! ```` ```..``` ```` multi-line) and bracketed names (`['a-b']`), then one rule per command.

use super::super::values;

/// Where a policy is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTarget {
    /// `.alter table T policy ...`
    Table(String),
    /// `.alter database D policy ...`
    Database(String),
}

/// The argument of `.alter ... policy streamingingestion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamingSetting {
    /// `enable`
    Enable,
    /// `disable`
    Disable,
    /// `'{"IsEnabled": true, ...}'`
    Json(String),
}

/// A parsed control command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `.show version`
    ShowVersion,
    /// `.show databases`
    ShowDatabases,
    /// `.show tables`
    ShowTables,
    /// `.show table T cslschema` (`.show table T schema as csl`)
    ShowTableCslSchema(String),
    /// `.show table T ingestion json mappings`
    ShowJsonMappings(String),
    /// `.create table T (...)` / `.create-merge table T (...)`
    CreateTable {
        /// Table name.
        table: String,
        /// (name, canonical kind) pairs.
        columns: Vec<(String, String)>,
        /// `create-merge`: add missing columns to an existing table.
        merge: bool,
    },
    /// `.drop table T [ifexists]`
    DropTable {
        /// Table name.
        table: String,
        /// No error when missing.
        if_exists: bool,
    },
    /// `.create[-or-alter] table T ingestion json mapping 'name' '<json>'`
    CreateJsonMapping {
        /// Table name.
        table: String,
        /// Mapping name.
        name: String,
        /// Mapping definition.
        definition: String,
        /// `create-or-alter` (otherwise an existing mapping is an error).
        or_alter: bool,
    },
    /// `.alter ... policy streamingingestion ...`
    AlterStreaming(PolicyTarget, StreamingSetting),
    /// `.alter ... policy ingestionbatching '<json>'`
    AlterBatching(PolicyTarget, String),
    /// `.get ingestion resources`
    GetIngestionResources,
    /// `.get kusto identity token`
    GetIdentityToken,
    /// `.show ingestion failures`
    ShowIngestionFailures,
    /// `.show table T extents [hot] [where tags has|contains|!has|!contains 'x' [and ...]]`
    ShowExtents {
        /// Table name.
        table: String,
        /// Conditions on the extents' tags, all of which must hold.
        filters: Vec<TagFilter>,
    },
}

/// One `tags has 'x'` condition of `.show table T extents where ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    /// `!has` / `!contains`.
    pub negated: bool,
    /// `has` (a tag equals the value) or `contains` (a tag contains it, ignoring case).
    pub contains: bool,
    /// The tag or substring.
    pub value: String,
}

impl TagFilter {
    /// Whether an extent with `tags` passes this condition.
    pub fn accepts(&self, tags: &[String]) -> bool {
        let value = self.value.to_lowercase();
        let found = tags.iter().any(|t| {
            if self.contains {
                t.to_lowercase().contains(&value)
            } else {
                *t == self.value
            }
        });
        found != self.negated
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Name(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' && tokens.is_empty() {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else if c == '`' && chars.get(i + 1) == Some(&'`') && chars.get(i + 2) == Some(&'`') {
            let start = i + 3;
            let end = (start..chars.len().saturating_sub(2))
                .find(|&j| chars[j] == '`' && chars[j + 1] == '`' && chars[j + 2] == '`')
                .ok_or("unterminated ``` string literal")?;
            tokens.push(Token::Str(chars[start..end].iter().collect()));
            i = end + 3;
        } else if c == '@' && matches!(chars.get(i + 1), Some('\'') | Some('"')) {
            let quote = chars[i + 1];
            let mut s = String::new();
            i += 2;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some(&q) if q == quote && chars.get(i + 1) == Some(&quote) => {
                        s.push(quote);
                        i += 2;
                    }
                    Some(&q) if q == quote => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Str(s));
        } else if c == '\'' || c == '"' {
            let (s, next) = quoted(&chars, i)?;
            tokens.push(Token::Str(s));
            i = next;
        } else if c == '[' && matches!(chars.get(i + 1), Some('\'') | Some('"')) {
            let (s, next) = quoted(&chars, i + 1)?;
            if chars.get(next) != Some(&']') {
                return Err("expected ']' after a bracketed name".into());
            }
            tokens.push(Token::Name(s));
            i = next + 1;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    Ok(tokens)
}

/// A backslash-escaped literal starting at the quote `chars[start]`; returns it and the index
/// after its closing quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("unterminated string literal".into()),
            Some('\\') => {
                let escaped = chars.get(i + 1).ok_or("unterminated string literal")?;
                s.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => *other,
                });
                i += 2;
            }
            Some(&q) if q == quote => return Ok((s, i + 1)),
            Some(&ch) => {
                s.push(ch);
                i += 1;
            }
        }
    }
}

struct Cursor {
    tokens: Vec<Token>,
    at: usize,
}

impl Cursor {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if self.peek_word().as_deref() == Some(kw) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(format!("expected '{kw}' {}", self.here()))
        }
    }

    fn here(&self) -> String {
        match self.tokens.get(self.at) {
            None => "at the end of the command".into(),
            Some(Token::Word(w)) | Some(Token::Name(w)) => format!("near '{w}'"),
            Some(Token::Str(s)) => format!("near string '{s}'"),
            Some(Token::Punct(p)) => format!("near '{p}'"),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Word(w)) | Some(Token::Name(w)) if !w.starts_with('.') => {
                self.at += 1;
                Ok(w)
            }
            _ => Err(format!("expected a name {}", self.here())),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(format!("expected a string literal {}", self.here())),
        }
    }

    fn punct(&mut self, p: char) -> bool {
        if self.tokens.get(self.at) == Some(&Token::Punct(p)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), String> {
        if self.at == self.tokens.len() {
            Ok(())
        } else {
            Err(format!("unexpected text {}", self.here()))
        }
    }

    /// Skips `with (...)` options.
    fn skip_with(&mut self) {
        if self.keyword("with") && self.punct('(') {
            let mut depth = 1;
            while depth > 0 && self.at < self.tokens.len() {
                match &self.tokens[self.at] {
                    Token::Punct('(') => depth += 1,
                    Token::Punct(')') => depth -= 1,
                    _ => {}
                }
                self.at += 1;
            }
        }
    }
}

/// Parses one control command.
pub fn parse(text: &str) -> Result<Command, String> {
    let mut c = Cursor {
        tokens: tokenize(text)?,
        at: 0,
    };
    let verb = c
        .peek_word()
        .ok_or("a control command must start with '.'")?;
    c.at += 1;
    let command = match verb.as_str() {
        ".show" => show(&mut c)?,
        ".create" | ".create-merge" | ".create-or-alter" => create(&mut c, &verb)?,
        ".alter" => alter(&mut c)?,
        ".drop" => {
            c.expect("table")?;
            let table = c.name()?;
            let if_exists = c.keyword("ifexists");
            Command::DropTable { table, if_exists }
        }
        ".get" => {
            if c.keyword("ingestion") {
                c.expect("resources")?;
                Command::GetIngestionResources
            } else {
                c.expect("kusto")?;
                c.expect("identity")?;
                c.expect("token")?;
                Command::GetIdentityToken
            }
        }
        other => return Err(format!("unknown control command '{other}'")),
    };
    c.end()?;
    Ok(command)
}

fn show(c: &mut Cursor) -> Result<Command, String> {
    if c.keyword("version") {
        return Ok(Command::ShowVersion);
    }
    if c.keyword("databases") {
        return Ok(Command::ShowDatabases);
    }
    if c.keyword("tables") {
        return Ok(Command::ShowTables);
    }
    if c.keyword("ingestion") {
        c.expect("failures")?;
        return Ok(Command::ShowIngestionFailures);
    }
    c.expect("table")?;
    let table = c.name()?;
    if c.keyword("extents") {
        return extents(c, table);
    }
    if c.keyword("cslschema") {
        return Ok(Command::ShowTableCslSchema(table));
    }
    if c.keyword("schema") {
        c.expect("as")?;
        c.expect("csl")?;
        return Ok(Command::ShowTableCslSchema(table));
    }
    c.expect("ingestion")?;
    c.expect("json")?;
    c.expect("mappings")?;
    Ok(Command::ShowJsonMappings(table))
}

/// The rest of `.show table T extents ...`.
fn extents(c: &mut Cursor, table: String) -> Result<Command, String> {
    if c.punct('(') {
        return Err("extent id lists are not supported by the emulator".into());
    }
    c.keyword("hot");
    let mut filters = Vec::new();
    if c.keyword("where") {
        loop {
            c.expect("tags")?;
            let negated = c.punct('!');
            let contains = if c.keyword("has") {
                false
            } else if c.keyword("contains") {
                true
            } else {
                return Err(format!(
                    "expected 'has', 'contains', '!has' or '!contains' {}",
                    c.here()
                ));
            };
            filters.push(TagFilter {
                negated,
                contains,
                value: c.string()?,
            });
            if !c.keyword("and") {
                break;
            }
        }
    }
    Ok(Command::ShowExtents { table, filters })
}

fn create(c: &mut Cursor, verb: &str) -> Result<Command, String> {
    c.expect("table")?;
    let table = c.name()?;
    if c.keyword("ingestion") {
        c.expect("json")?;
        c.expect("mapping")?;
        let name = c.string()?;
        let definition = c.string()?;
        c.skip_with();
        return Ok(Command::CreateJsonMapping {
            table,
            name,
            definition,
            or_alter: verb == ".create-or-alter",
        });
    }
    if verb == ".create-or-alter" {
        return Err("'.create-or-alter table' is only supported for ingestion mappings".into());
    }
    if !c.punct('(') {
        return Err(format!("expected '(' {}", c.here()));
    }
    let mut columns = Vec::new();
    loop {
        let name = c.name()?;
        if !c.punct(':') {
            return Err(format!("expected ':' after column '{name}'"));
        }
        let kind_name = c.name()?;
        let kind = values::canonical_type(&kind_name)
            .ok_or_else(|| format!("unknown type '{kind_name}' for column '{name}'"))?;
        if columns.iter().any(|(n, _): &(String, String)| *n == name) {
            return Err(format!("column '{name}' is declared twice"));
        }
        columns.push((name, kind.to_string()));
        if c.punct(')') {
            break;
        }
        if !c.punct(',') {
            return Err(format!("expected ',' or ')' {}", c.here()));
        }
    }
    c.skip_with();
    Ok(Command::CreateTable {
        table,
        columns,
        merge: verb == ".create-merge",
    })
}

fn alter(c: &mut Cursor) -> Result<Command, String> {
    let target = if c.keyword("table") {
        PolicyTarget::Table(c.name()?)
    } else {
        c.expect("database")?;
        PolicyTarget::Database(c.name()?)
    };
    c.expect("policy")?;
    if c.keyword("streamingingestion") {
        let setting = if c.keyword("enable") {
            StreamingSetting::Enable
        } else if c.keyword("disable") {
            StreamingSetting::Disable
        } else {
            StreamingSetting::Json(c.string()?)
        };
        return Ok(Command::AlterStreaming(target, setting));
    }
    c.expect("ingestionbatching")?;
    Ok(Command::AlterBatching(target, c.string()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_extents_parses_tag_filters() {
        assert_eq!(
            parse(".show table T extents").unwrap(),
            Command::ShowExtents {
                table: "T".into(),
                filters: vec![]
            }
        );
        let Command::ShowExtents { table, filters } =
            parse(".show table ['my T'] extents hot where tags contains 'ingest-by:x/p3:' and tags !has \"b\"").unwrap()
        else {
            panic!("not ShowExtents")
        };
        assert_eq!(table, "my T");
        assert_eq!(
            filters,
            vec![
                TagFilter {
                    negated: false,
                    contains: true,
                    value: "ingest-by:x/p3:".into()
                },
                TagFilter {
                    negated: true,
                    contains: false,
                    value: "b".into()
                },
            ]
        );
        let tags = vec!["ingest-by:X/p3:1-2".to_string(), "a".to_string()];
        assert!(filters[0].accepts(&tags), "contains ignores case");
        assert!(filters[1].accepts(&tags));
        assert!(
            !TagFilter {
                negated: false,
                contains: false,
                value: "A".into()
            }
            .accepts(&tags),
            "has is equality"
        );
        assert!(parse(".show table T extents where tags like 'x'").is_err());
        assert!(parse(".show table T extents (guid1)").is_err());
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse(".show version").unwrap(), Command::ShowVersion);
        assert_eq!(
            parse(".create-merge table T (a:string, ['x-y']:datetime, n:int64)").unwrap(),
            Command::CreateTable {
                table: "T".into(),
                columns: vec![
                    ("a".into(), "string".into()),
                    ("x-y".into(), "datetime".into()),
                    ("n".into(), "long".into())
                ],
                merge: true
            }
        );
        let m = parse(r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"e","Properties":{"Path":"$[\'x-y\']"}}]'"#).unwrap();
        assert_eq!(
            m,
            Command::CreateJsonMapping {
                table: "T".into(),
                name: "m1".into(),
                definition: r#"[{"column":"e","Properties":{"Path":"$['x-y']"}}]"#.into(),
                or_alter: true
            }
        );
        assert_eq!(
            parse(".alter table T policy streamingingestion enable").unwrap(),
            Command::AlterStreaming(PolicyTarget::Table("T".into()), StreamingSetting::Enable)
        );
        assert_eq!(
            parse(".alter database db policy ingestionbatching @'{\"MaximumBatchingTimeSpan\":\"00:00:10\"}'").unwrap(),
            Command::AlterBatching(PolicyTarget::Database("db".into()), "{\"MaximumBatchingTimeSpan\":\"00:00:10\"}".into())
        );
        assert_eq!(
            parse(".get ingestion resources").unwrap(),
            Command::GetIngestionResources
        );
        assert!(parse(".frobnicate").is_err());
        assert!(parse(".create table T (a:strin)").is_err());
        assert!(parse(".show tables extra").is_err());
    }
}
