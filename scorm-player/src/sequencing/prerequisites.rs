//! SCORM 1.2 `adlcp:prerequisites` of type `aicc_script` (SCORM 1.2 CAM, after the AICC
//! CMI001 script language): item identifiers combined with `&` (and), `|` (or), `~` (not),
//! parentheses, `id = status` / `id <> status` comparisons and `n*{a,b,c}` (at least n of a set).
//!
//! A bare identifier is met when that item is passed or completed.

/// A lesson status as the script compares it (SCORM 1.2 `cmi.core.lesson_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status12 {
    Passed,
    Completed,
    Failed,
    Incomplete,
    Browsed,
    NotAttempted,
}

/// A parsed prerequisite expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prerequisite {
    Item(String),
    Is(String, Status12),
    IsNot(String, Status12),
    Not(Box<Prerequisite>),
    All(Vec<Prerequisite>),
    Any(Vec<Prerequisite>),
    AtLeast(usize, Vec<Prerequisite>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScriptError {
    #[error("the script is empty")]
    Empty,
    #[error("unexpected '{0}' at character {1}")]
    Unexpected(String, usize),
    #[error("the script ends where an operand is expected")]
    UnexpectedEnd,
    #[error(
        "'{0}' is not a lesson status (passed, completed, failed, incomplete, browsed, not attempted)"
    )]
    Status(String),
    #[error("the script nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Symbol(&'static str),
}

impl Prerequisite {
    pub(crate) fn parse(script: &str) -> Result<Prerequisite, ScriptError> {
        let tokens = tokenize(script)?;
        if tokens.is_empty() {
            return Err(ScriptError::Empty);
        }
        let mut parser = Parser { tokens, at: 0 };
        let expression = parser.or(0)?;
        match parser.tokens.get(parser.at) {
            None => Ok(expression),
            Some((token, position)) => Err(ScriptError::Unexpected(token.text(), *position)),
        }
    }

    /// Whether the prerequisite is met, given each item's status (`None`: no such item, which
    /// cannot hold the learner back).
    pub(crate) fn is_met(&self, status: &dyn Fn(&str) -> Option<Status12>) -> bool {
        match self {
            Prerequisite::Item(id) => {
                status(id).is_none_or(|s| matches!(s, Status12::Passed | Status12::Completed))
            }
            Prerequisite::Is(id, wanted) => status(id).is_none_or(|s| s == *wanted),
            Prerequisite::IsNot(id, wanted) => status(id).is_none_or(|s| s != *wanted),
            Prerequisite::Not(inner) => !inner.is_met(status),
            Prerequisite::All(parts) => parts.iter().all(|p| p.is_met(status)),
            Prerequisite::Any(parts) => parts.iter().any(|p| p.is_met(status)),
            Prerequisite::AtLeast(count, parts) => {
                parts.iter().filter(|p| p.is_met(status)).count() >= *count
            }
        }
    }

    /// Every item identifier the script names.
    pub(crate) fn identifiers(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Prerequisite::Item(id) | Prerequisite::Is(id, _) | Prerequisite::IsNot(id, _) => {
                out.push(id)
            }
            Prerequisite::Not(inner) => inner.collect(out),
            Prerequisite::All(parts)
            | Prerequisite::Any(parts)
            | Prerequisite::AtLeast(_, parts) => parts.iter().for_each(|p| p.collect(out)),
        }
    }
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => format!("\"{q}\""),
            Token::Symbol(s) => (*s).to_owned(),
        }
    }
}

fn tokenize(script: &str) -> Result<Vec<(Token, usize)>, ScriptError> {
    const SYMBOLS: [&str; 10] = ["<>", "&", "|", "~", "(", ")", "=", "{", "}", ","];
    let mut tokens = Vec::new();
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '*' {
            tokens.push((Token::Symbol("*"), i));
            i += 1;
            continue;
        }
        if let Some(symbol) = SYMBOLS.iter().find(|s| {
            s.chars()
                .enumerate()
                .all(|(k, sc)| chars.get(i + k) == Some(&sc))
        }) {
            tokens.push((Token::Symbol(symbol), i));
            i += symbol.len();
            continue;
        }
        if c == '"' {
            let start = i;
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                text.push(chars[i]);
                i += 1;
            }
            if i == chars.len() {
                return Err(ScriptError::Unexpected("\"".into(), start));
            }
            i += 1;
            tokens.push((Token::Quoted(text), start));
            continue;
        }
        let start = i;
        let mut word = String::new();
        while i < chars.len() && !chars[i].is_whitespace() && !"&|~(){}=<>,*\"".contains(chars[i]) {
            word.push(chars[i]);
            i += 1;
        }
        if word.is_empty() {
            return Err(ScriptError::Unexpected(c.to_string(), start));
        }
        tokens.push((Token::Word(word), start));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser {
    fn peek_symbol(&self, symbol: &str) -> bool {
        matches!(self.tokens.get(self.at), Some((Token::Symbol(s), _)) if *s == symbol)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), ScriptError> {
        match self.tokens.get(self.at) {
            Some((Token::Symbol(s), _)) if *s == symbol => {
                self.at += 1;
                Ok(())
            }
            Some((token, position)) => Err(ScriptError::Unexpected(token.text(), *position)),
            None => Err(ScriptError::UnexpectedEnd),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Prerequisite, ScriptError> {
        let mut parts = vec![self.and(depth)?];
        while self.peek_symbol("|") {
            self.at += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Prerequisite::Any(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Prerequisite, ScriptError> {
        let mut parts = vec![self.unary(depth)?];
        while self.peek_symbol("&") {
            self.at += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Prerequisite::All(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Prerequisite, ScriptError> {
        if depth > MAX_DEPTH {
            return Err(ScriptError::TooDeep);
        }
        if self.peek_symbol("~") {
            self.at += 1;
            return Ok(Prerequisite::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.peek_symbol("(") {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            self.expect_symbol(")")?;
            return Ok(inner);
        }
        let (token, position) = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or(ScriptError::UnexpectedEnd)?;
        self.at += 1;
        let word = match token {
            Token::Word(word) => word,
            other => return Err(ScriptError::Unexpected(other.text(), position)),
        };
        if self.peek_symbol("*") {
            let count = word
                .parse::<usize>()
                .map_err(|_| ScriptError::Unexpected(word.clone(), position))?;
            self.at += 1;
            self.expect_symbol("{")?;
            let mut parts = vec![self.or(depth + 1)?];
            while self.peek_symbol(",") {
                self.at += 1;
                parts.push(self.or(depth + 1)?);
            }
            self.expect_symbol("}")?;
            return Ok(Prerequisite::AtLeast(count, parts));
        }
        for (symbol, negated) in [("=", false), ("<>", true)] {
            if self.peek_symbol(symbol) {
                self.at += 1;
                let status = self.status()?;
                return Ok(if negated {
                    Prerequisite::IsNot(word, status)
                } else {
                    Prerequisite::Is(word, status)
                });
            }
        }
        Ok(Prerequisite::Item(word))
    }

    fn status(&mut self) -> Result<Status12, ScriptError> {
        let text = match self.tokens.get(self.at).cloned() {
            Some((Token::Quoted(text), _)) => {
                self.at += 1;
                text
            }
            Some((Token::Word(word), _)) => {
                self.at += 1;
                // `not attempted` written without quotes is two words.
                if word.eq_ignore_ascii_case("not")
                    && matches!(self.tokens.get(self.at), Some((Token::Word(w), _)) if w.eq_ignore_ascii_case("attempted"))
                {
                    self.at += 1;
                    "not attempted".to_owned()
                } else {
                    word
                }
            }
            Some((token, position)) => return Err(ScriptError::Unexpected(token.text(), position)),
            None => return Err(ScriptError::UnexpectedEnd),
        };
        let status = match text.trim().to_ascii_lowercase().as_str() {
            "passed" | "p" => Status12::Passed,
            "completed" | "c" => Status12::Completed,
            "failed" | "f" => Status12::Failed,
            "incomplete" | "i" => Status12::Incomplete,
            "browsed" | "b" => Status12::Browsed,
            "not attempted" | "n" => Status12::NotAttempted,
            _ => return Err(ScriptError::Status(text)),
        };
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn met(script: &str, statuses: &[(&str, Status12)]) -> bool {
        let parsed = Prerequisite::parse(script).expect("parses");
        parsed.is_met(&|id| {
            statuses
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, s)| *s)
                .or(Some(Status12::NotAttempted))
        })
    }

    #[test]
    fn operators() {
        use Status12::*;
        assert!(met("a", &[("a", Passed)]));
        assert!(met("a", &[("a", Completed)]));
        assert!(!met("a", &[("a", Failed)]));
        assert!(!met("a & b", &[("a", Passed)]));
        assert!(met("a | b", &[("b", Completed)]));
        assert!(met("~a", &[]));
        assert!(met("(a | b) & ~c", &[("a", Passed)]));
        assert!(!met("(a | b) & ~c", &[("a", Passed), ("c", Completed)]));
        assert!(met("a = failed", &[("a", Failed)]));
        assert!(met("a = \"not attempted\"", &[]));
        assert!(met("a = not attempted", &[]));
        assert!(met("a <> p", &[("a", Failed)]));
        assert!(met("2*{a,b,c}", &[("a", Passed), ("c", Completed)]));
        assert!(!met("2*{a,b,c}", &[("a", Passed)]));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(Prerequisite::parse("  "), Err(ScriptError::Empty));
        assert_eq!(Prerequisite::parse("a & "), Err(ScriptError::UnexpectedEnd));
        assert_eq!(
            Prerequisite::parse("a ) b"),
            Err(ScriptError::Unexpected(")".into(), 2))
        );
        assert_eq!(
            Prerequisite::parse("a = done"),
            Err(ScriptError::Status("done".into()))
        );
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(Prerequisite::parse(&deep), Err(ScriptError::TooDeep));
    }
}
