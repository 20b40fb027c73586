//! The crate's one error type: what went wrong (`kind`), where (`field`) and which rule.

use std::fmt;

/// What kind of error, for callers that map errors to responses (the HTTP layer maps
/// `Invalid` to 400 and `NotFound` to 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Input that breaks a rule of the model: a framework, role, rule, configuration or a
    /// stored statement the engine cannot read.
    Invalid,
    /// A reference to something that does not exist (a capability or role id).
    NotFound,
    /// Input that contradicts the state it is applied to (evidence derived by another rule
    /// version than the ledger's).
    Conflict,
}

/// An error naming the field (a path such as `capabilities[3].levels` or `match.verbs`) and
/// the rule it breaks (a short stable name such as `non-empty`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    field: String,
    rule: &'static str,
    message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}

impl Error {
    pub fn invalid(
        field: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error {
            kind: ErrorKind::Invalid,
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn not_found(
        field: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error {
            kind: ErrorKind::NotFound,
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn conflict(
        field: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error {
            kind: ErrorKind::Conflict,
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn field(&self) -> &str {
        &self.field
    }

    pub fn rule(&self) -> &'static str {
        self.rule
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error one level down, e.g. `levels` inside `capabilities[3]` becomes
    /// `capabilities[3].levels`.
    pub fn within(self, parent: impl fmt::Display) -> Self {
        let field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        Error { field, ..self }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
