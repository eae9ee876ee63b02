//! `haptic fmt`: the canonical layout of a source file.
//!
//! The formatter changes whitespace only, never a token: it re-indents by
//! nesting (two spaces a level), puts one space between tokens where the
//! language allows it (none inside `[a, b]`, before `,` or around the `(`
//! of `secret(...)`), keeps the author's line breaks but at most one blank
//! line in a row and none just inside braces, puts two spaces before a
//! trailing comment, and ends the file with one newline. Strings and
//! comments are copied as written. Because it works on tokens, it needs no
//! syntax tree and keeps every comment; the caller only formats files that
//! parse, and the tests check that the compiled output is unchanged.

/// One token of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    /// `{ } [ ] ( ) , = == != ->`
    Punct(&'a str),
    /// A string literal with its quotes, as written.
    Str(&'a str),
    /// Anything else: names, numbers, addresses, keywords.
    Word(&'a str),
}

impl Token<'_> {
    fn text(&self) -> &str {
        match self {
            Token::Punct(s) | Token::Str(s) | Token::Word(s) => s,
        }
    }
}

/// A source line: its tokens and a trailing comment.
struct Line<'a> {
    tokens: Vec<Token<'a>>,
    comment: Option<&'a str>,
}

/// Splits the text into lines of tokens. A string may span lines (the
/// language allows a raw newline in one; the checker refuses it), so lines
/// are cut only outside strings.
fn lines(text: &str) -> Vec<Line<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut current = Line {
        tokens: Vec::new(),
        comment: None,
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                out.push(std::mem::replace(
                    &mut current,
                    Line {
                        tokens: Vec::new(),
                        comment: None,
                    },
                ));
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                current.comment = Some(text[i..end].trim_end());
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(bytes.len());
                current.tokens.push(Token::Str(&text[i..end]));
                i = end;
            }
            b'=' | b'!' if bytes.get(i + 1) == Some(&b'=') => {
                current.tokens.push(Token::Punct(&text[i..i + 2]));
                i += 2;
            }
            b'{' | b'}' | b'[' | b']' | b'(' | b')' | b',' | b'=' => {
                current.tokens.push(Token::Punct(&text[i..i + 1]));
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                current.tokens.push(Token::Punct("->"));
                i += 2;
            }
            _ => {
                let start = i;
                while i < bytes.len() {
                    let b = bytes[i];
                    let arrow = (b == b'-' && bytes.get(i + 1) == Some(&b'>'))
                        || (b == b'!' && bytes.get(i + 1) == Some(&b'='));
                    let comment = b == b'/' && bytes.get(i + 1) == Some(&b'/');
                    if b" \t\r\n{}[](),=\"".contains(&b) || arrow || comment {
                        break;
                    }
                    i += 1;
                }
                current.tokens.push(Token::Word(&text[start..i]));
            }
        }
    }
    out.push(current);
    out
}

/// Whether to put a space between two tokens on one line.
fn space_between(a: &Token, b: &Token) -> bool {
    // The port of `[2001:db8::1]:80` and `"db.internal":80` is glued on.
    let port = matches!(a, Token::Str(_) | Token::Punct("]")) && b.text().starts_with(':');
    let (a, b) = (a.text(), b.text());
    !(port
        || matches!(b, "," | ")" | "]")
        || matches!(a, "(" | "[")
        || (b == "(" && a == "secret")
        || (a == "{" && b == "}"))
}

/// Whether a diagnostic of a file means its tokens cannot be trusted, so
/// the file is not formatted: a syntax error, text that is not UTF-8, or
/// nesting too deep.
pub fn stops_formatting(code: crate::diag::Code) -> bool {
    use crate::diag::Code;
    matches!(code, Code::Syntax | Code::NotUtf8 | Code::TooDeep)
}

/// Formats one file. The result is stable: formatting it again changes
/// nothing.
pub fn format(text: &str) -> String {
    // A file whose first line ends in `\r\n` keeps that ending on every
    // line (as checked out on Windows), as rustfmt's `newline_style = Auto`.
    let crlf = text.find('\n').is_some_and(|i| text[..i].ends_with('\r'));
    if crlf {
        return layout(&text.replace("\r\n", "\n")).replace('\n', "\r\n");
    }
    layout(text)
}

/// [`format`] of a text whose lines end in `\n`.
fn layout(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth: usize = 0;
    let mut blank_pending = false;
    let mut after_open = true;
    for line in lines(text) {
        if line.tokens.is_empty() && line.comment.is_none() {
            blank_pending = !after_open;
            continue;
        }
        let closes_first = line
            .tokens
            .first()
            .is_some_and(|t| matches!(t.text(), "}" | "]"));
        if blank_pending && !closes_first {
            out.push('\n');
        }
        blank_pending = false;
        let indent = depth.saturating_sub(usize::from(closes_first));
        for _ in 0..indent {
            out.push_str("  ");
        }
        for (i, token) in line.tokens.iter().enumerate() {
            if i > 0 && space_between(&line.tokens[i - 1], token) {
                out.push(' ');
            }
            out.push_str(token.text());
            match token.text() {
                "{" | "[" => depth += 1,
                "}" | "]" => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(comment) = line.comment {
            if !line.tokens.is_empty() {
                out.push_str("  ");
            }
            out.push_str(comment);
        }
        out.push('\n');
        after_open = line
            .tokens
            .last()
            .is_some_and(|t| matches!(t.text(), "{" | "["));
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out == "\n" {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn a_file_with_windows_line_endings_keeps_them() {
        let input = "env production\r\nbackend  b{\r\n server s = 10.0.0.1:80  // one\r\n}\r\n";
        let expected = "env production\r\nbackend b {\r\n  server s = 10.0.0.1:80  // one\r\n}\r\n";
        assert_eq!(format(input), expected);
        assert_eq!(format(expected), expected);
        assert_eq!(
            format(&expected.replace("\r\n", "\n")),
            expected.replace("\r\n", "\n")
        );
    }

    #[test]
    fn canonical_layout() {
        let input = "env   production\n\n\n\nbackend  b{\n\n      server s =10.0.0.1:80{ weight=5,maxconn = 3 }   // main one\n  check = http {path=\"/a b\"}\n\n}\nlet l = [ 1 ,2 ]\nstats { password = secret ( \"X\" ) }\n";
        let expected = "env production\n\nbackend b {\n  server s = 10.0.0.1:80 { weight = 5, maxconn = 3 }  // main one\n  check = http { path = \"/a b\" }\n}\nlet l = [1, 2]\nstats { password = secret(\"X\") }\n";
        assert_eq!(format(input), expected);
        assert_eq!(format(expected), expected);
    }

    #[test]
    fn nesting_and_comments() {
        let input = "// head\nif env == production {\nbackend b {\nif env != staging {\nserver s = 10.0.0.1:80\n}\n}\n}\nroute host \"a\"->b\n";
        let expected = "// head\nif env == production {\n  backend b {\n    if env != staging {\n      server s = 10.0.0.1:80\n    }\n  }\n}\nroute host \"a\" -> b\n";
        assert_eq!(format(input), expected);
    }

    #[test]
    fn addresses_stay_glued() {
        let input = "server a = [2001:db8::1]:80\nserver b = \"db.internal\":5432\nbind :443\n";
        assert_eq!(format(input), input);
    }

    #[test]
    fn strings_and_idents_are_copied() {
        let input = "let x = \"a  //  b {\"\nbalance = static-rr\n";
        assert_eq!(format(input), input);
    }
}
