//! Paths and names as they are shown to a person.
//!
//! A file name may hold any byte but `/` and NUL, control characters
//! included: printed raw, an escape sequence in a name can move the cursor,
//! clear the screen or retitle the terminal, and a newline can forge a line
//! of output. Every path that reaches a message goes through [`escaped`],
//! which shows control characters as Rust escapes (`\n`, `\u{1b}`) and
//! leaves everything else, non-ASCII letters included, as it is.

use std::fmt;
use std::path::Path;

/// `path` for a message: lossy UTF-8, control characters escaped.
pub fn escaped(path: impl AsRef<Path>) -> Escaped {
    Escaped(path.as_ref().to_string_lossy().into_owned())
}

/// `text` (a path already made a string, a location) for a message, control characters escaped.
pub fn escaped_text(text: &str) -> Escaped {
    Escaped(text.to_string())
}

/// A name whose control characters are shown escaped when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escaped(String);

impl fmt::Display for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_str();
        while let Some(at) = rest.find(char::is_control) {
            f.write_str(&rest[..at])?;
            let control = rest[at..].chars().next().expect("found above");
            write!(f, "{}", control.escape_default())?;
            rest = &rest[at + control.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let shown = escaped("in/caf\u{e9}\u{1b}]0;owned\u{7}\nx.txt").to_string();
        assert_eq!(shown, "in/caf\u{e9}\\u{1b}]0;owned\\u{7}\\nx.txt");
        assert_eq!(escaped_text("plain/path.txt").to_string(), "plain/path.txt");
    }
}
