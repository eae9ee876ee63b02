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
    /// How to fix it, where haptic knows (kept out of line: most
    /// diagnostics have none).
    pub fix: Option<Box<Fix>>,
}

/// A fix of a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    /// What to write in place of the text at the diagnostic's span: the
    /// nearest valid name of a misspelt one (`roundrobin` for
    /// `roundrobbin`), a value without its quotes, `==` for `=`.
    pub replacement: String,
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
            fix: None,
        }
    }

    /// The fix of a misspelling: a `help:` line that names `near`, which
    /// is also what replaces the text at the span.
    pub fn did_you_mean(self, near: &str) -> Self {
        self.help(format!("did you mean `{near}`?"))
            .replace_with(near)
    }

    /// Records what replaces the text at the span to fix it.
    pub fn replace_with(mut self, text: &str) -> Self {
        self.fix = Some(Box::new(Fix {
            replacement: text.to_string(),
        }));
        self
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
    index: crate::hash::Map<Diagnostic, usize>,
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
                    // Environments are checked one after the other, so one
                    // already recorded is the last: no search through
                    // thousands of them.
                    let envs = &mut self.list[i].envs;
                    debug_assert_eq!(envs.contains(env), envs.last() == Some(env));
                    if envs.last() != Some(env) {
                        envs.push(env.clone());
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

    /// Whether a diagnostic with this code was pushed.
    pub fn has(&self, code: Code) -> bool {
        self.list.iter().any(|d| d.code == code)
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
/// For a few candidates, once. Names that are searched again and again
/// (every backend, every project constant) are [`Names`], which prepares
/// them once.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let query = Query::new(name);
    let mut room = Room::default();
    let mut best = Best::new(query.limit);
    for candidate in candidates {
        lowercase_into(candidate, &mut room.chars);
        let chars = std::mem::take(&mut room.chars);
        best.offer(&query, candidate, &chars, kinds(&chars), &mut room);
        room.chars = chars;
    }
    best.found
}

/// [`nearest`], or else the one candidate that `name` abbreviates
/// (`prod` for `production`, `dev` for `development`): for names people
/// shorten, such as environments.
pub fn nearest_or_expansion<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(near) = nearest(name, candidates.clone()) {
        return Some(near);
    }
    if name.chars().count() < 3 {
        return None;
    }
    let prefix = name.to_lowercase();
    let mut longer = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&prefix));
    match (longer.next(), longer.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// The one candidate that says what `name` says in other words, where
/// [`nearest`] finds nothing within a misspelling: the same words (split
/// at `_`) in another order (`server_timeout` for `timeout_server`), or
/// else the only candidate that has `name` as one of its words (`cookie`
/// for `sticky_cookie`) or that is one of `name`'s words (`health_check`
/// for `check`). For names made of words, such as fields; several
/// candidates that fit as well give none (`timeout` is a word of four
/// fields).
pub fn same_words<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    let words = |text: &str| -> Vec<String> {
        let mut words: Vec<String> = text
            .split('_')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        words.sort_unstable();
        words
    };
    let wanted = words(&name);
    if wanted.is_empty() {
        return None;
    }
    let mut holding = None;
    let mut several = false;
    for candidate in candidates {
        let theirs = words(candidate);
        if theirs == wanted {
            if wanted.len() > 1 {
                return Some(candidate);
            }
            continue;
        }
        let fits = (wanted.len() == 1 && theirs.contains(&wanted[0]))
            || (theirs.len() == 1 && wanted.contains(&theirs[0]));
        if fits {
            several |= holding.is_some();
            holding = Some(candidate);
        }
    }
    holding.filter(|_| !several)
}

/// A misspelt name, lowercased, and how far a candidate may be from it.
struct Query {
    chars: Vec<char>,
    kinds: u64,
    limit: usize,
}

impl Query {
    fn new(name: &str) -> Query {
        let mut chars = Vec::new();
        lowercase_into(name, &mut chars);
        Query {
            kinds: kinds(&chars),
            chars,
            limit: (name.chars().count() / 3).max(1),
        }
    }
}

/// The closest candidate so far: the smallest distance, then the first in
/// byte order. Once one is found, a candidate must be as close to be
/// considered, so the bounds skip more and more of the others.
struct Best<'a> {
    found: Option<&'a str>,
    distance: usize,
}

impl<'a> Best<'a> {
    fn new(limit: usize) -> Best<'a> {
        Best {
            found: None,
            distance: limit,
        }
    }

    fn offer(&mut self, query: &Query, text: &'a str, chars: &[char], kinds: u64, room: &mut Room) {
        let Some(d) = distance_within(query, chars, kinds, self.distance, room) else {
            return;
        };
        if self.found.is_none() || (d, text) < (self.distance, self.found.unwrap_or_default()) {
            self.found = Some(text);
            self.distance = d;
        }
    }
}

/// Names offered as "did you mean" again and again: every backend for
/// every route, every project constant for every reference. A run with
/// thousands of mistakes would otherwise lowercase and compare each
/// mistake with every name from the start (62 s for 20,000 misspelt
/// routes). The first search lowercases the names once, groups them by
/// length and keys each by its deletions (`for_each_key`): a name within
/// one or two edits of a mistake is found by looking its keys up, and only
/// a mistake with no name that close is measured against the names of the
/// lengths within reach. The answer is [`nearest`]'s.
#[derive(Debug, Default, Clone)]
pub struct Names {
    list: Vec<String>,
    /// Shared by clones: the checker copies its definitions for each
    /// thread that builds backends.
    index: std::sync::OnceLock<std::sync::Arc<NameIndex>>,
}

#[derive(Debug, Clone)]
struct NameIndex {
    /// Every name lowercased, one after the other.
    chars: Vec<char>,
    /// Sorted by lowercased length.
    entries: Vec<Entry>,
    /// `entries[starts[n]..starts[n + 1]]` are the names of `n` characters.
    starts: Vec<usize>,
    /// The keys of each entry (see [`for_each_key`]), sorted.
    near: Vec<(u64, u32)>,
    /// Every name lowercased (as `str::to_lowercase` does), with its
    /// index, sorted: the names a prefix starts are next to each other.
    lowercased: Vec<(String, usize)>,
}

#[derive(Debug, Clone)]
struct Entry {
    name: usize,
    chars: std::ops::Range<usize>,
    kinds: u64,
}

impl Names {
    pub const fn new() -> Names {
        Names {
            list: Vec::new(),
            index: std::sync::OnceLock::new(),
        }
    }

    pub fn push(&mut self, name: String) {
        self.list.push(name);
        self.index = std::sync::OnceLock::new();
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(String::as_str)
    }

    fn index(&self) -> &NameIndex {
        self.index
            .get_or_init(|| std::sync::Arc::new(NameIndex::new(&self.list)))
    }

    /// [`nearest_or_expansion`] among these names.
    pub fn nearest_or_expansion(&self, name: &str) -> Option<&str> {
        if let Some(near) = self.nearest(name) {
            return Some(near);
        }
        if name.chars().count() < 3 {
            return None;
        }
        let prefix = name.to_lowercase();
        let lowercased = &self.index().lowercased;
        let from = lowercased.partition_point(|(l, _)| l.as_str() < prefix.as_str());
        let mut longer = lowercased[from..]
            .iter()
            .take_while(|(l, _)| l.starts_with(&prefix));
        match (longer.next(), longer.next()) {
            (Some(&(_, only)), None) => Some(&self.list[only]),
            _ => None,
        }
    }

    /// [`nearest`] among these names.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        let index = self.index();
        let query = Query::new(name);
        let mut room = Room::default();
        let mut best = Best::new(query.limit);
        // Names within one edit first, then two (unless the query is long):
        // they share a key with the query. If there is one, no name further
        // away can be the answer.
        let len = query.chars.len();
        let most = if len + 2 <= TWO_DELETIONS { 2 } else { 1 };
        for within in 1..=most {
            for_each_key(&query.chars, within, |key| {
                let from = index.near.partition_point(|&(k, _)| k < key);
                for &(k, entry) in &index.near[from..] {
                    if k != key {
                        break;
                    }
                    let entry = &index.entries[entry as usize];
                    let text = &self.list[entry.name];
                    let chars = &index.chars[entry.chars.clone()];
                    best.offer(&query, text, chars, entry.kinds, &mut room);
                }
            });
            if best.found.is_some() && best.distance <= within {
                return best.found;
            }
        }
        let longest = index.starts.len() - 2;
        // Nearest lengths first: the closer a name's length, the likelier
        // it is the answer, and the sooner the others are out of reach.
        for offset in 0..=query.limit {
            if offset > best.distance {
                break;
            }
            for n in [
                len.checked_sub(offset),
                Some(len + offset).filter(|_| offset > 0),
            ] {
                let Some(n) = n.filter(|&n| n <= longest) else {
                    continue;
                };
                for entry in &index.entries[index.starts[n]..index.starts[n + 1]] {
                    let chars = &index.chars[entry.chars.clone()];
                    let text = &self.list[entry.name];
                    best.offer(&query, text, chars, entry.kinds, &mut room);
                }
            }
        }
        best.found
    }
}

impl From<Vec<String>> for Names {
    fn from(list: Vec<String>) -> Names {
        Names {
            list,
            index: std::sync::OnceLock::new(),
        }
    }
}

impl NameIndex {
    fn new(list: &[String]) -> NameIndex {
        let mut chars = Vec::new();
        let mut entries = Vec::with_capacity(list.len());
        let mut lowered = Vec::new();
        for (name, text) in list.iter().enumerate() {
            lowercase_into(text, &mut lowered);
            let start = chars.len();
            chars.extend_from_slice(&lowered);
            entries.push(Entry {
                name,
                chars: start..chars.len(),
                kinds: kinds(&lowered),
            });
        }
        entries.sort_by_key(|e| e.chars.len());
        let longest = entries.last().map_or(0, |e| e.chars.len());
        let mut starts = vec![0; longest + 2];
        for entry in &entries {
            starts[entry.chars.len() + 1] += 1;
        }
        for n in 1..starts.len() {
            starts[n] += starts[n - 1];
        }
        let mut near = Vec::with_capacity(chars.len() + entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let deletions = if entry.chars.len() <= TWO_DELETIONS {
                2
            } else {
                1
            };
            for_each_key(&chars[entry.chars.clone()], deletions, |key| {
                near.push((key, i as u32));
            });
        }
        near.sort_unstable();
        let mut lowercased: Vec<(String, usize)> = list
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_lowercase(), i))
            .collect();
        lowercased.sort_unstable();
        NameIndex {
            chars,
            entries,
            starts,
            near,
            lowercased,
        }
    }
}

/// Names up to this many characters are keyed with two deletions too.
/// A name of `n` characters has about `n * n / 2` such keys, so longer
/// names have those of one deletion only.
const TWO_DELETIONS: usize = 16;

/// Calls `f` with a hash of `chars` and of each way to delete one of its
/// characters, and two where `deletions` is 2. Two names within `k` edits
/// of each other (`k` up to `deletions`) share one of these, since an
/// edit is a deletion from one side or the other, or both for a
/// substitution. A shared hash may also be a collision, so a name found
/// this way is still measured. Two neighbours swapped (one edit, see
/// [`distance_within`]) are one deletion from each side too: `paht` and
/// `path` both give `pat`.
fn for_each_key(chars: &[char], deletions: usize, mut f: impl FnMut(u64)) {
    const BASE: u64 = 0x100_0000_01b3;
    let n = chars.len();
    // prefix[i] is the hash of chars[..i]; power[i] is BASE^i.
    let mut prefix = Vec::with_capacity(n + 1);
    let mut power = Vec::with_capacity(n + 1);
    let (mut hash, mut p) = (0u64, 1u64);
    prefix.push(hash);
    power.push(p);
    for &c in chars {
        hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(c) + 1);
        p = p.wrapping_mul(BASE);
        prefix.push(hash);
        power.push(p);
    }
    // The hash of chars[from..to].
    let part = |from: usize, to: usize| {
        prefix[to].wrapping_sub(prefix[from].wrapping_mul(power[to - from]))
    };
    f(prefix[n]);
    for i in 0..n {
        let rest = part(i + 1, n);
        f(part(0, i).wrapping_mul(power[n - 1 - i]).wrapping_add(rest));
        if deletions < 2 {
            continue;
        }
        for j in i + 1..n {
            let head = part(0, i).wrapping_mul(power[n - 2 - i]);
            let middle = part(i + 1, j).wrapping_mul(power[n - 1 - j]);
            f(head.wrapping_add(middle).wrapping_add(part(j + 1, n)));
        }
    }
}

/// Buffers kept from one comparison to the next.
#[derive(Default)]
struct Room {
    chars: Vec<char>,
    before: Vec<usize>,
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

/// Edit distance ignoring case (`get` is one step from nothing but `GET`)
/// between the query and `b` (lowercased already, its kinds `kinds_b`), or
/// `None` where it is above `limit`. Two neighbours swapped count as one
/// edit (`paht` is one step from `path`, as people mistype), each
/// character edited at most once: the optimal string alignment distance.
fn distance_within(
    query: &Query,
    b: &[char],
    kinds_b: u64,
    limit: usize,
    room: &mut Room,
) -> Option<usize> {
    let a = &query.chars;
    // Cheap bounds first. Each edit changes the length by at most one, and
    // takes away at most one character and brings at most one: a kind of
    // character (here, a bucket of kinds) found on one side only takes an
    // edit of its own.
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let only_a = (query.kinds & !kinds_b).count_ones() as usize;
    let only_b = (kinds_b & !query.kinds).count_ones() as usize;
    if only_a.max(only_b) > limit {
        return None;
    }
    let Room {
        before, prev, cur, ..
    } = room;
    prev.clear();
    prev.extend(0..=b.len());
    // A row is reached from the one before it, or by a swap from the one
    // before that: the distance is out of reach once two rows in a row are.
    let mut prev_min = 0;
    for (i, &ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        let mut row_min = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let mut d = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            if i > 0 && j > 0 && ca == b[j - 1] && a[i - 1] == cb && ca != cb {
                d = d.min(before[j - 1] + 1);
            }
            row_min = row_min.min(d);
            cur.push(d);
        }
        if row_min > limit && prev_min > limit {
            return None;
        }
        prev_min = row_min;
        std::mem::swap(before, prev);
        std::mem::swap(prev, cur);
    }
    Some(prev[b.len()]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_words_finds_a_field_named_in_other_words() {
        let fields = [
            "balance",
            "check",
            "timeout_connect",
            "timeout_server",
            "http_reuse",
            "sticky_cookie",
        ];
        assert_eq!(same_words("server_timeout", fields), Some("timeout_server"));
        assert_eq!(
            same_words("Connect_Timeout", fields),
            Some("timeout_connect")
        );
        assert_eq!(same_words("cookie", fields), Some("sticky_cookie"));
        assert_eq!(same_words("reuse", fields), Some("http_reuse"));
        assert_eq!(same_words("health_check", fields), Some("check"));
        assert_eq!(same_words("balance_algorithm", fields), Some("balance"));
        // Several fields fit as well: no guess.
        assert_eq!(same_words("timeout", fields), None);
        assert_eq!(same_words("http_check_timeout", fields), Some("check"));
        assert_eq!(same_words("_", fields), None);
        assert_eq!(same_words("weight", fields), None);
    }

    #[test]
    fn nearest_finds_plausible_misspellings_only() {
        let algos = ["roundrobin", "leastconn", "first", "source"];
        assert_eq!(nearest("roundrobbin", algos), Some("roundrobin"));
        assert_eq!(nearest("leastcon", algos), Some("leastconn"));
        assert_eq!(nearest("zzz", algos), None);
        // Two neighbours swapped are one edit.
        assert_eq!(nearest("paht", ["method", "path", "expect"]), Some("path"));
        assert_eq!(nearest("laestconn", algos), Some("leastconn"));
        assert_eq!(distance("paht", "path"), 1);
        assert_eq!(distance("ca", "abc"), 3);
    }

    /// Optimal string alignment distance by the full table, for reference.
    fn distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (
            a.to_lowercase().chars().collect(),
            b.to_lowercase().chars().collect(),
        );
        let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=b.len()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j - 1] + cost)
                    .min(d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    /// [`Names::nearest`] of each query is [`nearest`]'s, asked of the same
    /// names several times (the first search prepares them).
    fn answers_as_nearest(
        queries: &[String],
        candidates: Vec<String>,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let names = Names::from(candidates.clone());
        for name in queries {
            let expected = nearest(name, candidates.iter().map(String::as_str));
            proptest::prop_assert_eq!(names.nearest(name), expected);
            let expected = nearest_or_expansion(name, candidates.iter().map(String::as_str));
            proptest::prop_assert_eq!(names.nearest_or_expansion(name), expected);
        }
        Ok(())
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

        /// The prepared names answer what [`nearest`] answers.
        #[test]
        fn names_answer_as_nearest_does(
            queries in proptest::collection::vec("[a-dA-D0-2é]{0,9}", 1..4),
            candidates in proptest::collection::vec("[a-dA-D0-2é]{0,12}", 0..40),
        ) {
            answers_as_nearest(&queries, candidates)?;
        }

        /// The keys are the hashes of the deletions themselves.
        #[test]
        fn keys_are_the_hashes_of_the_deletions(text in "[a-c0-1é]{0,10}", deletions in 1usize..=2) {
            let chars: Vec<char> = text.chars().collect();
            let hash = |cs: &[char]| {
                cs.iter().fold(0u64, |h, &c| h.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(c) + 1))
            };
            let mut expected = vec![hash(&chars)];
            for i in 0..chars.len() {
                let mut one = chars.clone();
                one.remove(i);
                expected.push(hash(&one));
                if deletions == 2 {
                    for j in i..one.len() {
                        let mut two = one.clone();
                        two.remove(j);
                        expected.push(hash(&two));
                    }
                }
            }
            let mut keys = Vec::new();
            for_each_key(&chars, deletions, |k| keys.push(k));
            keys.sort_unstable();
            expected.sort_unstable();
            proptest::prop_assert_eq!(keys, expected);
        }

        /// The same around the length where names stop being keyed with
        /// two deletions.
        #[test]
        fn names_answer_as_nearest_does_for_long_names(
            queries in proptest::collection::vec("[ab]{10,20}", 1..4),
            candidates in proptest::collection::vec("[ab]{8,22}", 0..40),
        ) {
            answers_as_nearest(&queries, candidates)?;
        }
    }

    #[test]
    fn an_abbreviation_expands_to_the_one_name_it_starts() {
        let envs = ["staging", "production", "development"];
        assert_eq!(nearest_or_expansion("prod", envs), Some("production"));
        assert_eq!(nearest_or_expansion("Dev", envs), Some("development"));
        assert_eq!(nearest_or_expansion("producton", envs), Some("production"));
        assert_eq!(nearest_or_expansion("pr", envs), None, "too short to tell");
        assert_eq!(nearest_or_expansion("qa", envs), None);
        let ambiguous = ["prod-eu", "prod-us"];
        assert_eq!(nearest_or_expansion("prod", ambiguous), None);
        // The same from names prepared once.
        let names = Names::from(envs.map(String::from).to_vec());
        for query in ["prod", "Dev", "producton", "pr", "qa"] {
            assert_eq!(
                names.nearest_or_expansion(query),
                nearest_or_expansion(query, envs),
                "{query}"
            );
        }
        let names = Names::from(ambiguous.map(String::from).to_vec());
        assert_eq!(names.nearest_or_expansion("prod"), None);
        assert_eq!(names.nearest_or_expansion("prod-e"), Some("prod-eu"));
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
