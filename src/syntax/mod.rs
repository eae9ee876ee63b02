//! Syntax: source text → [`ast::File`].
//!
//! Two parsers read the same language. [`grammar`] is pest, generated from
//! `grammar/haptic.pest`: the definition of the language and the source of
//! every syntax error message. [`parser`] is hand-written and several times
//! faster; it reads the files that parse (nearly all of them, and the large
//! ones) and gives up at the first thing it does not accept, and then pest
//! parses the file again to say what is wrong. Tests hold the two to the
//! same trees, spans and diagnostics (tests/integration/syntax.rs). pest is
//! confined to `grammar.rs`; no `Pair<Rule>` leaves it.

pub mod ast;
mod grammar;
mod literal;
mod parser;

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use ast::*;

/// Blocks, records and lists may nest at most this deep (see E0003).
pub const MAX_DEPTH: usize = 32;

/// Parses one file. A syntax error stops this file (its diagnostic is
/// returned with an empty tree); other files are unaffected.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    if let Some(diag) = check_depth(file, text) {
        return (File { items: Vec::new() }, vec![diag]);
    }
    parser::parse(file, text).unwrap_or_else(|| {
        grammar::parse(file, text).unwrap_or_else(|e| (File { items: Vec::new() }, vec![e]))
    })
}

/// Parses with the pest reference parser only: the tree, or the syntax
/// error (for tests that compare the two parsers).
#[doc(hidden)]
pub fn parse_reference(file: FileId, text: &str) -> Result<(File, Vec<Diagnostic>), Diagnostic> {
    if let Some(diag) = check_depth(file, text) {
        return Err(diag);
    }
    grammar::parse(file, text)
}

/// Parses with the hand-written parser only: `None` where it gives up (for
/// tests that compare the two parsers).
#[doc(hidden)]
pub fn parse_fast(file: FileId, text: &str) -> Option<(File, Vec<Diagnostic>)> {
    if check_depth(file, text).is_some() {
        return None;
    }
    parser::parse(file, text)
}

/// Refuses pathological nesting before pest's recursive descent sees it.
fn check_depth(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(
                        Diagnostic::new(
                            Code::TooDeep,
                            Span::new(file, i..i + 1),
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                        )
                        .help("flatten the construct, for example with `let` constants"),
                    );
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
