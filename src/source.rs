//! Source files and spans.
//!
//! Every file haptic reads (project files and the embedded standard library)
//! is registered once in a [`SourceMap`], which gives it a run of positions
//! of its own: one space of `u32` positions holds every file of a
//! compilation, like rustc's. Everything after parsing refers to text only
//! through a [`Span`], two positions: 8 bytes, where a file id and two
//! offsets took 12 (a large project's tree holds millions of spans).

use std::ops::Range;

/// A file of the [`SourceMap`], named by its first position. A file read
/// on its own (tests, the editor) may use `FileId(0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range of one source file, as positions (see [`SourceMap`]).
/// Ordering spans orders them by file (in the order files were read),
/// then by place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The span of `range` (byte offsets) in `file`.
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span {
            start: file.0 + range.start as u32,
            end: file.0 + range.end as u32,
        }
    }

    /// From the start of this span to the end of `other`, a later span of
    /// the same file.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.end),
        }
    }

    /// The part of this span at byte offsets `range` within it.
    pub fn slice(self, range: Range<usize>) -> Span {
        Span {
            start: self.start + range.start as u32,
            end: self.start + range.end as u32,
        }
    }
}

/// The most positions a compilation has: its files' sizes, plus one each.
pub const MAX_POSITIONS: u64 = u32::MAX as u64;

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown to users: relative to the project root, or `std/<name>.hap`.
    pub name: String,
    pub text: String,
    /// Where each line starts, for line and column lookups; found on the
    /// first lookup (only diagnostics need them).
    lines: std::sync::OnceLock<Lines>,
    /// The last column counted on a line that is not ASCII.
    last_column: LastColumn,
}

/// Where the last column was counted on a line that is not ASCII, and the
/// counts there: diagnostics are rendered in source order, so the next
/// column on the same line counts only the text between. Many diagnostics
/// on one long line otherwise counted it again for each.
#[derive(Debug, Default)]
struct LastColumn(std::sync::Mutex<Option<Counted>>);

#[derive(Debug, Clone, Copy)]
struct Counted {
    line: usize,
    offset: usize,
    chars: usize,
    utf16: usize,
}

impl Clone for LastColumn {
    fn clone(&self) -> LastColumn {
        LastColumn::default()
    }
}

/// What a column counts.
#[derive(Clone, Copy)]
enum Unit {
    Chars,
    Utf16,
}

impl SourceFile {
    pub fn new(name: String, text: String) -> SourceFile {
        SourceFile {
            name,
            text,
            lines: std::sync::OnceLock::new(),
            last_column: LastColumn::default(),
        }
    }

    fn lines(&self) -> &Lines {
        self.lines.get_or_init(|| {
            let mut lines = Lines {
                starts: vec![0],
                ascii: Vec::new(),
                lone_cr: false,
            };
            let mut at = 0;
            for line in self.text.split_inclusive('\n') {
                lines.ascii.push(line.is_ascii());
                at += line.len();
                let body = match line.strip_suffix('\n') {
                    Some(body) => {
                        lines.starts.push(at);
                        body.strip_suffix('\r').unwrap_or(body)
                    }
                    None => line,
                };
                lines.lone_cr |= body.contains('\r');
            }
            lines
        })
    }

    fn line_starts(&self) -> &[usize] {
        &self.lines().starts
    }

    /// Whether the text has a `\r` that does not end a line with the `\n`
    /// after it (lines are counted at `\n` here).
    pub fn has_lone_cr(&self) -> bool {
        self.lines().lone_cr
    }

    /// The 0-based line of a byte offset, and the offset where it starts.
    pub fn line_start(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line, line_starts[line])
    }

    /// The offset where a 0-based line starts (the end of the text past
    /// the last line).
    pub fn start_of_line(&self, line: usize) -> usize {
        self.line_starts()
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The 0-based line and the column in UTF-16 code units (what editors
    /// count) of a byte offset.
    pub fn line_utf16(&self, offset: usize) -> (usize, usize) {
        self.line_and_column(offset, Unit::Utf16)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let (line, column) = self.line_and_column(offset, Unit::Chars);
        (line + 1, column + 1)
    }

    /// The 0-based line of a byte offset, and its column in `unit`s. On an
    /// ASCII line every unit is a byte; on another, the text before the
    /// offset is counted, from the last offset counted on the same line
    /// when it is before ([`LastColumn`]).
    fn line_and_column(&self, offset: usize, unit: Unit) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let (line, start) = self.line_start(offset);
        if self.lines().ascii.get(line).copied().unwrap_or(true)
            || !self.text.is_char_boundary(offset)
        {
            return (line, offset - start);
        }
        let mut last = self
            .last_column
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut counted = match *last {
            Some(c) if c.line == line && c.offset <= offset => c,
            _ => Counted {
                line,
                offset: start,
                chars: 0,
                utf16: 0,
            },
        };
        for c in self.text[counted.offset..offset].chars() {
            counted.chars += 1;
            counted.utf16 += c.len_utf16();
        }
        counted.offset = offset;
        *last = Some(counted);
        let column = match unit {
            Unit::Chars => counted.chars,
            Unit::Utf16 => counted.utf16,
        };
        (line, column)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let line_starts = self.line_starts();
        let start = line_starts.get(line - 1).copied().unwrap_or(0);
        let end = line_starts.get(line).map_or(self.text.len(), |e| e - 1);
        self.text.get(start..end).unwrap_or("")
    }
}

/// Where each line of a file starts, and whether it is ASCII.
#[derive(Debug, Clone)]
struct Lines {
    starts: Vec<usize>,
    ascii: Vec<bool>,
    /// Whether a `\r` not before a `\n` is anywhere: a line break to some
    /// readers (miette), not to this index.
    lone_cr: bool,
}

/// All files of one compilation. Each file's positions start one past the
/// end of the previous file's, so a span at the end of one file is never
/// the start of the next.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The first position of each file, increasing.
    starts: Vec<u32>,
}

impl SourceMap {
    /// Registers a file; `None` where its positions would end past `limit`
    /// (at most [`MAX_POSITIONS`]: over 4 GiB of sources).
    pub fn add(&mut self, name: String, text: String, limit: u64) -> Option<FileId> {
        let start = match (self.files.last(), self.starts.last()) {
            (Some(file), Some(&start)) => u64::from(start) + file.text.len() as u64 + 1,
            _ => 0,
        };
        if start + text.len() as u64 > limit.min(MAX_POSITIONS) {
            return None;
        }
        let start = start as u32;
        self.files.push(SourceFile::new(name, text));
        self.starts.push(start);
        Some(FileId(start))
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[self.index(id.0)]
    }

    /// The file a span is in.
    pub fn file_of(&self, span: Span) -> FileId {
        FileId(self.starts[self.index(span.start)])
    }

    /// The file a span is in, and its byte range there.
    pub fn locate(&self, span: Span) -> (&SourceFile, Range<usize>) {
        let i = self.index(span.start);
        let start = self.starts[i];
        let end = span.end.max(span.start);
        (
            &self.files[i],
            (span.start - start) as usize..(end - start) as usize,
        )
    }

    /// The index of the file holding `position`.
    fn index(&self, position: u32) -> usize {
        self.starts
            .partition_point(|&start| start <= position)
            .saturating_sub(1)
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(self.starts[i]))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.starts.iter().map(|&s| FileId(s)).zip(&self.files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns counted from the last one on the same line are the columns
    /// counted from the line's start, whatever the order of the questions.
    #[test]
    fn columns_on_a_line_that_is_not_ascii_do_not_depend_on_the_order_asked() {
        let text = "ascii line\nxé😀y — zz é\n😀\nlast é";
        let file = SourceFile::new("t.hap".into(), text.into());
        let expected = |offset: usize| {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[start..offset];
            (before.chars().count(), before.encode_utf16().count())
        };
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let orders = [
            boundaries.clone(),
            boundaries.iter().rev().copied().collect::<Vec<_>>(),
            boundaries
                .iter()
                .map(|&i| boundaries[(i * 7) % boundaries.len()])
                .collect(),
        ];
        for order in orders {
            for &offset in &order {
                let (chars, utf16) = expected(offset);
                assert_eq!(file.line_col(offset).1, chars + 1, "chars at {offset}");
                assert_eq!(file.line_utf16(offset).1, utf16, "utf16 at {offset}");
            }
        }
    }

    #[test]
    fn each_file_has_positions_of_its_own() {
        let mut map = SourceMap::default();
        let a = map
            .add("a.hap".into(), "abc".into(), MAX_POSITIONS)
            .unwrap();
        let empty = map
            .add("e.hap".into(), String::new(), MAX_POSITIONS)
            .unwrap();
        let b = map
            .add("b.hap".into(), "xy\nz".into(), MAX_POSITIONS)
            .unwrap();
        assert_eq!((a, empty, b), (FileId(0), FileId(4), FileId(5)));
        // The end of one file is not the start of the next.
        let end_of_a = Span::new(a, 3..3);
        assert_eq!(map.file_of(end_of_a), a);
        assert_eq!(map.file_of(Span::new(empty, 0..0)), empty);
        let z = Span::new(b, 3..4);
        assert_eq!(map.file_of(z), b);
        let (file, range) = map.locate(z);
        assert_eq!((file.name.as_str(), range.clone()), ("b.hap", 3..4));
        assert_eq!(file.line_col(range.start), (2, 1));
        assert_eq!(map.get(b).name, "b.hap");
        assert_eq!(map.find("b.hap"), Some(b));
        assert_eq!(Span::new(b, 0..4).slice(3..4), z);
    }

    #[test]
    fn lines_and_columns_count_characters() {
        let naive = |text: &str, offset: usize| {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            (line, before[start..].chars().count() + 1)
        };
        for text in [
            "",
            "a",
            "a\n",
            "ab\ncd\n\nef",
            "é\nxé y\r\nz",
            "\n\n",
            "日本\nabc",
        ] {
            let file = SourceFile::new("t.hap".into(), text.into());
            for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
                assert_eq!(
                    file.line_col(offset),
                    naive(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn editors_count_columns_in_utf16() {
        let file = SourceFile::new("t.hap".into(), "ab\n𝄞é x\n".into());
        assert_eq!(file.line_utf16(1), (0, 1));
        assert_eq!(file.line_utf16(3), (1, 0));
        // 𝄞 is two UTF-16 units and four bytes, é one unit and two bytes.
        assert_eq!(file.line_utf16(3 + 4), (1, 2));
        assert_eq!(file.line_utf16(3 + 4 + 2 + 1), (1, 4));
        assert_eq!(file.line_utf16(100), (2, 0));
    }

    #[test]
    fn a_file_past_the_limit_is_refused() {
        let mut map = SourceMap::default();
        map.add("a.hap".into(), "abc".into(), 10).unwrap();
        assert_eq!(map.add("b.hap".into(), "0123456".into(), 10), None);
        assert_eq!(
            map.add("c.hap".into(), "012345".into(), 10),
            Some(FileId(4))
        );
        assert_eq!(map.files().count(), 2);
    }
}
