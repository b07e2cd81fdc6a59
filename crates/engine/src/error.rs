//! Typed errors for the engine.
//!
//! Every error names the thing that was wrong and where it came from: the rule
//! file with line and column, the rule id, the input path. The binary decides
//! how to print them and which exit code they map to; the library only
//! describes them.

use std::fmt;
use std::path::PathBuf;

/// A position inside a rule file, 1-based, as editors show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file name as the user gave it, or `<builtin>/NAME.toml` for a shipped pack.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl SourceLocation {
    /// Computes line and column of byte `offset` inside `text`.
    pub fn at(file: &str, text: &str, offset: usize) -> SourceLocation {
        let offset = offset.min(text.len());
        let before = &text[..text.floor_char_boundary(offset)];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        SourceLocation {
            file: file.to_string(),
            line,
            column,
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rule file is malformed: bad TOML, an unknown field, a bad regex, a
    /// missing field for its kind, a duplicate id.
    RuleFile {
        /// Where in the file.
        location: SourceLocation,
        /// The rule id, when the problem is inside one rule.
        rule: Option<String>,
        /// What is wrong, naming the bad value.
        message: String,
    },
    /// A rule's own examples disagree with what it does (`rules test`).
    RuleExample {
        /// Where the example stands.
        location: SourceLocation,
        /// The rule id.
        rule: String,
        /// What was expected and what happened.
        message: String,
    },
    /// `--disable` or `rules show` named a rule or pack that does not exist.
    UnknownRule(String),
    /// A rule file or directory given with `--rules` could not be read.
    RulePath {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Every rule is valid alone but together they exceed the matcher's size limit.
    RulesTooLarge(String),
    /// A rule's pattern, checked when its pack was loaded, does not compile
    /// into the form the matcher needs.
    RulePattern {
        /// The rule id.
        rule: String,
        /// The regex engine's message.
        message: String,
    },
    /// A cleaning setting is out of its range (corpus mode's thresholds);
    /// the message names the setting and the bad value.
    Setting(String),
}

/// The error type of the library.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

impl Error {
    /// Wraps a kind.
    pub fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// True for errors in rule data (the binary exits 78 for them).
    pub fn is_rule_error(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RuleFile { .. }
                | ErrorKind::RuleExample { .. }
                | ErrorKind::UnknownRule(_)
                | ErrorKind::RulePath { .. }
                | ErrorKind::RulesTooLarge(_)
                | ErrorKind::RulePattern { .. }
        )
    }

    pub(crate) fn rule_file(location: SourceLocation, rule: Option<&str>, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::RuleFile {
            location,
            rule: rule.map(str::to_string),
            message: message.into(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::RuleFile {
                location,
                rule: Some(rule),
                message,
            } => {
                write!(f, "{location}: rule {rule}: {message}")
            }
            ErrorKind::RuleFile {
                location,
                rule: None,
                message,
            } => write!(f, "{location}: {message}"),
            ErrorKind::RuleExample {
                location,
                rule,
                message,
            } => write!(f, "{location}: rule {rule}: {message}"),
            ErrorKind::UnknownRule(id) => write!(f, "no rule or pack named {id:?}"),
            ErrorKind::RulePath { path, source } => write!(f, "{}: cannot read rules: {source}", path.display()),
            ErrorKind::RulesTooLarge(message) => write!(f, "the rules together do not compile: {message}"),
            ErrorKind::RulePattern { rule, message } => {
                write!(f, "rule {rule}: the pattern does not compile: {message}")
            }
            ErrorKind::Setting(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::RulePath { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
