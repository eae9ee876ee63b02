//! The reference parser: pest, generated from `grammar/haptic.pest`, and the
//! conversion of its pairs into the AST. It is the definition of the
//! language: the hand-written [`super::parser`] must accept exactly what it
//! accepts and build the same tree (tests/integration/syntax.rs compares the
//! two), and its errors are the syntax errors users see.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::literal;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/haptic.pest"]
struct HapticParser;

/// Parses `text` with pest: the tree and the diagnostics of its literals,
/// or the syntax error at the place pest stopped.
pub fn parse(file: FileId, text: &str) -> Result<(File, Vec<Diagnostic>), Diagnostic> {
    match HapticParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let mut conv = Converter {
                file,
                diags: Vec::new(),
            };
            let root = pairs
                .next()
                .expect("the `file` rule always yields one pair");
            let items = root
                .into_inner()
                .filter(|p| p.as_rule() != Rule::EOI)
                .map(|p| conv.item(p))
                .collect();
            Ok((
                File {
                    items,
                    lost: Vec::new(),
                },
                conv.diags,
            ))
        }
        Err(err) => Err(syntax_error(file, text, err)),
    }
}

fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let found = describe_found(text, pos);
    let end = (pos + found.1).min(text.len());
    let mut keywords: Vec<&str> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let expected = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            names = positives.iter().filter_map(|r| rule_name(*r)).collect();
            names.sort_unstable();
            names.dedup();
            // A name of several (`` `tls` or `redirect` ``) is said
            // as one list with the others.
            let mut words: Vec<&str> = names
                .iter()
                .flat_map(|n| n.split(" or "))
                .flat_map(|n| n.split(", "))
                .collect();
            words.sort_unstable();
            words.dedup();
            // Keywords are the names written `like-this` with no space.
            keywords = words
                .iter()
                .filter_map(|n| n.strip_prefix('`')?.strip_suffix('`'))
                .filter(|k| k.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
                .collect();
            match words.len() {
                0 => "valid syntax".to_string(),
                1 => words[0].to_string(),
                _ => {
                    let (last, rest) = words.split_last().expect("len >= 2");
                    format!("{} or {last}", rest.join(", "))
                }
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let previous_at = previous_word_at(text, pos);
    let previous = previous_at.map(|(_, word)| word);
    let route_match = names.contains(&"`host`, `path`, `header` or `from`");
    // `if env = production`: one `=` where a comparison goes (pest, having
    // read the first `=` of `==`, expects only `in` there).
    let after = text.get(pos..).unwrap_or("");
    let single_equals = previous == Some("env")
        && names
            .iter()
            .any(|n| matches!(*n, "`in`" | "`==`, `!=` or `in`"))
        && after.starts_with('=')
        && !after.starts_with("==");
    // `let a =` whose value is missing, then the next item: the grammar
    // refuses the keyword as the value, and expects nothing it can name.
    let value_missing = names.is_empty()
        && super::TOP_KEYWORDS.contains(&found.0.trim_matches('`'))
        && line_before(text, pos).is_some_and(|line| line.trim().is_empty())
        && {
            let before = text[look_back(text, pos)..pos].trim_end();
            before.ends_with('=') && !before.ends_with("==")
        };
    let message = if value_missing {
        format!("expected a value, found {}", found.0)
    } else if single_equals {
        format!("expected `==`, `!=` or `in`, found {}", found.0)
    } else if previous == Some("route") && route_match {
        // Not "`=` or ...": a frontend has no field called `route`.
        format!(
            "expected `host`, `path`, `header` or `from` after `route`, found {}",
            found.0
        )
    } else {
        format!("expected {expected}, found {}", found.0)
    };
    let rest = text.get(pos..).unwrap_or("");
    // `backend "web"`: a name in quotes. The string is what was found,
    // and the name bare replaces it.
    if let Some(name) = quoted_name(rest).filter(|_| names == ["a name"]) {
        let span = Span::new(file, pos..pos + name.len() + 2);
        return Diagnostic::new(Code::Syntax, span, "expected a name, found a string")
            .help(format!("names are written without quotes: `{name}`"))
            .replace_with(name);
    }
    let mut diag = Diagnostic::new(Code::Syntax, Span::new(file, pos..end), message);
    if value_missing {
        diag = diag.help(format!(
            "{} begins the next item, at the start of its line: write the value before it",
            found.0
        ));
    }
    if previous == Some("route") && route_match {
        diag = diag.help(
            "a route matches a host, a path, a request header, the client's network, or \
             several: `route host \"api.example.com\" -> api`, `route path prefix \"/api/\" -> api`, \
             `route host \"example.com\" path exact \"/\" -> web`, \
             `route header \"X-Canary\" \"always\" -> canary`, `route from [10.0.0.0/8] -> internal`",
        );
    }
    // A misspelt keyword: `backnd` for `backend`.
    let word = found.0.trim_matches('`');
    if let Some(near) = crate::diag::nearest(word, keywords.iter().copied()).filter(|n| *n != word)
    {
        diag = diag.did_you_mean(near);
    }
    if single_equals {
        diag = diag
            .help("an environment is compared with `==`: `if env == production`")
            .replace_with("==");
    }
    // `weight: 50`, `default: web`: the punctuation of YAML or JSON where
    // `=` or `->` goes.
    if rest.starts_with(':') {
        let spaced = |op: &str| {
            if text[..pos].ends_with([' ', '\t']) {
                op.to_string()
            } else {
                format!(" {op}")
            }
        };
        match previous {
            Some("default") if names.contains(&"`->`") => {
                diag = diag
                    .help("the default route is written `default -> BACKEND`")
                    .replace_with(&spaced("->"));
            }
            Some(word) if names.contains(&"`=`") => {
                // `server w: ...` is a server, which `missing_equals` explains.
                let server =
                    previous_at.and_then(|(at, _)| previous_word(text, at)) == Some("server");
                if !server {
                    diag = diag.help(format!("fields are set with `=`: `{word} = ...`"));
                }
                diag = diag.replace_with(&spaced("="));
            }
            _ => {}
        }
    }
    // What stands after a unit read as a field's name is no clue.
    let unit = (names == ["`=`"]).then(|| unit_apart(text, pos)).flatten();
    // `{ certs = "/x/", tickets, ... }`: a field without its value, in a
    // record, whose fields commas may separate.
    let record = rest.starts_with([',', '}']) && in_record(text, pos);
    // `expect` on a line of its own, in a block or a record over several
    // lines: read as a field until the next line.
    let lone = (unit.is_none() && names == ["`=`"])
        .then(|| lone_word(text, pos, rest))
        .flatten();
    let valueless = match previous {
        Some(word) if record && unit.is_none() && names == ["`=`"] => Some(word),
        _ => lone,
    }
    .map(|word| format!("`{word}` is read as a field without its value: write `{word} = ...`"));
    let bind_option = haproxy_bind_option(text, pos);
    let hints = [
        (names == ["`=`"] && unit.is_none() && bind_option.is_none())
            .then(|| missing_equals(text, previous_at, rest))
            .flatten(),
        (unit.is_none() && !record && lone.is_none())
            .then(|| {
                route_of_several(text, pos, rest)
                    .or_else(|| bind_with_braces(text, pos, rest))
                    .or_else(|| let_of_several(text, pos, rest, &names))
                    .or_else(|| template_head(text, pos, rest, &names))
                    .or_else(|| punctuation(rest, previous, &names))
            })
            .flatten()
            .map(str::to_string),
        unit,
        valueless,
        unquoted_string(rest, &names),
        missing_arrow(rest, previous, &names),
        path_without_kind(rest, previous, &names),
        keyword_read_as_a_name(text, previous_at, rest),
        scheme_in_address(text, pos, rest),
        bind_option,
        // `backend café`: a name in another script reads as a name that
        // ends early, then a character nothing expects.
        rest.starts_with(|c: char| c.is_alphanumeric() && !c.is_ascii())
            .then(|| {
                "names are written in ASCII: letters, digits, `_` and `-`, starting with a letter \
             or `_`; other characters belong in strings"
                    .to_string()
            }),
    ];
    for hint in hints.into_iter().flatten() {
        diag = diag.help(hint);
    }
    diag.help(README_HELP)
}

/// The last help of every syntax error.
pub const README_HELP: &str = "see the language section of the README for the syntax of each item";

/// Where a field or a block item misses its `=`: a misspelt keyword of a
/// block (`sever s1 = ...` reads as the field `sever`), or HAProxy's own
/// spelling (`balance roundrobin`, `server a 10.0.0.1:80`,
/// `default_backend web`).
fn missing_equals(text: &str, previous: Option<(usize, &str)>, rest: &str) -> Option<String> {
    let (start, word) = previous?;
    if word.ends_with('-') && rest.starts_with('>') {
        return None; // `default->web`: see `punctuation`.
    }
    // `backend web {` read as the field `backend`: the block it is in was
    // not closed (often one being typed).
    // Not `if`, which begins items of blocks too.
    if super::TOP_KEYWORDS.contains(&word)
        && word != "if"
        && rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    {
        return Some(format!(
            "`{word}` begins a top-level item, which cannot be inside a block: is the `}}` of the block above missing?"
        ));
    }
    if let Some(near) =
        crate::diag::nearest(word, super::BODY_KEYWORDS.iter().copied()).filter(|n| *n != word)
    {
        return Some(format!(
            "did you mean `{near}`? (`{word}` is read as a field, which needs `=`)"
        ));
    }
    let value: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-'))
        .take(60)
        .collect();
    let value = Some(value).filter(|v| v.starts_with(|c: char| c.is_ascii_alphanumeric()));
    if matches!(word, "default_backend" | "use_backend") {
        return Some(
            "backends are chosen with `default -> BACKEND` and `route host \"...\" -> BACKEND`"
                .to_string(),
        );
    }
    if previous_word(text, start) == Some("server") {
        let address = value.as_deref().unwrap_or("ADDRESS");
        return Some(format!(
            "a server is `server {word} = {address}`, options in braces after it"
        ));
    }
    // `server a = 10.0.0.1:80 weight 50`: an option after the address,
    // outside braces.
    let head = line_before(text, start).unwrap_or("").trim_start();
    if let (Some(value), Some(server)) = (&value, head.strip_prefix("server ")) {
        if server.contains('=') && !server.contains('{') {
            return Some(format!(
                "a server's options go in braces after its address: `{{ {word} = {value} }}`"
            ));
        }
    }
    value.map(|value| format!("fields are set with `=`: `{word} = {value}`"))
}

/// `timeout_server = 30 seconds`: the unit, a word apart from its number,
/// read as the name of the next field, which then misses its `=` (on this
/// line or the next).
fn unit_apart(text: &str, pos: usize) -> Option<String> {
    let (start, word) = previous_word_at(text, text[..pos].trim_end().len())?;
    let number = text[..start].trim_end_matches([' ', '\t']);
    let before_digits = number.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &number[before_digits.len()..];
    // A number of its own, not the end of a name (`web1 s`).
    let whole = !before_digits.ends_with(super::is_name_char) && !before_digits.ends_with('.');
    if digits.is_empty() || digits.len() > 12 || !whole {
        return None;
    }
    let written = match unit_written_apart(word) {
        Some(unit) => format!("write the unit next to the number, `{digits}{unit}`"),
        // Weeks and years have no unit: in days.
        None => {
            let per = match word.to_ascii_lowercase().as_str() {
                "w" | "week" | "weeks" => 7,
                "y" | "year" | "years" => 365,
                _ => return None,
            };
            let days = digits.parse::<u64>().ok()?.checked_mul(per)?;
            format!("write the duration in days, `{days}d`")
        }
    };
    Some(format!(
        "`{word}` was read as the name of the next field: {written}"
    ))
}

/// The unit a word written after a number means (`seconds`: `s`), as the
/// language writes it.
fn unit_written_apart(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "us" | "microseconds" => "us",
        "ms" | "millis" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        "k" | "kb" | "kib" => "k",
        "mb" | "mib" => "M",
        "g" | "gb" | "gib" => "G",
        _ => return None,
    })
}

/// `default web`, `route path prefix "/api/" api`: a route's backend
/// without the arrow before it.
fn missing_arrow(rest: &str, previous: Option<&str>, names: &[&str]) -> Option<String> {
    if !names.contains(&"`->`") {
        return None;
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
        .unwrap_or(rest.len());
    let backend = &rest[..len];
    if backend.is_empty() || len > 60 || !backend.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(if previous == Some("default") {
        format!("the default route names its backend after `->`: `default -> {backend}`")
    } else {
        format!("a route names its backend after `->`: `... -> {backend}`")
    })
}

/// `bind :443 ssl crt /etc/haproxy/site.pem`: HAProxy's bind options after
/// the address, read as a field of the frontend (which then lacks its `=`).
/// The word may end the line, the error being found on the next one.
fn haproxy_bind_option(text: &str, pos: usize) -> Option<String> {
    let (at, word) = previous_word_at(text, text.get(..pos)?.trim_end().len())?;
    let line = line_before(text, at)?.trim_start();
    if !line.starts_with("bind ") {
        return None;
    }
    match word {
        "ssl" | "crt" | "alpn" | "ciphers" | "ssl-min-ver" | "verify" | "ca-file" => Some(
            "TLS on a bind is a policy: `bind :443 tls public`, with `tls public = \
             tls.intermediate { certs = \"/etc/haproxy/certs/\" }` (HAProxy's `ssl crt ...`)"
                .to_string(),
        ),
        _ => None,
    }
}

/// `server a = http://10.0.0.1:80`: a URL where an address goes (the
/// scheme reads as a host name, `//` as a bad port).
fn scheme_in_address(text: &str, pos: usize, rest: &str) -> Option<String> {
    let after = rest.strip_prefix("//")?;
    let before = text[..pos].strip_suffix(':')?;
    let scheme = ["https", "http"]
        .into_iter()
        .find(|s| before.ends_with(s))?;
    let address: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        .take(100)
        .collect();
    // A name is written in quotes, an IP address bare; the scheme's port
    // where the URL has none.
    let default_port = if scheme == "https" { "443" } else { "80" };
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => (host, port),
        _ => (address.as_str(), default_port),
    };
    let address = if host.is_empty() {
        format!("10.0.0.1:{default_port}")
    } else if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        format!("{host}:{port}")
    } else {
        format!("\"{host}\":{port}")
    };
    let tls = if scheme == "https" {
        ", and TLS to the server in its options: `{ tls = { verify = required, ca = \"/etc/ssl/ca.pem\" } }`"
    } else {
        ""
    };
    Some(format!(
        "an address is `host:port`, without a scheme: `{address}`{tls}"
    ))
}

/// `route host "a.example.com" ->` or `bind :443 tls` at the end of what
/// was written: the next item's keyword (`default -> web`, `bind :80`) is
/// read as the route's backend or the bind's TLS policy, and what follows
/// it is left over. Said when the keyword stands on a later line, or when
/// its own `->` is what is left over.
fn keyword_read_as_a_name(
    text: &str,
    previous: Option<(usize, &str)>,
    rest: &str,
) -> Option<String> {
    let (at, word) = previous.filter(|(_, w)| super::BODY_KEYWORDS.contains(w))?;
    let before = text[..at].trim_end();
    if !rest.starts_with("->") && !text[before.len()..at].contains('\n') {
        return None;
    }
    let (what, of) = if before.ends_with("->") {
        ("backend", "route")
    } else if before.ends_with("tls") && previous_word(text, before.len()) == Some("tls") {
        ("TLS policy", "bind")
    } else {
        return None;
    };
    Some(format!(
        "`{word}` was read as the {what} of the {of} before it: is that {of}'s {what} missing?"
    ))
}

/// `route path "/api/" -> api`: a path without `prefix` or `exact`.
fn path_without_kind(rest: &str, previous: Option<&str>, names: &[&str]) -> Option<String> {
    if previous != Some("path") || names != ["a name"] || !rest.starts_with('"') {
        return None;
    }
    let inner = &rest[1..];
    let path = inner
        .find(['"', '\n'])
        .filter(|&end| inner[end..].starts_with('"'))
        .map(|end| &inner[..end])
        // Repeated only when plainly safe to show.
        .filter(|path| {
            path.len() <= 60
                && path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        })
        .unwrap_or("/PATH");
    Some(format!(
        "say how the path matches: `path prefix \"{path}\"` (it and everything under it) or `path exact \"{path}\"`"
    ))
}

/// The name in the string at the start of `rest`, where the string is
/// one: `"web"` gives `web`.
fn quoted_name(rest: &str) -> Option<&str> {
    let inner = rest.strip_prefix('"')?;
    let name = &inner[..inner.find('"')?];
    (name.len() <= 64 && super::is_ident(name)).then_some(name)
}

/// Whether `pos` is inside a record's braces (`= { ... }`, `http { ... }`,
/// a server's options), not a block's (`backend NAME { ... }`, `if ... {`,
/// `else {`, `defaults {`, `stats {`): the words just before the innermost
/// `{` not closed before `pos` on its line say. A record over several lines
/// is not recognised: the hint is then that of a block.
///
/// What it reads stays within the top-level item that holds `pos`, or
/// finds nothing: a part of a file parsed on its own (see `syntax::parse`)
/// must get the same hints as the whole file.
fn in_record(text: &str, pos: usize) -> bool {
    let Some(open) = open_on_the_line(text, pos) else {
        return false;
    };
    // Back to the brace, line break or string before it: a block's head
    // (`backend NAME`, `if env == NAME`) holds none.
    let floor = look_back(text, open);
    let from = text[floor..open]
        .rfind(['{', '}', '\n', '"'])
        .map_or(floor, |n| floor + n + 1);
    let head = text[from..open].trim();
    let words: Vec<&str> = head.split_whitespace().collect();
    let last = |n: usize| words.len().checked_sub(n).map(|i| words[i]);
    if head.ends_with('=') && !head.ends_with("==") && !head.ends_with("!=") {
        return true; // `rate_limit = {`
    }
    let block = words.contains(&"if")
        || matches!(last(1), None | Some("defaults" | "stats" | "else"))
        || matches!(last(2), Some("backend" | "frontend"));
    !block
}

/// The innermost `{` not closed between the start of `pos`'s line and
/// `pos`, outside strings (read from `pos` back: an error is never inside
/// a string, and the strings after a brace of the item are whole).
fn open_on_the_line(text: &str, pos: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let floor = look_back(text, pos);
    let (mut depth, mut in_string) = (0usize, false);
    for at in (floor..pos).rev() {
        match bytes[at] {
            b'\n' => return None,
            b'"' if at == 0 || bytes[at - 1] != b'\\' => in_string = !in_string,
            _ if in_string => {}
            b'}' => depth += 1,
            b'{' if depth > 0 => depth -= 1,
            b'{' => return Some(at),
            _ => {}
        }
    }
    None
}

/// The word alone on its line just before `pos`, where the error is at
/// the next line or at a `,` or `}` right after the word: `expect` in
///
/// ```text
/// check = http {
///   expect
/// }
/// ```
///
/// Within [`LOOK_BACK`] bytes, and only whitespace between the word and
/// `pos`: a comment after the word gives no hint.
fn lone_word<'t>(text: &'t str, pos: usize, rest: &str) -> Option<&'t str> {
    let floor = look_back(text, pos);
    let window = text.get(floor..pos)?;
    let before = window.trim_end();
    if !(window[before.len()..].contains('\n') || rest.starts_with([',', '}'])) {
        return None;
    }
    let start = before
        .char_indices()
        .rfind(|&(_, c)| !super::is_name_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let lead = &before[..start];
    let begins_line = match lead.rfind('\n') {
        Some(n) => lead[n + 1..].trim().is_empty(),
        None => floor == 0 && lead.trim().is_empty(),
    };
    (begins_line && super::is_ident(word)).then_some(word)
}

/// How far back the hints look from an error.
const LOOK_BACK: usize = 1024;

/// Where the hints' look back from `pos` begins: [`LOOK_BACK`] bytes
/// before it, moved forward to the start of a character (the text there
/// may be any UTF-8, a comment say), so every window of text the hints
/// take is a slice of whole characters.
fn look_back(text: &str, pos: usize) -> usize {
    let mut from = pos.saturating_sub(LOOK_BACK);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    from
}

/// The text of `pos`'s line before `pos`; `None` when the line begins more
/// than [`LOOK_BACK`] bytes back. The hints look at what begins a line,
/// and a file may have many errors on one long line: each must not read
/// all of it again.
fn line_before(text: &str, pos: usize) -> Option<&str> {
    let from = look_back(text, pos);
    let window = &text[from..pos];
    match window.rfind('\n') {
        Some(n) => Some(&window[n + 1..]),
        None => (from == 0).then_some(window),
    }
}

/// `route host "a.example.com", "b.example.com" -> web`: a list where a
/// route takes one host (or path).
fn route_of_several(text: &str, pos: usize, rest: &str) -> Option<&'static str> {
    let line = line_before(text, pos)?.trim();
    (rest.starts_with(',') && line.starts_with("route ") && line.ends_with('"'))
        .then_some("a route matches one host and one path: write a route for each, one per line")
}

/// `bind :443 { tls = public }`: a bind's options written as a record.
fn bind_with_braces(text: &str, pos: usize, rest: &str) -> Option<&'static str> {
    let line = line_before(text, pos)?.trim();
    (rest.starts_with('{') && line.starts_with("bind "))
        .then_some("a bind's options follow its address, without braces or `=`: `bind :443 tls public`, `bind :80 redirect https`")
}

/// `let ports = 80 81` or `let ports = 80, 81`: more than one value after
/// a constant's `=`, where a list goes in brackets. The last item begun on
/// the line is a `let` (by its last top-level keyword, which a part of the
/// file parsed from that item sees as the whole file does).
fn let_of_several(text: &str, pos: usize, rest: &str, names: &[&str]) -> Option<&'static str> {
    let line = line_before(text, pos)?;
    let another = rest.starts_with(|c: char| c.is_ascii_digit() || c == '"' || c == ',');
    let last_item = line
        .rsplit(|c: char| !super::is_name_char(c))
        .find(|word| super::TOP_KEYWORDS.contains(word));
    (another && names.contains(&"`let`") && last_item == Some("let") && line.contains('='))
        .then_some("a constant holds one value: a list is written in brackets, `[a, b]`")
}

/// `backend api = service {` (a `tls` policy's spelling) or `backend api
/// with a, b {`: how a block names its template.
fn template_head(text: &str, pos: usize, rest: &str, names: &[&str]) -> Option<&'static str> {
    let line = line_before(text, pos)?;
    let mut words = line.split_whitespace();
    let kind = words
        .next()
        .filter(|k| matches!(*k, "backend" | "frontend"))?;
    let backend = kind == "backend";
    match (words.next(), words.next(), words.next()) {
        (Some(_), None, None) if rest.starts_with('=') && names.contains(&"`with`") => Some(if backend {
            "a backend takes the fields of a record constant with `with`: `backend api with service { ... }`"
        } else {
            "a frontend takes the fields of a record constant with `with`: `frontend www with edge { ... }`"
        }),
        (Some(_), Some("with"), Some(_)) if rest.starts_with(',') && names == ["`{`"] => {
            Some("a block takes one template: extend one with the fields of the other, `let both = base { retries = 3 }`, and take that")
        }
        _ => None,
    }
}

/// Punctuation from other configuration languages.
fn punctuation(rest: &str, previous: Option<&str>, names: &[&str]) -> Option<&'static str> {
    let mut chars = rest.chars();
    Some(match chars.next()? {
        ';' => "items do not end with `;`: start the next one on a new line",
        '#' => "comments start with `//`",
        '/' if rest.starts_with("/*") => {
            "comments start with `//` and run to the end of the line; there is no `/* ... */`"
        }
        '>' if previous.is_some_and(|w| w.ends_with('-')) => {
            "write a space before `->`: a name may hold `-`, so `default->` reads as the name `default-`"
        }
        ',' if !names.contains(&"`,`") => {
            "items of a block are not separated by commas: start the next one on a new line"
        }
        '%' if previous.is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit())) => {
            "numbers are written without `%`; a weight is relative to the others' (0..=256, 100 by default)"
        }
        '=' if rest.starts_with("=>") && names.contains(&"`->`") => {
            "a route sends to its backend with `->`, not `=>`"
        }
        '*' if previous == Some("bind") => {
            "`:PORT` listens on every address (HAProxy's `*:PORT`): `bind :80`"
        }
        '-' if chars.next().is_some_and(|c| c.is_ascii_digit()) => {
            "numbers here are never negative: counts, ports and sizes start at 0"
        }
        _ => return None,
    })
}

/// `route host api.example.com`: a string without its quotes; where a
/// value goes, a path (`certs = /etc/haproxy/certs/`).
fn unquoted_string(rest: &str, names: &[&str]) -> Option<String> {
    if names != ["a string"] && !(names.contains(&"a string") && rest.starts_with('/')) {
        return None;
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
        .unwrap_or(rest.len());
    let word = &rest[..len];
    if word.is_empty() || word.len() > 253 {
        return None;
    }
    if rest[len..].starts_with('(') {
        // `route host secret("HOST")`: a call where only a literal goes.
        return Some(format!(
            "`{word}(...)` cannot stand here: this place takes a string in double quotes"
        ));
    }
    Some(format!(
        "strings are written in double quotes: `\"{word}\"`"
    ))
}

/// The name or keyword just before `pos`, with only spaces between.
fn previous_word(text: &str, pos: usize) -> Option<&str> {
    previous_word_at(text, pos).map(|(_, word)| word)
}

/// [`previous_word`] and where it starts.
fn previous_word_at(text: &str, pos: usize) -> Option<(usize, &str)> {
    let before = text.get(..pos)?.trim_end_matches([' ', '\t']);
    let start = before
        .char_indices()
        .rfind(|&(_, c)| !super::is_name_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    (!word.is_empty()).then_some((start, word))
}

/// What stands at `pos`, for "found X", and how many bytes to underline.
fn describe_found(text: &str, pos: usize) -> (String, usize) {
    let rest = text.get(pos..).unwrap_or("");
    match rest.chars().next() {
        None => ("end of file".to_string(), 0),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .take(40)
                .collect();
            let len = word.len();
            (format!("`{word}`"), len)
        }
        Some('\n') => ("end of line".to_string(), 1),
        Some(c) if c.is_control() => (
            format!("control character U+{:04X}", c as u32),
            c.len_utf8(),
        ),
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}

/// Names of rules as users think of them; `None` hides internal rules.
fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::ident | Rule::path_ref => "a name",
        Rule::string => "a string",
        Rule::number | Rule::numeric | Rule::addr_port => "a number",
        Rule::expr | Rule::extended => "a value",
        Rule::address | Rule::addr_host => "an address",
        Rule::record | Rule::body | Rule::top_block => "`{`",
        Rule::field => "a field",
        Rule::condition => "`env`",
        Rule::cond_op => "`==`, `!=` or `in`",
        Rule::route_match
        | Rule::host_match
        | Rule::path_match
        | Rule::header_match
        | Rule::from_match => "`host`, `path`, `header` or `from`",
        Rule::bind_opt | Rule::bind_tls | Rule::bind_redirect => "`tls` or `redirect`",
        Rule::eq => "`=`",
        Rule::arrow => "`->`",
        Rule::kw_with => "`with`",
        Rule::kw_import => "`import`",
        Rule::kw_env => "`env`",
        Rule::kw_let => "`let`",
        Rule::kw_tls => "`tls`",
        Rule::kw_backend => "`backend`",
        Rule::kw_frontend => "`frontend`",
        Rule::kw_defaults => "`defaults`",
        Rule::kw_stats => "`stats`",
        Rule::kw_guard => "`guard`",
        Rule::kw_if => "`if`",
        Rule::kw_else => "`else`",
        Rule::kw_server => "`server`",
        Rule::kw_bind => "`bind`",
        Rule::kw_route => "`route`",
        Rule::kw_default => "`default`",
        Rule::kw_in => "`in`",
        Rule::kw_request_header | Rule::kw_response_header | Rule::header_kind => "a header",
        Rule::std_module => "a module name",
        Rule::type_name => "a type",
        Rule::list | Rule::ident_list => "`[`",
        Rule::secret_call | Rule::kw_secret => "`secret(...)`",
        _ => return None,
    })
}

struct Converter {
    file: FileId,
    diags: Vec<Diagnostic>,
}

impl Converter {
    /// The pair's span, ending at its last token. pest's span of a rule
    /// takes in the trivia it skipped looking for an optional part at its
    /// end that is not there (`bind :80` then a new line); a diagnostic
    /// should not underline it. As the hand-written parser ends its spans.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        Span::new(self.file, pair.as_span().start()..self.end_of_tokens(pair))
    }

    /// Where the last token of `pair` ends: after its last inner pair
    /// (itself ended so), what follows is literals (`}`, `,`) and trivia
    /// only, and the last literal ends it. An atomic pair has no trivia
    /// and ends where it ends.
    fn end_of_tokens(&self, pair: &Pair<Rule>) -> usize {
        let span = pair.as_span();
        let Some(last) = pair.clone().into_inner().next_back() else {
            return span.end();
        };
        let mut end = self.end_of_tokens(&last);
        let bytes = span.get_input().as_bytes();
        let mut i = end;
        while i < span.end() {
            match bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < span.end() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        end
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            name: Name::from(pair.as_str()),
            span: self.span(&pair),
        }
    }

    /// Children without the keyword tokens, which carry no information.
    fn inner<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
        pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
    }

    fn item(&mut self, pair: Pair<Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = Self::inner(pair);
        match rule {
            Rule::import_decl => {
                let target = inner.next().expect("grammar: import target");
                match target.as_rule() {
                    Rule::std_module => {
                        let module = target.into_inner().next().expect("grammar: module name");
                        Item::Import(Import::Std(self.ident(module)))
                    }
                    _ => Item::Import(Import::File(self.string(target))),
                }
            }
            Rule::env_decl => Item::Env(self.ident(inner.next().expect("grammar: env name"))),
            Rule::let_decl => {
                let name = self.ident(inner.next().expect("grammar: let name"));
                let mut next = inner.next().expect("grammar: let value");
                let ty = if next.as_rule() == Rule::type_name {
                    let ty = self.type_name(next);
                    next = inner.next().expect("grammar: let value");
                    Some(ty)
                } else {
                    None
                };
                Item::Let(Let {
                    name,
                    ty,
                    value: self.expr(next),
                })
            }
            Rule::tls_decl => {
                let name = self.ident(inner.next().expect("grammar: tls name"));
                let value = inner.next().expect("grammar: tls value");
                let value = if value.as_rule() == Rule::record {
                    self.record(value).into_expr()
                } else {
                    self.expr(value)
                };
                Item::Tls(TlsDecl { name, value })
            }
            Rule::backend_decl | Rule::frontend_decl => {
                let name = self.ident(inner.next().expect("grammar: name"));
                let mut next = inner.next().expect("grammar: body");
                let mut template = None;
                if next.as_rule() == Rule::template {
                    let path = next.into_inner().nth(1).expect("grammar: template");
                    template = Some(self.path(path));
                    next = inner.next().expect("grammar: body");
                }
                let body = self.body(next);
                let decl = Decl {
                    name,
                    template,
                    body,
                    span,
                    deferred: false,
                };
                if rule == Rule::backend_decl {
                    Item::Backend(decl)
                } else {
                    Item::Frontend(decl)
                }
            }
            Rule::defaults_decl | Rule::stats_decl => {
                let keyword = if rule == Rule::defaults_decl {
                    "defaults"
                } else {
                    "stats"
                };
                let name = Ident {
                    name: keyword.into(),
                    span: span.slice(0..keyword.len()),
                };
                let body = self.body(inner.next().expect("grammar: body"));
                let decl = Decl {
                    name,
                    template: None,
                    body,
                    span,
                    deferred: false,
                };
                if rule == Rule::defaults_decl {
                    Item::Defaults(decl)
                } else {
                    Item::Stats(decl)
                }
            }
            Rule::guard_decl => {
                let name = self.ident(inner.next().expect("grammar: guard name"));
                let mut options = None;
                let mut envs = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::record => options = Some(self.record(p)),
                        Rule::guard_envs => {
                            envs = Self::inner(p).map(|e| self.ident(e)).collect();
                        }
                        _ => unreachable!("grammar: guard part {:?}", p.as_rule()),
                    }
                }
                Item::Guard(Guard {
                    name,
                    options,
                    envs: EnvList::new(envs),
                    span,
                })
            }
            Rule::top_if => Item::If(self.if_item(
                span,
                inner,
                Rule::top_if,
                |c, p| Self::inner(p).map(|i| c.item(i)).collect(),
                |c, p| c.item(p),
            )),
            other => unreachable!("grammar: unexpected top-level rule {other:?}"),
        }
    }

    fn if_item<'i, T>(
        &mut self,
        span: Span,
        mut inner: impl Iterator<Item = Pair<'i, Rule>>,
        nested_rule: Rule,
        block: impl Fn(&mut Self, Pair<'i, Rule>) -> Vec<T>,
        nested: impl Fn(&mut Self, Pair<'i, Rule>) -> T,
    ) -> If<T> {
        let cond = self.condition(inner.next().expect("grammar: condition"));
        let then = block(self, inner.next().expect("grammar: then block"));
        let otherwise = match inner.next() {
            None => Vec::new(),
            Some(p) if p.as_rule() == nested_rule => vec![nested(self, p)],
            Some(p) => block(self, p),
        };
        If {
            cond,
            then,
            otherwise,
            span,
        }
    }

    fn condition(&mut self, pair: Pair<Rule>) -> Condition {
        let span = self.span(&pair);
        let mut inner = Self::inner(pair);
        let op = inner.next().expect("grammar: condition operator");
        let op = match op.as_str() {
            "==" => CondOp::Eq,
            "!=" => CondOp::Ne,
            _ => CondOp::In,
        };
        let target = inner.next().expect("grammar: condition target");
        let envs = if target.as_rule() == Rule::ident_list {
            target.into_inner().map(|e| self.ident(e)).collect()
        } else {
            vec![self.ident(target)]
        };
        Condition {
            op,
            envs: EnvList::new(envs),
            span,
        }
    }

    fn type_name(&mut self, pair: Pair<Rule>) -> TypeName {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: type name"));
        let arg = inner.next().map(|p| Box::new(self.type_name(p)));
        TypeName { name, arg, span }
    }

    fn body(&mut self, pair: Pair<Rule>) -> Vec<BodyItem> {
        Self::inner(pair).map(|p| self.body_item(p)).collect()
    }

    fn body_item(&mut self, pair: Pair<Rule>) -> BodyItem {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = Self::inner(pair);
        match rule {
            Rule::field => {
                let name = self.ident(inner.next().expect("grammar: field name"));
                let value = self.expr(inner.next().expect("grammar: field value"));
                BodyItem::Field(Field { name, value, span })
            }
            Rule::server_item => {
                let name = self.ident(inner.next().expect("grammar: server name"));
                let addr = self.expr(inner.next().expect("grammar: server address"));
                let options = inner.next().map(|p| self.expr(p));
                BodyItem::Server(Server {
                    name,
                    addr,
                    options,
                    span,
                })
            }
            Rule::bind_item => {
                let addr = self.expr(inner.next().expect("grammar: bind address"));
                let mut bind = Bind {
                    addr,
                    tls: None,
                    redirect: None,
                    span,
                };
                for opt in inner {
                    let opt = opt.into_inner().next().expect("grammar: bind option");
                    let opt_span = self.span(&opt);
                    let rule = opt.as_rule();
                    let value = Self::inner(opt).next().expect("grammar: bind option value");
                    let duplicate = match rule {
                        Rule::bind_tls => bind.tls.replace(Box::new(self.path(value))).is_some(),
                        _ => bind.redirect.replace(self.ident(value)).is_some(),
                    };
                    if duplicate {
                        self.diags.push(
                            Diagnostic::new(Code::Duplicate, opt_span, "bind option given twice")
                                .help(super::BIND_OPTION_TWICE),
                        );
                    }
                }
                BodyItem::Bind(bind)
            }
            Rule::route_item => {
                let mut host = None;
                let mut path = None;
                let mut header = None;
                let mut from = None;
                let mut target = None;
                for p in inner {
                    let p_span = self.span(&p);
                    match p.as_rule() {
                        Rule::route_match => {
                            let m = p.into_inner().next().expect("grammar: route match");
                            let duplicate = match m.as_rule() {
                                Rule::host_match => {
                                    let s = Self::inner(m).next().expect("grammar: host");
                                    host.replace(self.string(s)).is_some()
                                }
                                Rule::path_match => {
                                    let mut parts = Self::inner(m);
                                    let kind =
                                        self.ident(parts.next().expect("grammar: path kind"));
                                    let value = self.string(parts.next().expect("grammar: path"));
                                    path.replace((kind, value)).is_some()
                                }
                                Rule::from_match => {
                                    let networks =
                                        Self::inner(m).next().expect("grammar: networks");
                                    from.replace(self.expr(networks)).is_some()
                                }
                                _ => {
                                    let mut parts = Self::inner(m);
                                    let name =
                                        self.string(parts.next().expect("grammar: header name"));
                                    let value = parts.next().map(|v| self.expr(v));
                                    header.replace(HeaderMatch { name, value }).is_some()
                                }
                            };
                            if duplicate {
                                self.diags.push(
                                    Diagnostic::new(
                                        Code::Duplicate,
                                        p_span,
                                        super::ROUTE_MATCH_TWICE,
                                    )
                                    .help("write a second route for the other value"),
                                );
                            }
                        }
                        Rule::redirect_to | Rule::deny_to => target = Some(self.route_target(p)),
                        _ => target = Some(RouteTarget::Backend(self.ident(p))),
                    }
                }
                BodyItem::Route(Route {
                    host,
                    path: path.map(Box::new),
                    conditions: Conditions::of(header, from),
                    target: target.expect("grammar: route target"),
                    span,
                })
            }
            Rule::default_item => {
                let target = self.route_target(inner.next().expect("grammar: default target"));
                BodyItem::Default(DefaultRoute { target, span })
            }
            Rule::header_item => {
                let kind = match inner.next().expect("grammar: header kind").as_str() {
                    "request_header" => HeaderKind::Request,
                    _ => HeaderKind::Response,
                };
                let name = self.string(inner.next().expect("grammar: header name"));
                let value = self.expr(inner.next().expect("grammar: header value"));
                BodyItem::Header(Header {
                    kind,
                    name,
                    value,
                    span,
                })
            }
            Rule::body_if => BodyItem::from(self.if_item(
                span,
                inner,
                Rule::body_if,
                |c, p| c.body(p),
                |c, p| c.body_item(p),
            )),
            other => unreachable!("grammar: unexpected body rule {other:?}"),
        }
    }

    fn record(&mut self, pair: Pair<Rule>) -> Record {
        let span = self.span(&pair);
        let fields = pair
            .into_inner()
            .map(|f| {
                let f_span = self.span(&f);
                let mut inner = Self::inner(f);
                let name = self.ident(inner.next().expect("grammar: field name"));
                let value = self.expr(inner.next().expect("grammar: field value"));
                Field {
                    name,
                    value,
                    span: f_span,
                }
            })
            .collect();
        Record { fields, span }
    }

    fn path(&mut self, pair: Pair<Rule>) -> Path {
        let span = self.span(&pair);
        Path {
            segments: pair.into_inner().map(|p| self.ident(p)).collect(),
            span,
        }
    }

    fn string(&mut self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        literal::string(raw, span, &mut self.diags)
    }

    /// `(redirect_to | deny_to | ident)`, after a route's or the
    /// default's arrow.
    fn route_target(&mut self, pair: Pair<Rule>) -> RouteTarget {
        match pair.as_rule() {
            Rule::redirect_to => {
                let url = Self::inner(pair).next().expect("grammar: redirect URL");
                RouteTarget::Redirect(self.string(url))
            }
            Rule::deny_to => {
                let status = Self::inner(pair).next().expect("grammar: deny status");
                RouteTarget::Deny(StrLit {
                    value: Name::from(status.as_str()),
                    span: self.span(&status),
                })
            }
            _ => RouteTarget::Backend(self.ident(pair)),
        }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::numeric => literal::numeric(pair.as_str(), span, &mut self.diags),
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::record => self.record(pair).into_expr().kind,
            Rule::secret_call => {
                let s = Self::inner(pair).next().expect("grammar: secret name");
                ExprKind::Secret(Box::new(self.string(s)))
            }
            Rule::extended => {
                let mut inner = pair.into_inner();
                let path = self.path(inner.next().expect("grammar: reference"));
                let overrides = inner.next().map(|r| self.record(r));
                ExprKind::Ref(Box::new(Reference { path, overrides }))
            }
            Rule::address => {
                let mut host = None;
                let mut port = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::addr_host => {
                            let h = p.into_inner().next().expect("grammar: host");
                            host = Some(match h.as_rule() {
                                Rule::ipv6_bracketed => {
                                    let v6 = h.into_inner().next().expect("grammar: ipv6");
                                    let v6_span = self.span(&v6);
                                    AddrHost::Ipv6(Name::from(v6.as_str()), v6_span)
                                }
                                Rule::string => AddrHost::Name(self.string(h)),
                                _ => AddrHost::Ref(Box::new(self.path(h))),
                            });
                        }
                        Rule::addr_port => {
                            let p = p.into_inner().next().expect("grammar: port");
                            let p_span = self.span(&p);
                            port = Some(match p.as_rule() {
                                Rule::number => AddrPort::Number(Name::from(p.as_str()), p_span),
                                _ => AddrPort::Ref(Box::new(self.path(p))),
                            });
                        }
                        _ => {}
                    }
                }
                ExprKind::Address(Box::new(Address {
                    host,
                    port: port.expect("grammar: address port"),
                }))
            }
            other => unreachable!("grammar: unexpected value rule {other:?}"),
        };
        Expr { kind, span }
    }
}

/// Tokens that carry no information of their own (keywords, `=`, `->`).
/// Tokens that carry no information of their own (keywords, `=`, `->`).
fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::eq
            | Rule::arrow
            | Rule::kw_import
            | Rule::kw_env
            | Rule::kw_let
            | Rule::kw_tls
            | Rule::kw_backend
            | Rule::kw_frontend
            | Rule::kw_defaults
            | Rule::kw_stats
            | Rule::kw_guard
            | Rule::kw_in
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_server
            | Rule::kw_bind
            | Rule::kw_redirect
            | Rule::kw_deny
            | Rule::kw_route
            | Rule::kw_host
            | Rule::kw_path
            | Rule::kw_header
            | Rule::kw_from
            | Rule::kw_default
            | Rule::kw_secret
            | Rule::kw_with
    )
}

#[cfg(test)]
mod tests {
    /// The hints look back a fixed number of bytes: where that falls
    /// inside a character (an `é` of a comment), they start at the next
    /// one instead of panicking. Each parity of the padding puts the
    /// start at another byte of the `é`s.
    #[test]
    fn hints_look_back_over_any_characters() {
        for pad in 0..4 {
            let text = format!(
                "env production\n// {}{}\ntls t = {{ certs = \"/c.pem\", tickets, hsts = 1d }}\n",
                "x".repeat(pad),
                "é".repeat(600)
            );
            let error = super::parse(crate::source::FileId(0), &text).unwrap_err();
            assert!(
                error
                    .help
                    .iter()
                    .any(|h| h.contains("`tickets` is read as a field without its value")),
                "{error:?}"
            );
        }
    }

    use super::*;

    /// The word before a place starts after whatever character precedes
    /// it, however many bytes that one takes.
    #[test]
    fn the_previous_word_starts_after_a_wide_character() {
        assert_eq!(previous_word("éab ", 4), Some("ab"));
        assert_eq!(previous_word_at("x →a-b_c", 10), Some((5, "a-b_c")));
        assert_eq!(previous_word("ab", 0), None);
    }
}
