//! `haproxy.cfg` text from lowered [`Section`]s.
//!
//! Quoting (HAProxy configuration manual, section 2.2): outside quotes,
//! spaces separate arguments and `#` starts a comment; inside double quotes
//! `\`, `"` and `$` are escaped with a backslash. Every [`Word::Text`] is
//! written so that HAProxy reads back exactly one argument equal to it.

use super::{digits, Out, Provenance};
use crate::lower::{self, Part, Section, Word, Words};
use crate::model;

/// `haproxy.cfg` of `env`: the header, then [`lower::frame`]'s sections
/// with one section per backend between, each lowered and written in turn
/// (a large configuration is never lowered whole).
pub fn emit(env: &model::Env, provenance: &Provenance, out: &mut Out) {
    let servers: usize = env.backends.iter().map(|be| be.servers.len()).sum();
    // About 90 bytes a server line, 200 a backend's others.
    out.expect(servers * 90 + env.backends.len() * 200);
    out.text().push_str(&header(provenance));
    secrets_required(env, out.text());
    let (mut before, after) = lower::frame(env);
    let fingerprint = fingerprint_of(env, &before, &after);
    if let Some(global) = before.first_mut() {
        global.lines.insert(0, fingerprint_line(fingerprint));
    }
    write_sections(out.text(), &before);
    out.part_done();
    let mut check = String::new();
    for be in &env.backends {
        let text = out.text();
        write_sections(text, &[lower::backend(be)]);
        // Server lines are spelled as they are lowered, without a vector
        // of words each: a large configuration is mostly server lines.
        // Their health-check words are the backend's, spelled once.
        check.clear();
        if let Some(c) = &be.check {
            Line {
                text: &mut check,
                check: None,
            }
            .words(lower::check_words(c));
        }
        for s in &be.servers {
            text.push_str("    server");
            lower::push_server_options(
                be,
                s,
                &mut Line {
                    text,
                    check: be.check.as_ref().map(|c| (c, check.as_str())),
                },
            );
            text.push('\n');
        }
        out.part_done();
    }
    write_sections(out.text(), &after);
}

/// What only a reload changes of `env`'s configuration, as 16 hex digits:
/// a hash of every section as written, in the order of their headers (a
/// frontend's binds last, in the order of their text), but for the server
/// lines (`apply`
/// converges servers through the Runtime API; routes map entries are not
/// in the file at all) and for the line that carries it; with each
/// backend's health-check interval, rise and fall, which its server lines
/// carry and no command reports. The
/// configuration writes it in `global` as `description haptic:FP`, which
/// `show info` reports: `apply` compares the running one with the
/// declared one. Two versions whose plan needs no reload have the same
/// fingerprint (the equivalence test checks it).
pub fn reload_fingerprint(env: &model::Env) -> String {
    let (before, after) = lower::frame(env);
    fingerprint_of(env, &before, &after)
}

/// The options of `s`'s line that a running HAProxy does not report
/// ([`lower::push_unreported_options`]), as written; empty for none.
pub fn unreported_options(s: &model::Server) -> String {
    let mut words = Vec::new();
    lower::push_unreported_options(s, &mut words);
    render_words(&words)
}

/// The distinct non-empty [`unreported_options`] of `be`'s servers, sorted.
/// The fingerprint holds this set rather than each server's options, so
/// that servers added and removed at runtime leave it as it is while one
/// of their kind stays (`plan` says a reload when none would).
pub fn unreported_option_sets(be: &model::Backend) -> Vec<String> {
    let mut sets: Vec<String> = be
        .servers
        .iter()
        .filter(|s| lower::has_unreported_options(s))
        .map(unreported_options)
        .collect();
    sets.sort_unstable();
    sets.dedup();
    sets
}

/// The `description` word that carries `fingerprint`.
pub fn fingerprint_description(fingerprint: &str) -> String {
    format!("haptic:{fingerprint}")
}

fn fingerprint_line(fingerprint: String) -> Vec<Word<'static>> {
    vec![
        Word::Syntax("description"),
        Word::Value(std::borrow::Cow::Owned(fingerprint_description(
            &fingerprint,
        ))),
    ]
}

fn fingerprint_of(env: &model::Env, before: &[Section], after: &[Section]) -> String {
    use sha2::{Digest, Sha256};
    // The sections are hashed in the order of their headers (each names
    // one section), not as written: HAProxy reads frontends, backends and
    // userlists in any order, and the plan does not count a block moved in
    // the sources as a change, so neither may `apply`.
    let mut hasher = Sha256::new();
    let mut text = String::new();
    let mut sections: Vec<&Section> = before.iter().chain(after).collect();
    sections.sort_by_cached_key(|section| {
        let mut header = String::new();
        write_words(&mut header, &section.header);
        header
    });
    for section in sections {
        text.clear();
        write_binds_last(&mut text, section);
        hasher.update(text.as_bytes());
    }
    let mut backends: Vec<&model::Backend> = env.backends.iter().collect();
    backends.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for be in backends {
        text.clear();
        let mut section = lower::backend(be);
        // The check's port, interval, rise and fall: written on each
        // server's line, and reported by no command.
        if let Some(check) = &be.check {
            section.lines.push(lower::check_words(check));
        }
        write_sections(&mut text, &[section]);
        hasher.update(text.as_bytes());
        for options in unreported_option_sets(be) {
            hasher.update(b"server options ");
            hasher.update(options.as_bytes());
            hasher.update(b"\n");
        }
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(16);
    for byte in &digest[..8] {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Writes `section` as [`write_sections`] does, but for its `bind` lines,
/// which come after the others, in the order of their text: a frontend's
/// binds each listen apart, and the plan pairs them by address, so one
/// moved among them is no change.
fn write_binds_last(out: &mut String, section: &Section) {
    let is_bind = |line: &&Vec<Word>| matches!(line.first(), Some(Word::Syntax("bind")));
    out.push('\n');
    write_words(out, &section.header);
    for line in section.lines.iter().filter(|l| !is_bind(l)) {
        out.push_str("    ");
        write_words(out, line);
    }
    let mut binds: Vec<String> = section
        .lines
        .iter()
        .filter(is_bind)
        .map(|l| render_words(l))
        .collect();
    binds.sort_unstable();
    for bind in binds {
        out.push_str("    ");
        out.push_str(&bind);
        out.push('\n');
    }
}

/// The header comment: what made the file, from which sources.
fn header(provenance: &Provenance) -> String {
    let mut out = String::new();
    for line in provenance.header_lines("haproxy.cfg") {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// For each secret of `env`, a conditional block that names it when its
/// variable is not set, then blocks that stop HAProxy (and `haproxy -c`)
/// if any is not: HAProxy would expand it to nothing, which drops an
/// argument (an error far from the cause) or, in `stats auth`, leaves the
/// page's password empty. HAProxy stops at the first `.alert`, so the
/// names come first, as notices, every missing one. The alerts test at
/// most [`NAMES_AN_ALERT`] names each: a line holds at most 64 words.
/// (A variable set to nothing is not caught: comparing the value in a
/// condition would splice it into the condition's text.)
fn secrets_required(env: &model::Env, out: &mut String) {
    let secrets = env.secrets();
    if secrets.is_empty() {
        return;
    }
    out.push_str(
        "\n# HAProxy expands each secret from its environment at start, and refuses to start without it\n",
    );
    for &name in &secrets {
        // A secret's name is a variable's (checked: E0207), which needs
        // no quoting here nor in the message.
        debug_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        for part in [
            ".if !defined(",
            name,
            ")\n    .notice \"secret ",
            name,
            " is not set in HAProxy's environment\"\n.endif\n",
        ] {
            out.push_str(part);
        }
    }
    for names in secrets.chunks(NAMES_AN_ALERT) {
        out.push_str(".if ");
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                out.push_str(" || ");
            }
            out.push_str("!defined(");
            out.push_str(name);
            out.push(')');
        }
        out.push_str(
            "\n    .alert \"a secret is not set in HAProxy's environment (named above)\"\n.endif\n",
        );
    }
}

/// How many secrets one `.if` of [`secrets_required`] tests: 31 words.
const NAMES_AN_ALERT: usize = 16;

/// Appends sections, each after a blank line.
fn write_sections(out: &mut String, sections: &[Section]) {
    // About 12 bytes a word: one allocation for the whole text, mostly.
    let words: usize = sections
        .iter()
        .map(|s| s.lines.iter().map(Vec::len).sum::<usize>() + s.lines.len())
        .sum();
    out.reserve(words * 12 + 64);
    for section in sections {
        out.push('\n');
        write_words(out, &section.header);
        for line in &section.lines {
            out.push_str("    ");
            write_words(out, line);
        }
    }
}

/// Words as one line of arguments, without the newline (for `add server`).
pub fn render_words(words: &[Word]) -> String {
    let mut out = String::new();
    write_words(&mut out, words);
    out.pop();
    out
}

/// The rest of a line: each word written after a space. `check` is a
/// health check with its words already spelled.
struct Line<'o> {
    text: &'o mut String,
    check: Option<(&'o model::HealthCheck, &'o str)>,
}

impl<'a> lower::Words<'a> for Line<'_> {
    fn word(&mut self, word: Word<'a>) {
        self.text.push(' ');
        write_word(self.text, &word);
    }

    fn check_words(&mut self, check: &'a model::HealthCheck) {
        match self.check {
            Some((spelled, words)) if std::ptr::eq(spelled, check) => self.text.push_str(words),
            _ => self.words(lower::check_words(check)),
        }
    }

    // What `word` writes for `Word::Syntax` and `Word::Int`, and for
    // `Word::Value` and `Word::Address`, without the words.
    fn keyword_int(&mut self, keyword: &'static str, n: u64) {
        self.text.push(' ');
        self.text.push_str(keyword);
        self.text.push(' ');
        digits::push_int(self.text, n);
    }

    fn name_address(&mut self, name: &'a str, host: Option<&'a model::Host>, port: u16) {
        self.text.push(' ');
        quote_into(self.text, name);
        self.text.push(' ');
        lower::push_address(self.text, host, port);
    }
}

fn write_words(out: &mut String, words: &[Word]) {
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_word(out, word);
    }
    out.push('\n');
}

/// One word, quoted as it needs.
fn write_word(out: &mut String, word: &Word) {
    match word {
        Word::Syntax(s) => {
            debug_assert!(is_bare(s) || s.chars().all(|c| c.is_ascii_graphic() && c != '#'));
            out.push_str(s);
        }
        Word::Value(s) | Word::Text(s) => quote_into(out, s),
        Word::Int(n) => digits::push_int(out, *n),
        Word::Duration(ms) => lower::push_duration(out, *ms),
        Word::Address(host, port) => lower::push_address(out, *host, *port),
        Word::Template(parts) => {
            out.push('"');
            for part in parts {
                match part {
                    Part::Lit(s) => escape_into(out, s),
                    Part::Var(name) => {
                        debug_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                }
            }
            out.push('"');
        }
    }
}

/// Characters that need no quoting anywhere in a HAProxy argument.
fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_'
                        | b':'
                        | b'/'
                        | b'@'
                        | b'+'
                        | b','
                        | b'='
                        | b'!'
                        | b'*'
                        | b'%'
                        | b'~'
                        | b'^'
                        | b'-'
                        | b'('
                        | b')'
                        | b'['
                        | b']'
                )
        })
}

/// Appends `s` as one HAProxy argument holding exactly `s`.
fn quote_into(out: &mut String, s: &str) {
    if is_bare(s) {
        out.push_str(s);
    } else {
        out.push('"');
        escape_into(out, s);
        out.push('"');
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' | '\\' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // The checker refuses control characters; should one slip
            // through, it must not end the line.
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One HAProxy argument holding exactly `s`.
    fn quote(s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        quote_into(&mut out, s);
        out
    }

    #[test]
    fn quoting_keeps_one_argument() {
        assert_eq!(quote("/healthz"), "/healthz");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("x#y"), "\"x#y\"");
        assert_eq!(quote("${X}"), "\"\\${X}\"");
        assert_eq!(quote("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(quote("a\nb"), "\"a?b\"");
        assert_eq!(quote(""), "\"\"");
    }
}
