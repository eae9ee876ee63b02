//! Diagnostics: one type for every stage, rendered to the terminal (miette),
//! JSON, and (later) GitLab Code Quality and SARIF from the same value.

pub mod codes;
pub mod render;

pub use codes::{Code, Severity};

use crate::source::Span;

/// A secondary location with its own message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding. Built by every stage; rendered in one place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the bad value was written. `None` only for project-level
    /// problems that have no place in a source file (an unreadable manifest).
    pub span: Option<Span>,
    pub labels: Vec<Label>,
    pub help: Vec<String>,
    /// The environments in which the checker found it (empty for findings
    /// that do not depend on the environment, such as syntax errors).
    pub envs: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span: span.into(),
            labels: Vec::new(),
            help: Vec::new(),
            envs: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects diagnostics of a run. The checker visits shared declarations
/// once per environment: the same finding in several environments is kept
/// once, with the environments it was found in.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
    index: std::collections::HashMap<Diagnostic, usize>,
    errors: usize,
    env: Option<String>,
}

impl Diagnostics {
    /// The environment being checked, recorded on what is pushed next.
    pub fn set_env(&mut self, env: Option<&str>) {
        self.env = env.map(str::to_string);
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        match self.index.get(&diagnostic) {
            Some(&i) => {
                if let Some(env) = &self.env {
                    if !self.list[i].envs.contains(env) {
                        self.list[i].envs.push(env.clone());
                    }
                }
            }
            None => {
                self.index.insert(diagnostic.clone(), self.list.len());
                self.errors += usize::from(diagnostic.is_error());
                let mut diagnostic = diagnostic;
                diagnostic.envs.extend(self.env.clone());
                self.list.push(diagnostic);
            }
        }
    }

    /// Pushes every diagnostic of `other` (collected with no environment
    /// set, on another thread), as if pushed here in that order.
    pub fn merge(&mut self, other: Diagnostics) {
        for diagnostic in other.list {
            self.push(diagnostic);
        }
    }

    /// How many errors were pushed so far; a stage compares counts to know
    /// whether building one object failed.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// The diagnostics in source order (file, then position), stable for
    /// diagnostics at the same place.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let mut list = self.list;
        list.sort_by_key(|d| d.span);
        list
    }
}

/// The "did you mean" helper: the candidate closest to `name`, if close enough
/// to be a plausible misspelling.
///
/// Called once a misspelt name against every name of its kind, so a run
/// with many mistakes compares many pairs: each comparison allocates
/// nothing and gives up as soon as the candidate is out of reach.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut name_chars = Vec::new();
    lowercase_into(name, &mut name_chars);
    let limit = (name.chars().count() / 3).max(1);
    let mut room = Room::default();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let Some(d) = distance_within(&name_chars, candidate, limit, &mut room) else {
            continue;
        };
        if best.is_none_or(|b| (d, candidate) < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Buffers kept from one comparison to the next.
#[derive(Default)]
struct Room {
    chars: Vec<char>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

/// `text` lowercased, as characters, into `out`.
fn lowercase_into(text: &str, out: &mut Vec<char>) {
    out.clear();
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// The kinds of characters in `chars`, as 64 buckets.
fn kinds(chars: &[char]) -> u64 {
    chars
        .iter()
        .fold(0, |set, &c| set | 1 << (u32::from(c) % 64))
}

/// Levenshtein distance ignoring case (`get` is one step from nothing but
/// `GET`) between `a` (lowercased already) and `b`, or `None` where it is
/// above `limit`.
fn distance_within(a: &[char], b: &str, limit: usize, room: &mut Room) -> Option<usize> {
    let Room { chars, prev, cur } = room;
    lowercase_into(b, chars);
    // Cheap bounds first. Each edit changes the length by at most one, and
    // takes away at most one character and brings at most one: a kind of
    // character (here, a bucket of kinds) found on one side only takes an
    // edit of its own.
    if a.len().abs_diff(chars.len()) > limit {
        return None;
    }
    let (kinds_a, kinds_b) = (kinds(a), kinds(chars));
    let only_a = (kinds_a & !kinds_b).count_ones() as usize;
    let only_b = (kinds_b & !kinds_a).count_ones() as usize;
    if only_a.max(only_b) > limit {
        return None;
    }
    prev.clear();
    prev.extend(0..=chars.len());
    for (i, &ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        let mut row_min = i + 1;
        for (j, &cb) in chars.iter().enumerate() {
            let d = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            row_min = row_min.min(d);
            cur.push(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    Some(prev[chars.len()]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_plausible_misspellings_only() {
        let algos = ["roundrobin", "leastconn", "first", "source"];
        assert_eq!(nearest("roundrobbin", algos), Some("roundrobin"));
        assert_eq!(nearest("leastcon", algos), Some("leastconn"));
        assert_eq!(nearest("zzz", algos), None);
    }

    /// Levenshtein distance by the full table, for reference.
    fn distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (
            a.to_lowercase().chars().collect(),
            b.to_lowercase().chars().collect(),
        );
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// The bounds that skip candidates never skip the nearest one.
        #[test]
        fn nearest_is_the_closest_within_the_limit(
            name in "[a-dA-D0-2é]{0,9}",
            candidates in proptest::collection::vec("[a-dA-D0-2é]{0,9}", 0..12),
        ) {
            let limit = (name.chars().count() / 3).max(1);
            let expected = candidates
                .iter()
                .map(|c| (distance(&name, c), c.as_str()))
                .filter(|(d, _)| *d <= limit)
                .min()
                .map(|(_, c)| c);
            proptest::prop_assert_eq!(nearest(&name, candidates.iter().map(String::as_str)), expected);
        }
    }

    #[test]
    fn nearest_prefers_the_closest_then_the_first_in_order() {
        assert_eq!(nearest("GET", ["get", "put"]), Some("get"));
        assert_eq!(nearest("svc12", ["svc1", "svc2", "svc123"]), Some("svc1"));
        assert_eq!(nearest("ab", ["xy", "ac"]), Some("ac"));
        assert_eq!(nearest("", ["a", "bb"]), Some("a"));
        assert_eq!(nearest("kitten", ["sitting"]), None);
        assert_eq!(nearest("kittens", ["sitting"]), None);
        assert_eq!(nearest("kitting", ["sitting"]), Some("sitting"));
    }
}
