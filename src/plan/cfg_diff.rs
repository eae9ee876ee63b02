//! The unified diff of two `haproxy.cfg` texts, section by section.
//!
//! A Myers diff of whole files costs the length times the number of
//! changes: a merge request that touches one server in a hundred of 20,000
//! backends spent a second there. The sections of a configuration (a
//! header line or a blank line, and the indented lines under it) are diffed
//! first, as units; only the runs of sections that differ are diffed line
//! by line. The text is written as `similar`'s unified diff writes it
//! (`---`/`+++` header, `@@ -a,b +c,d @@` hunks, three lines of context).

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
/// is not indented (a section header, or a blank line).
fn sections(lines: &[&str]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match out.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => last.end = i + 1,
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
    for op in capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
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
        for line_op in
            capture_diff_slices(Algorithm::Myers, &old_lines[old_run], &new_lines[new_run])
        {
            push(line_op);
        }
    }
    ops
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
            let (mut at_old, mut at_new) = (0, 0);
            let mut rebuilt: Vec<&str> = Vec::new();
            for op in line_ops(&old, &old_lines, &new, &new_lines) {
                let (tag, o, n) = op.as_tag_tuple();
                proptest::prop_assert_eq!((o.start, n.start), (at_old, at_new));
                if tag == DiffTag::Equal {
                    proptest::prop_assert_eq!(&old_lines[o.clone()], &new_lines[n.clone()]);
                }
                rebuilt.extend(&new_lines[n.clone()]);
                (at_old, at_new) = (o.end, n.end);
            }
            proptest::prop_assert_eq!((at_old, at_new), (old_lines.len(), new_lines.len()));
            proptest::prop_assert_eq!(rebuilt, new_lines);
        }
    }
}
