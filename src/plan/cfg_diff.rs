//! The unified diff of two outputs (`haproxy.cfg`, `runtime.txt`), section
//! by section.
//!
//! A Myers diff of whole files costs the length times the number of
//! changes: a merge request that touches one server in a hundred of 20,000
//! backends spent a second there, and one that touches every server of
//! 2,000 backends 51 s. The sections of a configuration (a header line or a
//! blank line, and the indented lines under it) are diffed first, as units;
//! only the runs of sections that differ are diffed line by line. At either
//! level Myers is given at most `MYERS_PAIRS` pairs at once: longer
//! sequences are first cut at items found once on each side. The text is
//! written as `similar`'s unified diff writes it (`---`/`+++` header,
//! `@@ -a,b +c,d @@` hunks, three lines of context).

use std::fmt::Write as _;
use std::ops::Range;

use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp, DiffTag};

/// The unified diff of `old` and `new` under the two file names; empty
/// when they are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = line_ops(old, &old_lines, new, &new_lines);
    let mut out = String::new();
    for hunk in group_diff_ops(ops, 3) {
        if hunk.is_empty() {
            continue;
        }
        if out.is_empty() {
            let _ = writeln!(out, "--- {old_name}\n+++ {new_name}");
        }
        let (first, last) = (hunk[0], hunk[hunk.len() - 1]);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            HunkRange(first.old_range().start, last.old_range().end),
            HunkRange(first.new_range().start, last.new_range().end)
        );
        for op in &hunk {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            let mut lines = |sign: char, lines: &[&str]| {
                for line in lines {
                    out.push(sign);
                    out.push_str(line);
                    if !line.ends_with('\n') {
                        out.push_str("\n\\ No newline at end of file\n");
                    }
                }
            };
            match tag {
                DiffTag::Equal => lines(' ', &old_lines[old_range]),
                DiffTag::Delete => lines('-', &old_lines[old_range]),
                DiffTag::Insert => lines('+', &new_lines[new_range]),
                DiffTag::Replace => {
                    lines('-', &old_lines[old_range]);
                    lines('+', &new_lines[new_range]);
                }
            }
        }
    }
    out
}

/// A hunk's line range as unified diffs write it: `start,len`, `start`
/// alone for one line, and the line before for none.
struct HunkRange(usize, usize);

impl std::fmt::Display for HunkRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.1.saturating_sub(self.0);
        match len {
            1 => write!(f, "{}", self.0 + 1),
            0 => write!(f, "{},0", self.0),
            _ => write!(f, "{},{}", self.0 + 1, len),
        }
    }
}

/// The line ranges of the sections of `lines`: each begins at a line that
/// is neither indented nor blank (a section header), and holds the blank
/// lines after it. (Blank lines as sections of their own were units alike
/// everywhere: where every section changed, the diff of the sections
/// could pair a section with the blank line before another, and show a
/// section removed and written again instead of its changed lines.)
fn sections(lines: &[&str]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let header = !(line.starts_with([' ', '\t']) || line.trim().is_empty());
        match out.last_mut() {
            Some(last) if !header => last.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Each section's text, as one slice of `whole` (which `lines` cut).
fn section_texts<'a>(whole: &'a str, lines: &[&str], sections: &[Range<usize>]) -> Vec<&'a str> {
    let offset = |line: &str| line.as_ptr() as usize - whole.as_ptr() as usize;
    sections
        .iter()
        .map(|r| {
            let last = lines[r.end - 1];
            &whole[offset(lines[r.start])..offset(last) + last.len()]
        })
        .collect()
}

/// The diff of the lines, found section by section.
fn line_ops(old: &str, old_lines: &[&str], new: &str, new_lines: &[&str]) -> Vec<DiffOp> {
    let (old_sections, new_sections) = (sections(old_lines), sections(new_lines));
    let (old_keys, new_keys) = (
        section_texts(old, old_lines, &old_sections),
        section_texts(new, new_lines, &new_sections),
    );
    // The lines of a run of sections; an empty run sits where its next
    // section (or the end) begins.
    let lines_of = |sections: &[Range<usize>], total: usize, run: Range<usize>| {
        let start = sections.get(run.start).map_or(total, |s| s.start);
        let end = if run.is_empty() {
            start
        } else {
            sections[run.end - 1].end
        };
        start..end
    };
    let mut ops: Vec<DiffOp> = Vec::new();
    // Each operation is placed where the previous one ended: only the
    // lengths of the operations found in a run are taken (the index of the
    // side an operation does not touch is not always where it should be).
    let (mut old_at, mut new_at) = (0, 0);
    let mut push = |op: DiffOp| {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let (old_len, new_len) = (old_range.len(), new_range.len());
        let placed = match tag {
            DiffTag::Equal => DiffOp::Equal {
                old_index: old_at,
                new_index: new_at,
                len: old_len,
            },
            DiffTag::Delete => DiffOp::Delete {
                old_index: old_at,
                old_len,
                new_index: new_at,
            },
            DiffTag::Insert => DiffOp::Insert {
                old_index: old_at,
                new_index: new_at,
                new_len,
            },
            DiffTag::Replace => DiffOp::Replace {
                old_index: old_at,
                old_len,
                new_index: new_at,
                new_len,
            },
        };
        (old_at, new_at) = (old_at + old_len, new_at + new_len);
        match (ops.last_mut(), placed) {
            // Runs of equal lines are one operation, as a whole-file diff has.
            (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) => *len += more,
            _ => ops.push(placed),
        }
    };
    for op in diff_slices(&old_keys, &new_keys) {
        let old_run = lines_of(&old_sections, old_lines.len(), op.old_range());
        let new_run = lines_of(&new_sections, new_lines.len(), op.new_range());
        if op.tag() == DiffTag::Equal {
            push(DiffOp::Equal {
                old_index: old_run.start,
                new_index: new_run.start,
                len: old_run.len(),
            });
            continue;
        }
        for line_op in diff_slices(&old_lines[old_run], &new_lines[new_run]) {
            push(line_op);
        }
    }
    ops
}

/// Above this many pairs of items, two sequences are not given to Myers
/// whole: its cost is the length times the number of changes, and an
/// output where every server changed took 51 s at 2,000 backends.
const MYERS_PAIRS: usize = 1 << 20;

/// The diff of two sequences: Myers where they are small, as before.
/// Larger ones are cut at anchors, items found once in each and in the same
/// order in both (the longest such run), and the pieces between diffed the
/// same way; a large piece with no anchor is replaced whole. Bounded by
/// about the length times `MYERS_PAIRS`, whatever changed.
fn diff_slices(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    diff_within(old, new, MYERS_PAIRS)
}

/// [`diff_slices`], with Myers given at most `pairs` pairs at once.
fn diff_within(old: &[&str], new: &[&str], pairs: usize) -> Vec<DiffOp> {
    enum Work {
        Piece(Range<usize>, Range<usize>),
        Anchor,
    }
    // What each operation does, by lengths, in order; placed after.
    let mut steps: Vec<(DiffTag, usize, usize)> = Vec::new();
    // Pieces still to diff, the next one last (a stack, not recursion:
    // pieces may hold anchors of their own, to any depth).
    let mut work = vec![Work::Piece(0..old.len(), 0..new.len())];
    while let Some(next) = work.pop() {
        let (o, n) = match next {
            Work::Anchor => {
                steps.push((DiffTag::Equal, 1, 1));
                continue;
            }
            Work::Piece(o, n) => (o, n),
        };
        let (old_piece, new_piece) = (&old[o.clone()], &new[n.clone()]);
        if old_piece.len().saturating_mul(new_piece.len()) <= pairs {
            for op in capture_diff_slices(Algorithm::Myers, old_piece, new_piece) {
                let (tag, old_range, new_range) = op.as_tag_tuple();
                steps.push((tag, old_range.len(), new_range.len()));
            }
            continue;
        }
        let anchors = anchors(old_piece, new_piece);
        if anchors.is_empty() {
            steps.push((DiffTag::Replace, old_piece.len(), new_piece.len()));
            continue;
        }
        let mut parts = Vec::with_capacity(2 * anchors.len() + 1);
        let (mut at_old, mut at_new) = (o.start, n.start);
        for (i, j) in anchors {
            let (i, j) = (o.start + i, n.start + j);
            parts.push(Work::Piece(at_old..i, at_new..j));
            parts.push(Work::Anchor);
            (at_old, at_new) = (i + 1, j + 1);
        }
        parts.push(Work::Piece(at_old..o.end, at_new..n.end));
        work.extend(parts.into_iter().rev());
    }
    // Each placed where the one before ended.
    let (mut at_old, mut at_new) = (0, 0);
    let mut ops = Vec::with_capacity(steps.len());
    for (tag, old_len, new_len) in steps {
        let (old_index, new_index) = (at_old, at_new);
        ops.push(match tag {
            DiffTag::Equal => DiffOp::Equal {
                old_index,
                new_index,
                len: old_len,
            },
            DiffTag::Delete => DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            },
            DiffTag::Insert => DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            },
            DiffTag::Replace => DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            },
        });
        (at_old, at_new) = (at_old + old_len, at_new + new_len);
    }
    ops
}

/// The items found exactly once in `old` and once in `new`, as index
/// pairs, keeping the longest run that is in the same order in both.
fn anchors(old: &[&str], new: &[&str]) -> Vec<(usize, usize)> {
    let mut seen: crate::hash::Map<&str, (usize, usize, usize)> =
        crate::hash::map_with_capacity(old.len());
    for (i, item) in old.iter().enumerate() {
        let e = seen.entry(item).or_insert((0, i, 0));
        e.0 += 1;
    }
    let mut in_new = vec![usize::MAX; old.len()];
    for (j, item) in new.iter().enumerate() {
        if let Some(e) = seen.get_mut(item) {
            e.2 += 1;
            in_new[e.1] = j;
        }
    }
    let pairs: Vec<(usize, usize)> = old
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(seen.get(*item), Some(&(1, _, 1))))
        .map(|(i, _)| (i, in_new[i]))
        .collect();
    longest_increasing(&pairs)
}

/// The longest run of `pairs` (increasing in the first index) that also
/// increases in the second (patience sorting).
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // tails[k]: the index in `pairs` of the smallest last item of a run of
    // length k + 1; before[p]: the item before pair p in its run.
    let mut tails: Vec<usize> = Vec::new();
    let mut before = vec![usize::MAX; pairs.len()];
    for (p, &(_, j)) in pairs.iter().enumerate() {
        let k = tails.partition_point(|&t| pairs[t].1 < j);
        if k > 0 {
            before[p] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(p);
        } else {
            tails[k] = p;
        }
    }
    let mut run = Vec::with_capacity(tails.len());
    let mut p = tails.last().copied().unwrap_or(usize::MAX);
    while p != usize::MAX {
        run.push(pairs[p]);
        p = before[p];
    }
    run.reverse();
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn similar_unified(old: &str, new: &str) -> String {
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header("a", "b")
            .to_string()
    }

    #[test]
    fn same_text_as_a_whole_file_diff() {
        let base = "global\n    log stdout\n\ndefaults\n    mode http\n\nbackend a\n    balance roundrobin\n    server s1 10.0.0.1:80 weight 1\n    server s2 10.0.0.2:80 weight 1\n\nbackend b\n    server s1 10.0.1.1:80 weight 1\n";
        let cases = [
            base.replace("10.0.0.2:80 weight 1", "10.0.0.2:80 weight 5"),
            base.replace("\nbackend b\n    server s1 10.0.1.1:80 weight 1\n", ""),
            format!("{base}\nbackend c\n    server s1 10.0.2.1:80\n"),
            base.replace("    balance roundrobin\n", ""),
            base.replace("backend a", "backend aa"),
            base.replace("global\n    log stdout\n\n", ""),
            // Every section changed, and sections added between them.
            base.replace("log stdout", "log stderr")
                .replace(
                    "mode http",
                    "mode http\n    retries 3\n\nresolvers r\n    hold valid 1s",
                )
                .replace("balance roundrobin", "balance leastconn")
                .replace(
                    "10.0.1.1:80 weight 1",
                    "10.0.1.1:80 weight 2\n\nuserlist u\n    user a password x",
                ),
            format!("\n\n{base}\n\n"),
            base.to_string(),
            String::new(),
        ];
        for new in &cases {
            assert_eq!(
                unified(base, new, "a", "b"),
                similar_unified(base, new),
                "{new}"
            );
            assert_eq!(
                unified(new, base, "a", "b"),
                similar_unified(new, base),
                "{new}"
            );
        }
    }

    /// A configuration of `sections`, each a name and its server weights.
    fn config(sections: &[(u8, Vec<u8>)]) -> String {
        let mut out = String::from("global\n    log stdout\n");
        for (name, servers) in sections {
            out.push_str(&format!("\nbackend b{name}\n    balance roundrobin\n"));
            for (i, weight) in servers.iter().enumerate() {
                out.push_str(&format!("    server s{i} 10.0.0.{i}:80 weight {weight}\n"));
            }
        }
        out
    }

    /// The operations cover both sides in order, keep equal lines equal
    /// and turn `old` into `new`.
    fn turn_old_into_new(
        ops: &[DiffOp],
        old: &[&str],
        new: &[&str],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let (mut at_old, mut at_new) = (0, 0);
        let mut rebuilt: Vec<&str> = Vec::new();
        for op in ops {
            let (tag, o, n) = op.as_tag_tuple();
            proptest::prop_assert_eq!((o.start, n.start), (at_old, at_new));
            if tag == DiffTag::Equal {
                proptest::prop_assert_eq!(&old[o.clone()], &new[n.clone()]);
            }
            rebuilt.extend(&new[n.clone()]);
            (at_old, at_new) = (o.end, n.end);
        }
        proptest::prop_assert_eq!((at_old, at_new), (old.len(), new.len()));
        proptest::prop_assert_eq!(rebuilt, new);
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// Random configurations (names may repeat, lines collide): the
        /// operations cover both texts in order and turn the old one into
        /// the new one. Where several shortest diffs exist, the text may
        /// differ from a whole-file diff's; it is the same on the fixtures
        /// above and on the plans in tests/plans.
        #[test]
        fn the_operations_turn_old_into_new(
            old in proptest::collection::vec((0u8..12, proptest::collection::vec(0u8..4, 0..5)), 0..8),
            new in proptest::collection::vec((0u8..12, proptest::collection::vec(0u8..4, 0..5)), 0..8),
        ) {
            let (old, new) = (config(&old), config(&new));
            let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
            let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
            let ops = line_ops(&old, &old_lines, &new, &new_lines);
            turn_old_into_new(&ops, &old_lines, &new_lines)?;
        }

        /// Sequences cut at anchors (Myers given only a few pairs at once,
        /// so that small sequences take the path large ones take): the
        /// operations still cover both in order, keep equal items equal
        /// and turn the old one into the new one.
        #[test]
        fn cutting_at_anchors_keeps_a_correct_diff(
            old in proptest::collection::vec(0u8..24, 0..40),
            new in proptest::collection::vec(0u8..24, 0..40),
            pairs in 0usize..16,
        ) {
            let text = |items: &[u8]| items.iter().map(|i| format!("line {i}\n")).collect::<Vec<_>>();
            let (old, new) = (text(&old), text(&new));
            let old: Vec<&str> = old.iter().map(String::as_str).collect();
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            turn_old_into_new(&diff_within(&old, &new, pairs), &old, &new)?;
        }
    }

    /// Where every server changed, the unchanged lines between still
    /// match: the diff is what changed, not the whole text replaced.
    #[test]
    fn a_large_diff_keeps_what_did_not_change() {
        let text = |maxconn: u32| {
            let mut out = String::new();
            for b in 0..300 {
                out.push_str(&format!("set server b{b}/s weight 1\n"));
                out.push_str(&format!("set maxconn server b{b}/s {maxconn}\n"));
            }
            out
        };
        let (old, new) = (text(100), text(101));
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        assert!(old_lines.len() * new_lines.len() > MYERS_PAIRS / 4);
        let ops = diff_within(&old_lines, &new_lines, 1000);
        let unchanged: usize = ops
            .iter()
            .filter(|op| op.tag() == DiffTag::Equal)
            .map(|op| op.old_range().len())
            .sum();
        assert_eq!(unchanged, 300);
    }
}
