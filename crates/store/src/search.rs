//! ImageKit's `searchQuery` language, compiled to a SQL condition with bound parameters.
//!
//! ```text
//! query     = or
//! or        = and ("OR" and)*
//! and       = primary ("AND" primary)*
//! primary   = "(" query ")" | condition
//! condition = field ["NOT"] op value
//! op        = "=" | ":" | "<" | "<=" | ">" | ">=" | "IN"      (NOT with =, : and IN)
//! value     = "quoted" | bare-word | "[" value ("," value)* "]"
//! ```
//!
//! Fields: `name` (`=` exact, `:` begins with; case-sensitive), `tags`, `type` (`file` /
//! `folder`), `fileType` (`image` / `non-image`), `format`, `size` (bytes or `"1mb"`, `"500kb"`),
//! `width`, `height`, `createdAt` and `updatedAt` (ISO 8601 date or time, or a relative `"7d"`,
//! `"2h"`, `"3w"`, `"4m"`: that long ago). The same query compiles against files and against
//! folders: a field folders lack is false for them (and `NOT` of it true).
//!
//! Nothing of the query text reaches the SQL: field names pick fixed column expressions and
//! every value is a bound parameter.

/// Why a search query was refused: says which part, in words the caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("searchQuery: {0}")]
pub struct SearchError(pub String);

/// A value bound to a parameter of the compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A compiled condition: SQL text with `$n` parameters, and their values in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// Which table the condition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Files,
    Folders,
}

const MAX_QUERY_LENGTH: usize = 4096;
const MAX_DEPTH: usize = 32;
const MAX_LIST: usize = 100;
const FIELDS: &str =
    "name, tags, type, fileType, format, size, width, height, createdAt, updatedAt";

/// Compiles `query` for `target`; parameters are numbered from `first_parameter`; relative
/// times count back from `now` (unix seconds).
pub fn compile(
    query: &str,
    target: Target,
    first_parameter: usize,
    now: i64,
) -> Result<Condition, SearchError> {
    if query.len() > MAX_QUERY_LENGTH {
        return Err(SearchError(format!(
            "longer than {MAX_QUERY_LENGTH} characters"
        )));
    }
    let tokens = tokenize(query)?;
    let expression = Parser {
        tokens: &tokens,
        at: 0,
        depth: 0,
    }
    .parse_all()?;
    let mut out = Compiler {
        target,
        next: first_parameter,
        binds: Vec::new(),
        now,
    };
    let sql = out.expression(&expression)?;
    Ok(Condition {
        sql,
        binds: out.binds,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Op(&'static str),
    /// A bare word: AND, OR, NOT, IN, a field name, an unquoted value.
    Word(String),
    Quoted(String),
}

fn tokenize(query: &str) -> Result<Vec<Token>, SearchError> {
    let mut tokens = Vec::new();
    let mut chars = query.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            '[' => Token::OpenList,
            ']' => Token::CloseList,
            ',' => Token::Comma,
            '=' => Token::Op("="),
            ':' => Token::Op(":"),
            '<' | '>' => {
                let equal = chars.next_if(|(_, n)| *n == '=').is_some();
                Token::Op(match (c, equal) {
                    ('<', false) => "<",
                    ('<', true) => "<=",
                    ('>', false) => ">",
                    _ => ">=",
                })
            }
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, escaped)) => text.push(escaped),
                            None => break,
                        },
                        Some((_, '"')) => break,
                        Some((_, other)) => text.push(other),
                        None => {
                            return Err(SearchError(format!(
                                "the quote at character {} is never closed",
                                at + 1
                            )));
                        }
                    }
                }
                Token::Quoted(text)
            }
            _ => {
                let mut word = c.to_string();
                while let Some((_, n)) =
                    chars.next_if(|(_, n)| !n.is_whitespace() && !"()[],=:<>\"".contains(*n))
                {
                    word.push(n);
                }
                Token::Word(word)
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

#[derive(Debug, Clone, PartialEq)]
enum Expression {
    Or(Vec<Expression>),
    And(Vec<Expression>),
    Condition {
        field: String,
        negated: bool,
        op: &'static str,
        values: Vec<String>,
    },
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn parse_all(mut self) -> Result<Expression, SearchError> {
        if self.tokens.is_empty() {
            return Err(SearchError("is empty".into()));
        }
        let expression = self.or()?;
        match self.tokens.get(self.at) {
            None => Ok(expression),
            Some(token) => Err(SearchError(format!(
                "unexpected {} after a complete condition (join conditions with AND or OR)",
                describe(token)
            ))),
        }
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expression, SearchError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("OR") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expression::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expression, SearchError> {
        let mut parts = vec![self.primary()?];
        while self.peek_word("AND") {
            self.at += 1;
            parts.push(self.primary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expression::And(parts)
        })
    }

    fn primary(&mut self) -> Result<Expression, SearchError> {
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(SearchError(format!(
                    "nested deeper than {MAX_DEPTH} parentheses"
                )));
            }
            self.at += 1;
            let inner = self.or()?;
            if self.tokens.get(self.at) != Some(&Token::Close) {
                return Err(SearchError("a '(' is never closed".into()));
            }
            self.at += 1;
            self.depth -= 1;
            return Ok(inner);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expression, SearchError> {
        let field = match self.tokens.get(self.at) {
            Some(Token::Word(w) | Token::Quoted(w)) => w.clone(),
            Some(other) => {
                return Err(SearchError(format!(
                    "expected a field name, found {}",
                    describe(other)
                )));
            }
            None => return Err(SearchError("ends where a condition was expected".into())),
        };
        self.at += 1;
        let negated = self.peek_word("NOT");
        if negated {
            self.at += 1;
        }
        let op = match self.tokens.get(self.at) {
            Some(Token::Op(op)) => *op,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => "IN",
            other => {
                return Err(SearchError(format!(
                    "expected an operator (=, :, <, <=, >, >=, IN) after {field:?}, found {}",
                    other.map_or("the end".to_string(), describe)
                )));
            }
        };
        self.at += 1;
        if negated && !matches!(op, "=" | ":" | "IN") {
            return Err(SearchError(format!(
                "NOT goes with =, : or IN, not {op} (in the condition on {field:?})"
            )));
        }
        let values = if op == "IN" {
            self.list(&field)?
        } else {
            vec![self.scalar(&field, op)?]
        };
        Ok(Expression::Condition {
            field,
            negated,
            op,
            values,
        })
    }

    fn scalar(&mut self, field: &str, op: &str) -> Result<String, SearchError> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w) | Token::Quoted(w)) => {
                self.at += 1;
                Ok(w.clone())
            }
            other => Err(SearchError(format!(
                "expected a value after {field:?} {op}, found {}",
                other.map_or("the end".to_string(), describe)
            ))),
        }
    }

    fn list(&mut self, field: &str) -> Result<Vec<String>, SearchError> {
        if self.tokens.get(self.at) != Some(&Token::OpenList) {
            return Err(SearchError(format!(
                "IN takes a list such as [\"a\", \"b\"] (in the condition on {field:?})"
            )));
        }
        self.at += 1;
        let mut values = Vec::new();
        loop {
            values.push(self.scalar(field, "IN")?);
            if values.len() > MAX_LIST {
                return Err(SearchError(format!(
                    "a list may hold at most {MAX_LIST} values"
                )));
            }
            match self.tokens.get(self.at) {
                Some(Token::Comma) => self.at += 1,
                Some(Token::CloseList) => {
                    self.at += 1;
                    return Ok(values);
                }
                _ => {
                    return Err(SearchError(format!(
                        "the list after {field:?} IN is never closed with ']'"
                    )));
                }
            }
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::OpenList => "'['".into(),
        Token::CloseList => "']'".into(),
        Token::Comma => "','".into(),
        Token::Op(op) => format!("'{op}'"),
        Token::Word(w) => format!("{w:?}"),
        Token::Quoted(q) => format!("\"{q}\""),
    }
}

/// What kind of value a field holds, and its column for each target (`None`: the target has
/// no such field).
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    Bytes,
    Time,
    Tags,
}

fn field(name: &str, target: Target) -> Result<(Kind, Option<&'static str>), SearchError> {
    let files = target == Target::Files;
    let pick = |file: &'static str, folder: Option<&'static str>| {
        if files { Some(file) } else { folder }
    };
    Ok(match name {
        "name" => (Kind::Text, pick("name", Some("name"))),
        "type" => (Kind::Text, pick("'file'", Some("'folder'"))),
        "fileType" => (Kind::Text, pick("file_type", None)),
        "format" => (Kind::Text, pick("format", None)),
        "size" => (Kind::Bytes, pick("size", None)),
        "width" => (Kind::Number, pick("width", None)),
        "height" => (Kind::Number, pick("height", None)),
        "createdAt" => (Kind::Time, pick("created_at", Some("created_at"))),
        "updatedAt" => (Kind::Time, pick("updated_at", Some("updated_at"))),
        "tags" => (Kind::Tags, pick("tags", None)),
        other => {
            return Err(SearchError(format!(
                "unknown field {other:?} (known: {FIELDS})"
            )));
        }
    })
}

struct Compiler {
    target: Target,
    next: usize,
    binds: Vec<Bind>,
    now: i64,
}

impl Compiler {
    fn bind(&mut self, value: Bind) -> String {
        let placeholder = format!("${}", self.next);
        self.next += 1;
        self.binds.push(value);
        placeholder
    }

    fn expression(&mut self, expression: &Expression) -> Result<String, SearchError> {
        match expression {
            Expression::Or(parts) => self.join(parts, " OR "),
            Expression::And(parts) => self.join(parts, " AND "),
            Expression::Condition {
                field,
                negated,
                op,
                values,
            } => {
                let sql = self.condition(field, op, values)?;
                Ok(if *negated {
                    format!("NOT ({sql})")
                } else {
                    sql
                })
            }
        }
    }

    fn join(&mut self, parts: &[Expression], with: &str) -> Result<String, SearchError> {
        let parts: Result<Vec<String>, SearchError> =
            parts.iter().map(|p| self.expression(p)).collect();
        Ok(format!("({})", parts?.join(with)))
    }

    fn condition(
        &mut self,
        name: &str,
        op: &str,
        values: &[String],
    ) -> Result<String, SearchError> {
        let (kind, column) = field(name, self.target)?;
        // Values are checked even where the target lacks the field, so a bad query is refused
        // the same way whatever it is listed against.
        let binds: Vec<Bind> = values
            .iter()
            .map(|v| value(kind, name, v, self.now))
            .collect::<Result<_, _>>()?;
        if op == ":" && !matches!(kind, Kind::Text) {
            return Err(SearchError(format!(
                "':' (begins with) works on text fields, not {name:?}"
            )));
        }
        if matches!(kind, Kind::Text | Kind::Tags) && matches!(op, "<" | "<=" | ">" | ">=") {
            return Err(SearchError(format!(
                "{name:?} is compared with =, : or IN, not {op}"
            )));
        }
        let Some(column) = column else {
            return Ok("(1 = 0)".to_string());
        };
        if matches!(kind, Kind::Tags) {
            let list: Vec<String> = binds.into_iter().map(|b| self.bind(b)).collect();
            return Ok(format!(
                "EXISTS (SELECT 1 FROM file_tags t WHERE t.file_id = files.id AND t.tag IN ({}))",
                list.join(", ")
            ));
        }
        Ok(match op {
            "IN" => {
                let list: Vec<String> = binds.into_iter().map(|b| self.bind(b)).collect();
                format!("{column} IN ({})", list.join(", "))
            }
            ":" => {
                let bind = binds.into_iter().next().expect("one value");
                let a = self.bind(bind.clone());
                let b = self.bind(bind);
                format!("substr({column}, 1, length({a})) = {b}")
            }
            op => {
                let bind = binds.into_iter().next().expect("one value");
                format!("{column} {op} {}", self.bind(bind))
            }
        })
    }
}

/// A value of a field's kind, or an error naming the field and the value.
fn value(kind: Kind, field: &str, text: &str, now: i64) -> Result<Bind, SearchError> {
    let bad = |what: &str| SearchError(format!("{field:?} expects {what}, not {text:?}"));
    match kind {
        Kind::Text | Kind::Tags => Ok(Bind::Text(text.to_string())),
        Kind::Number => text
            .parse::<i64>()
            .map(Bind::Int)
            .map_err(|_| bad("a whole number")),
        Kind::Bytes => bytes(text)
            .map(Bind::Int)
            .ok_or_else(|| bad("a size such as 500, \"200kb\" or \"1mb\"")),
        Kind::Time => time(text, now).map(Bind::Int).ok_or_else(|| {
            bad("a date (2024-01-31 or 2024-01-31T12:00:00) or a relative time (\"7d\", \"2h\")")
        }),
    }
}

fn bytes(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let number: f64 = digits.parse().ok()?;
    let scale = match unit.trim() {
        "" | "b" => 1.0,
        "kb" => 1024.0,
        "mb" => 1024.0 * 1024.0,
        "gb" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * scale) as i64)
}

/// Unix seconds of an ISO 8601 date (`YYYY-MM-DD`, midnight UTC) or time
/// (`YYYY-MM-DDTHH:MM:SS`, UTC), or `now` minus a relative `Nh`, `Nd`, `Nw` or `Nm` (30 days).
fn time(text: &str, now: i64) -> Option<i64> {
    if let Some(unit) = text.chars().last().filter(|c| "hdwm".contains(*c)) {
        let count: i64 = text[..text.len() - 1].parse().ok()?;
        let seconds = match unit {
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => 30 * 86_400,
        };
        return Some(now - count.checked_mul(seconds)?);
    }
    let (date, clock) = text.split_once('T').unwrap_or((text, "00:00:00"));
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let clock = clock.trim_end_matches('Z');
    let clock = clock.split('.').next()?;
    let mut clock = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next().flatten()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(query: &str) -> Result<Condition, SearchError> {
        compile(query, Target::Files, 1, 1_000_000)
    }

    #[test]
    fn conditions_compile_to_bound_parameters() {
        let c = files(r#"name = "a.jpg""#).unwrap();
        assert_eq!(c.sql, "name = $1");
        assert_eq!(c.binds, vec![Bind::Text("a.jpg".into())]);

        let c = files(r#"(size < "1mb" AND width > 500) OR tags IN ["sale","banner"]"#).unwrap();
        assert_eq!(
            c.sql,
            "((size < $1 AND width > $2) OR EXISTS (SELECT 1 FROM file_tags t WHERE \
             t.file_id = files.id AND t.tag IN ($3, $4)))"
        );
        assert_eq!(
            c.binds,
            vec![
                Bind::Int(1 << 20),
                Bind::Int(500),
                Bind::Text("sale".into()),
                Bind::Text("banner".into())
            ]
        );
        let c = files(r#"name : "red" AND name NOT = "red.png""#).unwrap();
        assert_eq!(
            c.sql,
            "(substr(name, 1, length($1)) = $2 AND NOT (name = $3))"
        );
        assert_eq!(
            files("createdAt > 7d").unwrap().binds,
            vec![Bind::Int(1_000_000 - 7 * 86_400)]
        );
        assert_eq!(
            files(r#"createdAt < "2020-01-01T12:12:12""#).unwrap().binds,
            vec![Bind::Int(1_577_880_732)]
        );
        assert_eq!(
            files("createdAt < 2020-01-01").unwrap().binds,
            vec![Bind::Int(1_577_836_800)]
        );
    }

    #[test]
    fn fields_folders_lack_are_false_for_folders() {
        let c = compile(r#"type = "folder" OR size > 10"#, Target::Folders, 3, 0).unwrap();
        assert_eq!(c.sql, "('folder' = $3 OR (1 = 0))");
        let c = compile(r#"name = "x""#, Target::Folders, 1, 0).unwrap();
        assert_eq!(c.sql, "name = $1");
    }

    #[test]
    fn bad_queries_name_the_bad_part() {
        for (query, says) in [
            ("", "empty"),
            ("colour = red", "unknown field \"colour\""),
            ("size > big", "\"size\" expects a size"),
            ("width > 1.5", "\"width\" expects a whole number"),
            ("createdAt > yesterday", "\"createdAt\" expects a date"),
            ("name = ", "expected a value after \"name\" ="),
            ("name \"x\"", "expected an operator"),
            ("name = \"x", "never closed"),
            ("(name = x", "'(' is never closed"),
            ("tags IN [a, b", "never closed with ']'"),
            ("tags IN a", "IN takes a list"),
            ("name = a name = b", "join conditions with AND or OR"),
            ("size NOT > 3", "NOT goes with"),
            ("name > a", "compared with =, : or IN"),
            ("size : 3", "':' (begins with) works on text"),
        ] {
            let error = files(query).unwrap_err().to_string();
            assert!(error.contains(says), "{query:?}: {error}");
            assert!(error.starts_with("searchQuery: "), "{error}");
        }
        let deep = format!("{}name = a{}", "(".repeat(40), ")".repeat(40));
        assert!(
            files(&deep)
                .unwrap_err()
                .to_string()
                .contains("nested deeper")
        );
    }
}
