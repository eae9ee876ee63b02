//! Semantic tokens: how an editor colours a `.hap` buffer. A new language
//! has no grammar in any editor, so the server says what each word is.
//!
//! It works from a scan of the text, not from the tree: a buffer being
//! typed often does not parse, and should stay coloured. Each word is
//! judged by its neighbours: what follows `backend` is a backend's name,
//! what comes before a lone `=` is a field, a value of an enumeration is
//! one (`types::is_value_word`). One pass, linear in the buffer.

use lsp_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};

/// The kinds of token, in the order of [`legend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    String,
    Number,
    Comment,
    /// A field (`balance`), or a server's name.
    Property,
    /// A constant or TLS policy.
    Variable,
    /// A backend or frontend.
    Type,
    /// A value of an enumeration (`leastconn`), a record's head (`http`),
    /// or an environment.
    EnumMember,
    /// A guard rule, `secret(...)`.
    Function,
    /// A standard module (`std`, `tls` in `tls.modern`).
    Namespace,
    Operator,
}

const TYPES: [(Kind, SemanticTokenType); 11] = [
    (Kind::Keyword, SemanticTokenType::KEYWORD),
    (Kind::String, SemanticTokenType::STRING),
    (Kind::Number, SemanticTokenType::NUMBER),
    (Kind::Comment, SemanticTokenType::COMMENT),
    (Kind::Property, SemanticTokenType::PROPERTY),
    (Kind::Variable, SemanticTokenType::VARIABLE),
    (Kind::Type, SemanticTokenType::TYPE),
    (Kind::EnumMember, SemanticTokenType::ENUM_MEMBER),
    (Kind::Function, SemanticTokenType::FUNCTION),
    (Kind::Namespace, SemanticTokenType::NAMESPACE),
    (Kind::Operator, SemanticTokenType::OPERATOR),
];

/// The one modifier: the name is declared here.
const DECLARATION: u32 = 1;

/// What the server announces it sends.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.iter().map(|(_, t)| t.clone()).collect(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

/// Words that begin or shape an item; followed by a lone `=` they are
/// fields instead (`host = "..."` in a health check, `tls = { ... }` on a
/// server).
fn is_keyword(word: &str) -> bool {
    crate::syntax::TOP_KEYWORDS.contains(&word)
        || crate::syntax::BODY_KEYWORDS.contains(&word)
        || matches!(
            word,
            "else"
                | "in"
                | "host"
                | "path"
                | "header"
                | "from"
                | "prefix"
                | "exact"
                | "redirect"
                | "deny"
                | "https"
                | "with"
                | "true"
                | "false"
        )
}

/// One token as scanned: where (line, and start and length in UTF-16 code
/// units, as editors count) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scanned<'a> {
    line: u32,
    start: u32,
    len: u32,
    what: Lexeme<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme<'a> {
    Word(&'a str),
    Number,
    String,
    Comment,
    /// `=`, `==`, `!=`, `->`.
    Op(&'a str),
    /// Any other character: braces, brackets, `:`, `.`, `,`, `(`.
    Punct(char),
}

/// The tokens of `text`, as LSP encodes them (each relative to the one
/// before).
pub fn tokens(text: &str) -> Vec<SemanticToken> {
    let scanned = scan(text);
    let mut out = Vec::with_capacity(scanned.len());
    let (mut line, mut start) = (0, 0);
    // Within `in ...` up to `{` or the end of the line: environments.
    let mut in_envs = false;
    // The last word or operator before this token, with its own kind.
    let mut before: Option<(Lexeme, Option<Kind>)> = None;
    let mut previous_line = 0;
    for (i, token) in scanned.iter().enumerate() {
        if token.line != previous_line {
            in_envs = false;
            previous_line = token.line;
        }
        // A comment runs to the end of its line: nothing follows it there.
        let next = scanned
            .get(i + 1)
            .filter(|t| t.line == token.line && t.what != Lexeme::Comment)
            .map(|t| t.what);
        let place = Place {
            before,
            next,
            first_on_line: i == 0 || scanned[i - 1].line != token.line,
            in_envs,
            // `import std.tls`: a module, where `tls.modern` is a constant.
            after_std: i >= 2
                && scanned[i - 1].what == Lexeme::Punct('.')
                && scanned[i - 2].what == Lexeme::Word("std"),
        };
        let kind = match token.what {
            Lexeme::Word(word) => Some(word_kind(word, &place)),
            Lexeme::Number => Some((Kind::Number, 0)),
            Lexeme::String => Some((Kind::String, 0)),
            Lexeme::Comment => Some((Kind::Comment, 0)),
            Lexeme::Op(_) => Some((Kind::Operator, 0)),
            Lexeme::Punct(_) => None,
        };
        match token.what {
            Lexeme::Word("in") if kind.map(|k| k.0) == Some(Kind::Keyword) => in_envs = true,
            Lexeme::Punct('{') => in_envs = false,
            _ => {}
        }
        if token.what != Lexeme::Comment {
            before = Some((token.what, kind.map(|k| k.0)));
        }
        let Some((kind, modifiers)) = kind else {
            continue;
        };
        let delta_line = token.line - line;
        let delta_start = if delta_line == 0 {
            token.start - start
        } else {
            token.start
        };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: token.len,
            token_type: kind as u32,
            token_modifiers_bitset: modifiers,
        });
        (line, start) = (token.line, token.start);
    }
    out
}

/// The neighbours of a word.
struct Place<'a> {
    /// The last word, operator or punctuation before it, and the kind of
    /// that word or operator.
    before: Option<(Lexeme<'a>, Option<Kind>)>,
    /// The next token on its line, if not a comment.
    next: Option<Lexeme<'a>>,
    first_on_line: bool,
    /// Between `in` and `{` or the end of the line.
    in_envs: bool,
    after_std: bool,
}

/// What a word is, by its neighbours.
fn word_kind(word: &str, place: &Place) -> (Kind, u32) {
    let Place {
        before,
        next,
        first_on_line,
        in_envs,
        after_std,
    } = *place;
    let keyword_before = match before {
        Some((Lexeme::Word(w), Some(Kind::Keyword))) => Some(w),
        _ => None,
    };
    let op_before = match before {
        Some((Lexeme::Op(op), _)) => Some(op),
        _ => None,
    };
    let dot_before = matches!(before, Some((Lexeme::Punct('.'), _)));
    match keyword_before {
        Some("backend" | "frontend") => return (Kind::Type, DECLARATION),
        Some("server") => return (Kind::Property, DECLARATION),
        Some("let") => return (Kind::Variable, DECLARATION),
        Some("env") if word != "in" => return (Kind::EnumMember, DECLARATION),
        Some("guard") => return (Kind::Function, 0),
        Some("import") => return (Kind::Namespace, 0),
        // `tls public = ...` at the start of a line declares; `bind :443
        // tls public` names one.
        Some("tls") if next != Some(Lexeme::Punct('.')) => {
            let declares = matches!(next, Some(Lexeme::Op("=") | Lexeme::Punct('{')));
            return (Kind::Variable, if declares { DECLARATION } else { 0 });
        }
        _ => {}
    }
    if next == Some(Lexeme::Punct('.')) && !dot_before {
        return (Kind::Namespace, 0);
    }
    if dot_before {
        return (
            if after_std {
                Kind::Namespace
            } else {
                Kind::Variable
            },
            0,
        );
    }
    // `let ports: list<port> = ...`: a type.
    if matches!(before, Some((Lexeme::Punct(':' | '<'), _)))
        && matches!(next, Some(Lexeme::Op("=") | Lexeme::Punct('<' | '>')))
    {
        return (Kind::Type, 0);
    }
    if next == Some(Lexeme::Op("=")) {
        return (Kind::Property, 0);
    }
    if word == "secret" && next == Some(Lexeme::Punct('(')) {
        return (Kind::Function, 0);
    }
    if word == "tls" && first_on_line {
        return (Kind::Keyword, 0);
    }
    if is_keyword(word) {
        return (Kind::Keyword, 0);
    }
    if op_before == Some("->") {
        return (Kind::Type, 0);
    }
    if in_envs || matches!(op_before, Some("==" | "!=")) {
        return (Kind::EnumMember, 0);
    }
    if crate::check::types::is_value_word(word) {
        return (Kind::EnumMember, 0);
    }
    (Kind::Variable, 0)
}

/// The lexemes of `text`, each within one line.
fn scan(text: &str) -> Vec<Scanned<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut line, mut column) = (0u32, 0u32);
    let mut pos = 0;
    // Advances over `text[pos..end]` (no line break in it), counting columns.
    let width = |from: usize, to: usize| -> u32 {
        text[from..to].chars().map(|c| c.len_utf16() as u32).sum()
    };
    while pos < bytes.len() {
        let b = bytes[pos];
        let end = match b {
            b'\n' => {
                line += 1;
                column = 0;
                pos += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                column += 1;
                pos += 1;
                continue;
            }
            b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                let end = line_end(text, pos);
                push(&mut out, line, column, width(pos, end), Lexeme::Comment);
                end
            }
            b'"' => {
                let end = string_end(bytes, pos);
                push(&mut out, line, column, width(pos, end), Lexeme::String);
                end
            }
            b'[' if ipv6_end(bytes, pos).is_some() => {
                // `[2001:db8::1]`: the address inside is one number.
                let end = ipv6_end(bytes, pos).unwrap_or(pos + 1);
                push(&mut out, line, column, 1, Lexeme::Punct('['));
                push(
                    &mut out,
                    line,
                    column + 1,
                    width(pos + 1, end),
                    Lexeme::Number,
                );
                push(
                    &mut out,
                    line,
                    column + 1 + width(pos + 1, end),
                    1,
                    Lexeme::Punct(']'),
                );
                end + 1
            }
            b'0'..=b'9' => {
                let end = run(bytes, pos, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'/' | b'_')
                });
                push(&mut out, line, column, width(pos, end), Lexeme::Number);
                end
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut end = pos;
                for c in text[pos..].chars() {
                    if !crate::syntax::is_name_char(c) {
                        break;
                    }
                    end += c.len_utf8();
                }
                let lexeme = Lexeme::Word(&text[pos..end]);
                push(&mut out, line, column, width(pos, end), lexeme);
                end
            }
            b'-' | b'=' | b'!'
                if bytes.get(pos + 1) == Some(&if b == b'-' { b'>' } else { b'=' }) =>
            {
                push(&mut out, line, column, 2, Lexeme::Op(&text[pos..pos + 2]));
                pos + 2
            }
            b'=' => {
                push(&mut out, line, column, 1, Lexeme::Op("="));
                pos + 1
            }
            _ => {
                let c = char_at(text, pos);
                push(
                    &mut out,
                    line,
                    column,
                    c.len_utf16() as u32,
                    Lexeme::Punct(c),
                );
                pos + c.len_utf8()
            }
        };
        column += width(pos, end);
        pos = end;
    }
    out
}

fn push<'a>(out: &mut Vec<Scanned<'a>>, line: u32, start: u32, len: u32, what: Lexeme<'a>) {
    out.push(Scanned {
        line,
        start,
        len,
        what,
    });
}

fn char_at(text: &str, pos: usize) -> char {
    text[pos..].chars().next().unwrap_or('\0')
}

/// The end of the line `pos` is on (before its `\r\n` or `\n`).
fn line_end(text: &str, pos: usize) -> usize {
    let end = text[pos..].find('\n').map_or(text.len(), |n| pos + n);
    if end > pos && text.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// The end of the string that starts at `pos`: after its closing quote, or
/// at the end of the line where it has none.
fn string_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() && bytes[i + 1] != b'\n' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Where the `]` of `[2001:db8::1]` at `pos` is: the inside is hex digits,
/// colons and dots, with a colon.
fn ipv6_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let end = run(bytes, pos + 1, |c| {
        c.is_ascii_hexdigit() || matches!(c, b':' | b'.')
    });
    let inside = &bytes[pos + 1..end];
    (bytes.get(end) == Some(&b']') && inside.contains(&b':')).then_some(end)
}

fn run(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    from + bytes[from..].iter().take_while(|&&c| keep(c)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each token's text and kind, decoded back from the relative form.
    fn decoded(text: &str) -> Vec<(String, Kind, bool)> {
        let lines: Vec<Vec<u16>> = text
            .split('\n')
            .map(|l| l.encode_utf16().collect())
            .collect();
        let (mut line, mut start) = (0usize, 0usize);
        tokens(text)
            .into_iter()
            .map(|t| {
                if t.delta_line > 0 {
                    line += t.delta_line as usize;
                    start = 0;
                }
                start += t.delta_start as usize;
                let units = &lines[line][start..start + t.length as usize];
                (
                    String::from_utf16_lossy(units),
                    TYPES[t.token_type as usize].0,
                    t.token_modifiers_bitset & DECLARATION != 0,
                )
            })
            .collect()
    }

    fn kind_of(text: &str, word: &str, nth: usize) -> (Kind, bool) {
        decoded(text)
            .into_iter()
            .filter(|(t, _, _)| t == word)
            .map(|(_, k, d)| (k, d))
            .nth(nth)
            .unwrap_or_else(|| panic!("no token `{word}` #{nth} in {:?}", decoded(text)))
    }

    const PROJECT: &str = r#"import std.tls
env production   // the only one

let app_port: port = 8080
tls public = tls.intermediate { certs = "/etc/haproxy/certs/" }
guard min_servers { count = 2 } in production

backend api {
  balance = leastconn
  check = http { path = "/healthz", host = "app.internal" }
  request_header "X-Key" = secret("API_KEY")
  server a1 = 10.0.1.10:app_port { weight = 50 }
  server a2 = [2001:db8::1]:8080
  if env == production { server a3 = "é.internal":80 }
}

frontend www {
  bind :443 tls public
  bind :80 redirect https
  route host "api.example.com" path prefix "/v1/" -> api
  route header "X-Canary" "always" -> api
  route from [10.0.0.0/8] -> api
  default -> api
}
"#;

    /// Each (token, which of its kind, kind, declared) is found in `text`.
    fn expect(text: &str, expected: &[(&str, usize, Kind, bool)]) {
        for &(word, nth, kind, declared) in expected {
            assert_eq!(
                kind_of(text, word, nth),
                (kind, declared),
                "`{word}` #{nth}"
            );
        }
    }

    #[test]
    fn words_are_told_apart_by_their_neighbours() {
        expect(
            PROJECT,
            &[
                ("import", 0, Kind::Keyword, false),
                ("std", 0, Kind::Namespace, false),
                ("tls", 0, Kind::Namespace, false),
                ("production", 0, Kind::EnumMember, true),
                ("production", 1, Kind::EnumMember, false),
                ("production", 2, Kind::EnumMember, false),
                ("// the only one", 0, Kind::Comment, false),
                ("app_port", 0, Kind::Variable, true),
                ("port", 0, Kind::Type, false),
                ("app_port", 1, Kind::Variable, false),
                ("8080", 0, Kind::Number, false),
                ("tls", 1, Kind::Keyword, false),
                ("public", 0, Kind::Variable, true),
                ("tls", 2, Kind::Namespace, false),
                ("intermediate", 0, Kind::Variable, false),
                ("certs", 0, Kind::Property, false),
                ("\"/etc/haproxy/certs/\"", 0, Kind::String, false),
                ("min_servers", 0, Kind::Function, false),
                ("count", 0, Kind::Property, false),
                ("api", 0, Kind::Type, true),
                ("balance", 0, Kind::Property, false),
                ("leastconn", 0, Kind::EnumMember, false),
                ("http", 0, Kind::EnumMember, false),
                ("path", 0, Kind::Property, false),
                ("host", 0, Kind::Property, false),
                ("request_header", 0, Kind::Keyword, false),
                ("secret", 0, Kind::Function, false),
                ("a1", 0, Kind::Property, true),
                ("10.0.1.10", 0, Kind::Number, false),
                ("2001:db8::1", 0, Kind::Number, false),
                ("if", 0, Kind::Keyword, false),
                ("==", 0, Kind::Operator, false),
                ("\"é.internal\"", 0, Kind::String, false),
                ("www", 0, Kind::Type, true),
                ("tls", 3, Kind::Keyword, false),
                ("public", 1, Kind::Variable, false),
                ("redirect", 0, Kind::Keyword, false),
                ("https", 0, Kind::Keyword, false),
                ("host", 1, Kind::Keyword, false),
                ("prefix", 0, Kind::Keyword, false),
                ("header", 0, Kind::Keyword, false),
                ("\"X-Canary\"", 0, Kind::String, false),
                ("\"always\"", 0, Kind::String, false),
                ("from", 0, Kind::Keyword, false),
                ("10.0.0.0/8", 0, Kind::Number, false),
                ("->", 0, Kind::Operator, false),
                ("api", 1, Kind::Type, false),
                ("default", 0, Kind::Keyword, false),
            ],
        );
    }

    #[test]
    fn types_environments_and_fields_named_as_keywords() {
        let t = "let nets: list<cidr> = [10.0.0.0/8]\nif env in [staging, production] {\n  server a = 10.0.0.1:80 { tls = { verify = none } }\n}\n";
        expect(
            t,
            &[
                ("list", 0, Kind::Type, false),
                ("cidr", 0, Kind::Type, false),
                ("10.0.0.0/8", 0, Kind::Number, false),
                ("env", 0, Kind::Keyword, false),
                ("in", 0, Kind::Keyword, false),
                ("staging", 0, Kind::EnumMember, false),
                ("production", 0, Kind::EnumMember, false),
                ("tls", 0, Kind::Property, false),
                ("none", 0, Kind::EnumMember, false),
            ],
        );
    }

    #[test]
    fn a_block_and_its_template() {
        expect(
            "backend api with service {\n  server a = 10.0.0.1:80\n}\n",
            &[
                ("api", 0, Kind::Type, true),
                ("with", 0, Kind::Keyword, false),
                ("service", 0, Kind::Variable, false),
            ],
        );
    }

    #[test]
    fn columns_count_utf16_after_wide_characters() {
        // `é` is one unit, `𝄞` two: the string after them starts where an
        // editor counts.
        let text = "let a = \"é𝄞\" // 𝄞\nlet b = 1\n";
        let found = decoded(text);
        assert!(found.contains(&("\"é𝄞\"".to_string(), Kind::String, false)));
        assert!(found.contains(&("// 𝄞".to_string(), Kind::Comment, false)));
        assert!(found.contains(&("b".to_string(), Kind::Variable, true)));
    }

    #[test]
    fn a_buffer_that_does_not_parse_is_coloured_too() {
        let text =
            "backend api {\n  server a = 10.0.0.1:80 weight 50\n  balance = \"unterminated\n}";
        let found = decoded(text);
        assert!(found.contains(&("api".to_string(), Kind::Type, true)));
        assert!(found.contains(&("\"unterminated".to_string(), Kind::String, false)));
        assert!(found.contains(&("balance".to_string(), Kind::Property, false)));
    }

    #[test]
    fn every_byte_of_anything_is_scanned_without_panic() {
        for text in [
            "", "\"", "[", "[1:", "//", "a.", "->", "!", "\r\n\"\\", "[::]:80", "é==",
        ] {
            let _ = tokens(text);
        }
    }
}
