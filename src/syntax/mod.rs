//! Syntax: source text → [`ast::File`].
//!
//! Two parsers read the same language. `grammar` is pest, generated from
//! `grammar/haptic.pest`: the definition of the language and the source of
//! every syntax error message. `parser` is hand-written and several times
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

/// Whether `c` may stand in a name after its first character (grammar
/// rule `ident_char`): an ASCII letter or digit, `_` or `-`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii() && parser::is_ident_char(c as u8)
}

/// Whether `text` is a name as the grammar reads one (`ident`): a letter
/// or `_`, then letters, digits, `_` and `-`. Keywords are names too
/// where no construct begins with them.
pub fn is_ident(text: &str) -> bool {
    text.bytes().next().is_some_and(parser::is_ident_start) && text.chars().all(is_name_char)
}

/// Parses one file. A syntax error stops this file (its diagnostic is
/// returned with an empty tree); other files are unaffected.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    parse_with_threads(file, text, crate::parallel::threads())
}

/// [`parse`], with `beside` run on another thread during the pre-scan,
/// the one stretch of a large file's parse that uses a single thread
/// (the loader hashes the source there).
///
/// With `defer`, the unconditional top-level backends of a file parsed in
/// parts get no body: [`Decl::deferred`] is set, and [`parse_body`] parses
/// it later. The rest of the file is parsed as ever; whether the body
/// parses is not known until then.
pub fn parse_beside(
    file: FileId,
    text: &str,
    defer: bool,
    beside: impl FnOnce() + Send,
) -> (File, Vec<Diagnostic>) {
    let (_, scanned) = crate::parallel::join(beside, || scan(file, text));
    parse_scanned(file, text, scanned, crate::parallel::threads(), defer)
}

/// [`parse`], with large files cut into at most `threads` parts.
#[doc(hidden)]
pub fn parse_with_threads(file: FileId, text: &str, threads: usize) -> (File, Vec<Diagnostic>) {
    parse_scanned(file, text, scan(file, text), threads, false)
}

fn parse_scanned(
    file: FileId,
    text: &str,
    scanned: Result<Scanned, Diagnostic>,
    threads: usize,
    defer: bool,
) -> (File, Vec<Diagnostic>) {
    let scanned = match scanned {
        Ok(scanned) => scanned,
        Err(diag) => {
            return (
                File {
                    items: Vec::new(),
                    lost: vec![Span::new(file, 0..text.len())],
                },
                vec![diag],
            )
        }
    };
    let closes: &[usize] = if defer { &scanned.closes } else { &[] };
    parse_in_parts(file, text, &scanned.boundaries, threads, closes)
        .or_else(|| parser::parse(file, text))
        .unwrap_or_else(|| parse_regions(file, text, &scanned))
}

/// At most this many syntax errors are reported for one file.
const MAX_SYNTAX_ERRORS: usize = 20;

/// A file that the hand-written parser gave up on (most often for a syntax
/// error), parsed one region at a time: the regions are cut where a
/// top-level item follows a closed block (see [`scan`]), and each is parsed
/// on its own, by the hand-written parser or else by the grammar, which
/// names the error. So a mistake in each of several backends is reported
/// in one run, and the items of the regions that parse are kept for the
/// checker. Within a region, parsing also starts again at a line that
/// begins with a top-level keyword at its first column, after the error
/// (or on its line): a block whose `}` is missing (one being typed) takes
/// the rest of the file into itself as far as the pre-scan can tell, and
/// the items after it are still read.
fn parse_regions(file: FileId, text: &str, scanned: &Scanned) -> (File, Vec<Diagnostic>) {
    let boundaries = &scanned.boundaries;
    let mut items = Vec::new();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut lost = Vec::new();
    // Where the last item taken begins, unless a region failed since.
    let mut last = None;
    // Where the last error was reported: a restart on its line may find
    // it again.
    let mut reported: Option<u32> = None;
    let mut start = 0;
    while start < text.len() {
        let end = boundaries[boundaries.partition_point(|&b| b <= start)..]
            .first()
            .copied()
            .unwrap_or(text.len());
        if lost.len() == MAX_SYNTAX_ERRORS {
            // Not looked at: lost as well.
            lost.push(Span::new(file, start..text.len()));
            if let Some(last) = diags.last_mut() {
                last.help.push(format!(
                    "the rest of the file was not read after {MAX_SYNTAX_ERRORS} syntax errors"
                ));
            }
            break;
        }
        let prefix = parser::parse_prefix(file, text, start, end);
        items.extend(prefix.items);
        diags.extend(prefix.diags);
        last = prefix.last.or(last);
        let stop = prefix.stop;
        if stop == end {
            start = end;
            continue;
        }
        // What does not parse may go on the last item taken (its `{ ... }`,
        // `else` or `in`): then that item is lost with it, rather than kept
        // without the part it was written with.
        let rest = &text[stop..end];
        let word = &rest[..rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())];
        let mut lost_from = stop;
        if let (Some(at), true) = (
            prefix.last,
            rest.starts_with('{') || matches!(word, "else" | "in"),
        ) {
            items.pop();
            lost_from = at;
        }
        // The grammar says what is wrong, from the last item taken: pest
        // names what it expected (`else` after an `if`, say) only at a
        // place after the start of its input, and as it would after that
        // item. Where there is none, a blank stands in for what comes
        // before. Positions are the file's first position plus an offset,
        // so a part of the file parsed on its own keeps its places.
        let (from, input) = match last {
            Some(last) => (last, std::borrow::Cow::Borrowed(&text[last..end])),
            None if stop == 0 => (0, std::borrow::Cow::Borrowed(&text[..end])),
            None => (
                stop - 1,
                std::borrow::Cow::Owned(format!(" {}", &text[stop..end])),
            ),
        };
        match grammar::parse(FileId(file.0 + from as u32), &input) {
            Ok((part, part_diags)) => {
                // What comes before `lost_from` is in already.
                let again = usize::from(last.is_some() && lost_from == stop);
                items.extend(part.items.into_iter().skip(again));
                let after =
                    |d: &Diagnostic| d.span.is_none_or(|s| s.start >= file.0 + lost_from as u32);
                diags.extend(part_diags.into_iter().filter(after));
                start = end;
            }
            Err(mut error) => {
                let at = error.span.map_or(stop, |s| (s.start - file.0) as usize);
                // A block left open makes the rest of the file part of it:
                // the error is found further on, so the open bracket is
                // shown too (not where a string never ends: that is what
                // to fix).
                if let Some(open) = scanned.unclosed.filter(|&open| open >= start) {
                    if at > open && !text[at..].starts_with('"') {
                        error = match left_open(text, open) {
                            Some(guess) if guess.open < at => {
                                let line = line_of(text, guess.matched);
                                // What the grammar guessed read the lines
                                // after the bracket inside it: the one fix
                                // to name is the bracket's.
                                let bracket = &text[guess.open..][..1];
                                error.help = vec![
                                    format!(
                                        "close the `{bracket}` of line {} with `{}`: what follows it is read inside it",
                                        line_of(text, guess.open),
                                        match bracket {
                                            "{" => "}",
                                            "[" => "]",
                                            _ => ")",
                                        }
                                    ),
                                    grammar::README_HELP.to_string(),
                                ];
                                error.fix = None;
                                error
                                    .label(
                                        Span::new(file, guess.open..guess.open + 1),
                                        format!("this `{}` is not closed", &text[guess.open..][..1]),
                                    )
                                    .label(
                                        Span::new(file, guess.close..guess.close + 1),
                                        format!(
                                            "by its indentation, this `{}` closes the block of line {line}",
                                            &text[guess.close..][..1]
                                        ),
                                    )
                            }
                            _ => error.label(
                                Span::new(file, open..open + 1),
                                format!("this `{}` is not closed", &text[open..open + 1]),
                            ),
                        };
                    }
                }
                if reported != error.span.map(|s| s.start) {
                    reported = error.span.map(|s| s.start);
                    diags.push(error);
                }
                let restart = restart_after(text, stop, at, end);
                lost.push(Span::new(file, lost_from..restart.unwrap_or(end)));
                last = None;
                start = restart.unwrap_or(end);
            }
        }
    }
    (File { items, lost }, diags)
}

/// The keywords that begin an item of a block.
pub const BODY_KEYWORDS: &[&str] = &[
    "server",
    "bind",
    "route",
    "default",
    "request_header",
    "response_header",
];

/// Whether `b`, after a top-level keyword (and trivia), makes the keyword
/// the start of an item, as the grammar's `next_item` reads it: a name, a
/// string or a `{` (`backend web`, `import "x"`, `defaults {`), not an `=`
/// (`tls = ...`, a field). The parser's `top_value` and the recovery's
/// `restart_after` both ask it.
pub(crate) fn follows_top_keyword(b: u8) -> bool {
    b.is_ascii_alphabetic() || matches!(b, b'_' | b'"' | b'{')
}

/// The keywords that begin a top-level item.
pub const TOP_KEYWORDS: &[&str] = &[
    "backend", "frontend", "defaults", "stats", "tls", "let", "env", "import", "guard", "if",
];

/// The help of a bind's `tls` or `redirect` given twice, from either parser.
const BIND_OPTION_TWICE: &str =
    "a bind takes one `tls POLICY` and one `redirect https`: remove the second";

/// The message of a route's host, path or header given twice, from
/// either parser.
const ROUTE_MATCH_TWICE: &str =
    "a route matches at most one host, one path, one header and one list of networks";

/// An inner bracket that [`left_open`] takes for the one not closed.
struct LeftOpen {
    /// The bracket left open.
    open: usize,
    /// The closing bracket that shows it: it begins its line at the
    /// indentation of `matched`, an opening bracket below `open`.
    close: usize,
    matched: usize,
}

/// Of the brackets inside the top-level one at `open`, which the file
/// never closes, the one that the text shows left open: a closing bracket
/// that begins its line at the indentation of the line of an opening
/// bracket below the innermost one is written to close that one (as
/// `haptic fmt` lays blocks out), so the brackets above it were left open.
/// `backend b {`, `  server s = 10.0.0.1:80 {`, `}`: the `{` of the
/// server. `None` where the indentation shows nothing of the kind. Only
/// called for a file with a syntax error.
fn left_open(text: &str, open: usize) -> Option<LeftOpen> {
    let bytes = text.as_bytes();
    // Where the line of `i` begins, kept as the text is read: a search
    // back from each bracket would be quadratic in a long line of them.
    let mut line = text[..open].rfind('\n').map_or(0, |n| n + 1);
    // The indentation of the line of `i`, and whether only it precedes
    // `i` there.
    let indentation = |line: usize, i: usize| {
        let lead = &bytes[line..i];
        let indent = lead
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        (indent, indent == lead.len())
    };
    // The open brackets, each with the indentation of its line.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line = i + 1,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\n' {
                        line = i + 1;
                    }
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => stack.push((i, indentation(line, i).0)),
            b'}' | b']' | b')' => {
                let (indent, first) = indentation(line, i);
                if first {
                    if let Some(k) = stack.iter().rposition(|&(_, at)| at == indent) {
                        if k + 1 < stack.len() {
                            return Some(LeftOpen {
                                open: stack[k + 1].0,
                                close: i,
                                matched: stack[k].0,
                            });
                        }
                    }
                }
                stack.pop();
                if stack.is_empty() {
                    return None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The 1-based line of byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where parsing may start again in `text[..end]` after an error at `at`
/// in an item that begins at `stop`: the line of the error, or else the
/// first line after it, that begins with a top-level keyword at its first
/// column (as `haptic fmt` writes items), later than `stop`.
fn restart_after(text: &str, stop: usize, at: usize, end: usize) -> Option<usize> {
    // `backend web {`, `import "x"`, `defaults {`; not a field such as
    // `tls = {` written at the first column.
    let begins_item = |line: &str| {
        let word = &line[..line.find(|c: char| !is_name_char(c)).unwrap_or(line.len())];
        let after = line[word.len()..].trim_start_matches([' ', '\t']);
        TOP_KEYWORDS.contains(&word) && after.bytes().next().is_some_and(follows_top_keyword)
    };
    let mut line = text[..at].rfind('\n').map_or(0, |n| n + 1);
    while line < end {
        if line > stop && begins_item(&text[line..end]) {
            return Some(line);
        }
        line += text[line..end].find('\n')? + 1;
    }
    None
}

/// A large file is cut where one top-level item ends and the next begins,
/// and the parts are parsed on several threads. The items of a part do not
/// depend on the text after it (see [`scan`]), so the joined result is the
/// one-part result. `None` for small files, and wherever a part does not
/// parse: then the whole file is parsed again, to find the error.
fn parse_in_parts(
    file: FileId,
    text: &str,
    boundaries: &[usize],
    threads: usize,
    closes: &[usize],
) -> Option<(File, Vec<Diagnostic>)> {
    const PART: usize = 128 * 1024;
    let parts = threads.min(text.len() / PART);
    if parts < 2 {
        return None;
    }
    let mut cuts = vec![0];
    for i in 1..parts {
        let target = i * text.len() / parts;
        let at = boundaries[boundaries.partition_point(|&b| b < target)..]
            .first()
            .copied()?;
        if at > *cuts.last().expect("starts with 0") {
            cuts.push(at);
        }
    }
    cuts.push(text.len());
    let results = crate::parallel::map(cuts.windows(2), |w| {
        parser::parse_part(file, text, w[0], w[1], closes)
    });
    let mut items = Vec::new();
    let mut diags = Vec::new();
    for result in results {
        let (part_items, part_diags) = result?;
        items.extend(part_items);
        diags.extend(part_diags);
    }
    Some((
        File {
            items,
            lost: Vec::new(),
        },
        diags,
    ))
}

/// Parses a large file in parts only: `None` where it is too small to be
/// cut or a part does not parse (for tests).
#[doc(hidden)]
pub fn parse_parts(file: FileId, text: &str, threads: usize) -> Option<(File, Vec<Diagnostic>)> {
    parse_in_parts(file, text, &scan(file, text).ok()?.boundaries, threads, &[])
}

/// Parses a large file in parts as the loader does when it defers (see
/// [`parse_beside`]), then each deferred body with [`parse_body`], and
/// puts the bodies back: `None` where it is too small to be cut, or where
/// a part or a body does not parse (for tests, which hold the result to
/// the whole file's parse).
#[doc(hidden)]
pub fn parse_deferred(file: FileId, text: &str, threads: usize) -> Option<(File, Vec<Diagnostic>)> {
    let scanned = scan(file, text).ok()?;
    let (mut tree, mut diags) =
        parse_in_parts(file, text, &scanned.boundaries, threads, &scanned.closes)?;
    for item in &mut tree.items {
        if let Item::Backend(decl) = item {
            if decl.deferred {
                let (body, body_diags) = parse_body(file, text, decl)?;
                decl.body = body;
                decl.deferred = false;
                diags.extend(body_diags);
            }
        }
    }
    Some((tree, diags))
}

/// Parses with the pest reference parser only: the tree, or the syntax
/// error (for tests that compare the two parsers).
#[doc(hidden)]
pub fn parse_reference(file: FileId, text: &str) -> Result<(File, Vec<Diagnostic>), Diagnostic> {
    scan(file, text)?;
    grammar::parse(file, text)
}

/// Parses with the hand-written parser only: `None` where it gives up (for
/// tests that compare the two parsers).
#[doc(hidden)]
pub fn parse_fast(file: FileId, text: &str) -> Option<(File, Vec<Diagnostic>)> {
    scan(file, text).ok()?;
    parser::parse(file, text)
}

/// The body of a backend whose parse was deferred (see [`parse_beside`]).
pub fn parse_body(
    file: FileId,
    text: &str,
    decl: &Decl,
) -> Option<(Vec<BodyItem>, Vec<Diagnostic>)> {
    parser::parse_body(file, text, decl)
}

/// The bytes of a word (a name, a number): letters, digits, `_` and `-`.
const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

/// The bytes the pre-scan must look at after an ordinary token: brackets
/// (the angle brackets of a type too), and what starts a string or a
/// comment.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SPECIALS.len() {
        table[SPECIALS[i] as usize] = true;
        i += 1;
    }
    table
};

/// The bytes of [`SPECIAL`].
const SPECIALS: [u8; 10] = *b"\"/{}[]()<>";

/// What [`scan`] finds in a file that is not nested too deep.
struct Scanned {
    /// Where top-level items may begin.
    boundaries: Vec<usize>,
    /// Where the `}` of each top-level block is: what a deferred body is
    /// skipped to (see [`parser::parse_part`]).
    closes: Vec<usize>,
    /// The top-level `{`, `[` or `(` that the file never closes, if any.
    unclosed: Option<usize>,
}

/// Where the next byte of [`SPECIAL`] is, from `i` on (`bytes.len()` if
/// none). Most of a large file is ordinary text between brackets: it is
/// looked at 16 bytes at a time, by comparisons that the compiler makes
/// into a few vector instructions (a lookup in a table it cannot).
fn next_special(bytes: &[u8], mut i: usize) -> usize {
    /// The index of the first special byte of `chunk`.
    fn first_special(chunk: &[u8; 16]) -> Option<usize> {
        let mut found = [false; 16];
        for (found, &b) in found.iter_mut().zip(chunk) {
            *found = SPECIALS.iter().fold(false, |any, &s| any | (b == s));
        }
        // One byte a flag: the first set byte is the first special one.
        let flags = u128::from_le_bytes(found.map(u8::from));
        (flags != 0).then(|| flags.trailing_zeros() as usize / 8)
    }
    while let Some(chunk) = bytes.get(i..i + 16) {
        if let Some(at) = first_special(chunk.try_into().expect("16 bytes")) {
            return i + at;
        }
        i += 16;
    }
    while i < bytes.len() && !SPECIAL[usize::from(bytes[i])] {
        i += 1;
    }
    i
}

/// Refuses pathological nesting before either parser's recursive descent
/// sees it. A level is an open `{`, `[`, `(` or `<` (of a type; the `>` of
/// an arrow `->` closes nothing), or an `else if` of a chain (each one
/// nests the next in the tree); strings and comments do not count.
///
/// Returns where top-level items may begin: the word after a `}` that
/// closes a top-level block, unless it is `else` or `in` (the only words
/// that continue an item after such a `}`: `if ... {} else`, `guard g {}
/// in ...`). The grammar reads the items before such a place without
/// looking past it, trivia included, which is what lets [`parse_in_parts`]
/// cut there.
fn scan(file: FileId, text: &str) -> Result<Scanned, Diagnostic> {
    #[derive(PartialEq)]
    enum Last {
        /// A `}` that closed a block of this level.
        Close,
        Else,
        Other,
    }
    let bytes = text.as_bytes();
    // Per open bracket (and the file itself), the `else if`s of the chain
    // in progress there; `chained` is their sum.
    let mut chains: Vec<usize> = vec![0];
    let mut chained = 0usize;
    let mut last = Last::Other;
    let mut boundaries = Vec::new();
    let mut closes = Vec::new();
    // The open top-level bracket, while it is open.
    let mut open = None;
    let too_deep = |at: usize, len: usize, chained: usize| {
        let help = if chained > 0 {
            "each `else if` nests the rest of its chain one level deeper: join \
             environments that share a branch (`if env in [a, b]`)"
        } else {
            "flatten the construct, for example with `let` constants"
        };
        Err(Diagnostic::new(
            Code::TooDeep,
            Span::new(file, at..at + len),
            format!("nesting deeper than {MAX_DEPTH} levels"),
        )
        .help(help))
    };
    let mut i = 0;
    while i < bytes.len() {
        if last == Last::Other {
            // Nothing but a bracket, a string or a comment changes anything
            // here: an `else` that counts follows a `}`.
            i = next_special(bytes, i);
            if i == bytes.len() {
                break;
            }
        }
        let b = bytes[i];
        let start = i;
        i += 1;
        let token = match b {
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            b'/' if bytes.get(i) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                Last::Other
            }
            // `->` is an arrow, not a closing angle bracket.
            b'>' if start > 0 && bytes[start - 1] == b'-' => Last::Other,
            b'{' | b'[' | b'(' | b'<' => {
                if last == Last::Close {
                    chained -= std::mem::take(chains.last_mut().expect("never empty"));
                }
                if chains.len() == 1 {
                    open = (b != b'<').then_some(start);
                }
                chains.push(0);
                if chains.len() - 1 + chained > MAX_DEPTH {
                    return too_deep(start, 1, chained);
                }
                last = Last::Other;
                continue;
            }
            b'}' | b']' | b')' | b'>' => {
                if chains.len() == 2 && b == b'}' {
                    closes.push(start);
                }
                if chains.len() > 1 {
                    chained -= chains.pop().expect("more than one");
                }
                last = if b == b'}' { Last::Close } else { Last::Other };
                continue;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                while i < bytes.len() && WORD[usize::from(bytes[i])] {
                    i += 1;
                }
                let word = &bytes[start..i];
                if last == Last::Close && chains.len() == 1 && word != b"else" && word != b"in" {
                    boundaries.push(start);
                }
                match word {
                    b"else" => Last::Else,
                    b"if" if last == Last::Else => {
                        *chains.last_mut().expect("never empty") += 1;
                        chained += 1;
                        if chains.len() - 1 + chained > MAX_DEPTH {
                            return too_deep(start, 2, chained);
                        }
                        last = Last::Other;
                        continue;
                    }
                    _ => Last::Other,
                }
            }
            _ => Last::Other,
        };
        // The first token after a block that is not `else` ends its chain.
        if last == Last::Close && token != Last::Else {
            chained -= std::mem::take(chains.last_mut().expect("never empty"));
        }
        last = token;
    }
    Ok(Scanned {
        boundaries,
        closes,
        unclosed: open.filter(|_| chains.len() > 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `left_open` of a file whose top-level bracket is the first `{`:
    /// the line and column of the bracket it takes for the one left open.
    fn left_open_at(text: &str) -> Option<(usize, usize)> {
        let guess = left_open(text, text.find('{').expect("a bracket"))?;
        let line = line_of(text, guess.open);
        let column = guess.open - text[..guess.open].rfind('\n').map_or(0, |n| n + 1) + 1;
        Some((line, column))
    }

    #[test]
    fn the_bracket_left_open_is_found_by_indentation() {
        // A server's options not closed: the `}` at the first column is the
        // backend's.
        let text = "backend b {\n  server s = 1.2.3.4:80 { weight = 5\n}\n";
        assert_eq!(left_open_at(text), Some((2, 25)));
        // A record in a field, with braces in a string and a comment.
        let text = "frontend f {\n  rate_limit = { requests = 10, per = 1s\n  \
                    request_header \"X\" = \"}{\" // }\n}\n";
        assert_eq!(left_open_at(text), Some((2, 16)));
        // A branch of an `if` inside a backend, not closed.
        let text = "backend b {\n  if env == p {\n    server s = 1.2.3.4:80\n}\n";
        assert_eq!(left_open_at(text), Some((2, 15)));
        // Nothing shows which: the top-level bracket itself is left open.
        assert_eq!(left_open_at("backend b {\n  server s = 1.2.3.4:80\n"), None);
        assert_eq!(
            left_open_at("backend b {\n  server s = 1.2.3.4:80 { weight = 5 }\n"),
            None
        );
        // A `}` written at no bracket's indentation shows nothing.
        assert_eq!(left_open_at("backend b {\n    a = {\n  }\n"), None);
    }

    /// The 16-byte steps find what a byte at a time finds: every special
    /// byte at every place of a chunk, other bytes (non-ASCII ones too)
    /// between, from every starting place.
    #[test]
    fn next_special_finds_what_a_walk_finds() {
        let walk = |bytes: &[u8], mut i: usize| {
            while i < bytes.len() && !SPECIAL[usize::from(bytes[i])] {
                i += 1;
            }
            i
        };
        let fillers = [b'a', b' ', b'\n', 0x80, 0xff, b'-', b'='];
        for &special in b"\"/{}[]()<>".iter() {
            for len in [0, 1, 15, 16, 17, 31, 32, 33, 50] {
                for at in 0..=len {
                    let mut bytes: Vec<u8> = (0..len).map(|k| fillers[k % fillers.len()]).collect();
                    if at < len {
                        bytes[at] = special;
                    }
                    for from in 0..=len {
                        assert_eq!(
                            next_special(&bytes, from),
                            walk(&bytes, from),
                            "{bytes:?} from {from}"
                        );
                    }
                }
            }
        }
    }

    /// A large file's unconditional backends are deferred, and each body
    /// parses later to what the whole file's parse gives; a backend in an
    /// `if` is parsed at once.
    #[test]
    fn deferred_bodies_parse_as_the_whole_file_does() {
        let mut text = String::from("env production\n");
        for b in 0..3000 {
            // Every third with a template, whose name the body follows.
            let template = ["", " with base", " with std_like.base // {\n"][b % 3];
            text.push_str(&format!(
                "backend b{b}{template} {{\n  // }} a bracket in a comment {{\n  request_header \"X\" = \"}}{{\"\n  server s = 10.0.0.1:80 {{ weight = 2 }}\n}}\n"
            ));
        }
        text.push_str("if env == production {\n  backend late { server s = 10.0.0.2:80 }\n}\n");
        let file = FileId(0);
        let (whole, _) = parse_with_threads(file, &text, 1);
        let scanned = scan(file, &text).unwrap();
        let (deferred, _) =
            parse_in_parts(file, &text, &scanned.boundaries, 2, &scanned.closes).unwrap();
        assert_eq!(whole.items.len(), deferred.items.len());
        let mut bodies = 0;
        for (w, d) in whole.items.iter().zip(&deferred.items) {
            match (w, d) {
                (Item::Backend(w), Item::Backend(d)) => {
                    assert!(d.deferred && d.body.is_empty(), "{}", d.name.name);
                    assert_eq!(
                        (&w.name, &w.template, w.span),
                        (&d.name, &d.template, d.span)
                    );
                    let (body, diags) = parse_body(file, &text, d).unwrap();
                    assert_eq!(body, w.body);
                    assert!(diags.is_empty());
                    bodies += 1;
                }
                (Item::If(w), Item::If(d)) => {
                    assert_eq!(w, d);
                    let Item::Backend(late) = &d.then[0] else {
                        panic!("a backend in the `if`")
                    };
                    assert!(!late.deferred && !late.body.is_empty());
                }
                (w, d) => assert_eq!(w, d),
            }
        }
        assert_eq!(bodies, 3000);
    }
}
