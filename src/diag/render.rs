//! Renderings of [`Diagnostic`]s. This is the only file that knows miette.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan, SpanContents};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::source::{SourceFile, SourceMap, Span};

/// Version of the JSON envelope; bumped only on incompatible changes.
pub const JSON_VERSION: u32 = 1;

struct MietteView<'a> {
    diag: &'a Diagnostic,
    sources: &'a SourceMap,
    source: Option<Snippet<'a>>,
    /// The labels shown in the snippet (the others are help lines).
    shown: Vec<&'a super::Label>,
    help: Option<String>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self.diag.span?;
        let file = self.sources.file_of(primary);
        // A label at the primary span is its text, not a second underline.
        let own = self.shown.iter().find(|l| l.span == primary);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            own.map(|l| l.message.clone()),
            self.sources.locate(primary).1,
        )];
        // Labels in other files, or far from the primary span, are help
        // lines instead (see `terminal`).
        let others = self
            .shown
            .iter()
            .filter(|l| !own.is_some_and(|own| std::ptr::eq(*l, own)));
        labels.extend(others.map(|l| {
            debug_assert_eq!(self.sources.file_of(l.span), file);
            let range = self.sources.locate(l.span).1;
            LabeledSpan::new_with_span(Some(l.message.clone()), range)
        }));
        Some(Box::new(labels.into_iter()))
    }
}

/// A source file as miette reads it for a snippet. miette's own reading of
/// a string scans it from the start for every span, which made a large
/// file with many diagnostics quadratic (2,000 errors in a 3 MiB file took
/// 12 s); here miette reads from the first line it shows, found with the
/// file's line index, and what it reads is shifted back into place.
struct Snippet<'a>(&'a SourceFile);

impl miette::SourceCode for Snippet<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let text = self.0.text.as_bytes();
        // From one line more than shown (miette looks at the byte before an
        // empty span); from the start where a lone `\r` is in the text,
        // which miette counts as a line break and the line index does not.
        let (first, start) = if self.0.has_lone_cr() {
            (0, 0)
        } else {
            let (line, _) = self.0.line_start(span.offset());
            let first = line.saturating_sub(context_lines_before + 1);
            (first, self.0.start_of_line(first))
        };
        let window = &text[start..];
        let inner = <[u8] as miette::SourceCode>::read_span(
            window,
            &SourceSpan::new((span.offset() - start).into(), span.len()),
            context_lines_before,
            context_lines_after,
        )?;
        // The window starts `first` lines and `start` bytes into the file.
        let at = SourceSpan::new((inner.span().offset() + start).into(), inner.span().len());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.0.name.clone(),
            inner.data(),
            at,
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// The most lines a snippet shows between its first and last span.
const MAX_SNIPPET_LINES: usize = 20;

/// The most bytes a snippet shows, context lines included.
const MAX_SNIPPET_BYTES: usize = 2000;

/// Whether `diag` gets a snippet around `span`, and which of its labels
/// are drawn there (the others become help lines with their places).
///
/// A snippet shows every line from its first span to its last, and a line
/// of context on each side. Without bounds, a label far away (the first of
/// thousands of routes, shadowing the others) or a very long line
/// (generated sources) made each diagnostic print the same text again:
/// reports in the square of the mistakes. So a label is drawn only while
/// the snippet stays within [`MAX_SNIPPET_LINES`] and
/// [`MAX_SNIPPET_BYTES`], and a span whose own lines exceed the bytes gets
/// no snippet.
fn snippet<'d>(
    diag: &'d Diagnostic,
    span: Span,
    sources: &SourceMap,
) -> Option<Vec<&'d super::Label>> {
    let (file, range) = sources.locate(span);
    let lines = |range: std::ops::Range<usize>| {
        (file.line_start(range.start).0, file.line_start(range.end).0)
    };
    let bytes = |(first, last): (usize, usize)| {
        file.start_of_line(last + 2) - file.start_of_line(first.saturating_sub(1))
    };
    let mut shown_lines = lines(range);
    if bytes(shown_lines) > MAX_SNIPPET_BYTES {
        return None;
    }
    let mut shown = Vec::new();
    for label in &diag.labels {
        if sources.file_of(label.span) != sources.file_of(span) {
            continue;
        }
        let (first, last) = lines(sources.locate(label.span).1);
        let with = (shown_lines.0.min(first), shown_lines.1.max(last));
        if with.1 - with.0 <= MAX_SNIPPET_LINES && bytes(with) <= MAX_SNIPPET_BYTES {
            shown.push(label);
            shown_lines = with;
        }
    }
    Some(shown)
}

/// Renders diagnostics for a terminal, with source snippets.
pub fn terminal(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diag in diags {
        let mut help: Vec<String> = Vec::new();
        let (source, shown) = match diag.span {
            Some(span) => match snippet(diag, span, sources) {
                Some(shown) => (Some(Snippet(sources.locate(span).0)), shown),
                None => {
                    let (file, range) = sources.locate(span);
                    let (line, col) = file.line_col(range.start);
                    help.push(format!(
                        "at {}:{line}:{col} (its lines are too long to show)",
                        file.name
                    ));
                    (None, Vec::new())
                }
            },
            None => (None, Vec::new()),
        };
        help.extend(diag.help.iter().cloned());
        for label in &diag.labels {
            if !shown.iter().any(|s| std::ptr::eq(*s, label)) {
                let (file, range) = sources.locate(label.span);
                let (line, col) = file.line_col(range.start);
                help.push(format!("{} (at {}:{line}:{col})", label.message, file.name));
            }
        }
        let view = MietteView {
            diag,
            sources,
            source,
            shown,
            help: (!help.is_empty()).then(|| help.join("\n")),
        };
        // Rendering into a String cannot fail.
        let _ = handler.render_report(&mut out, &view);
        out.push('\n');
    }
    out
}

/// A one-line summary such as `error: 3 errors, 1 warning emitted`.
pub fn summary(diags: &[Diagnostic]) -> Option<String> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => None,
        (0, w) => Some(format!("warning: {} emitted", plural(w, "warning"))),
        (e, 0) => Some(format!("error: could not compile: {}", plural(e, "error"))),
        (e, w) => Some(format!(
            "error: could not compile: {}, {}",
            plural(e, "error"),
            plural(w, "warning")
        )),
    }
}

#[derive(Serialize)]
struct JsonEnvelope<'a> {
    version: u32,
    tool: &'static str,
    tool_version: &'static str,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    help: &'a [String],
    /// The environments it was found in; empty when it does not depend on one.
    environments: &'a [String],
    #[serde(flatten)]
    location: Option<JsonLocation>,
    labels: Vec<JsonLabel<'a>>,
    /// What replaces the text at the location to fix it, where haptic
    /// knows (the nearest name of a misspelt one, a value without its
    /// quotes).
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    #[serde(flatten)]
    location: JsonLocation,
}

/// A place in a file: 1-based line and column (in characters), and the
/// 0-based byte range.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

pub fn location(span: Span, sources: &SourceMap) -> JsonLocation {
    let (file, range) = sources.locate(span);
    let (line, column) = file.line_col(range.start);
    let (end_line, end_column) = file.line_col(range.end);
    JsonLocation {
        file: file.name.clone(),
        line,
        column,
        end_line,
        end_column,
        byte_start: range.start,
        byte_end: range.end,
    }
}

/// The versioned JSON envelope of `haptic check --format json`.
pub fn json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let envelope = JsonEnvelope {
        version: JSON_VERSION,
        tool: "haptic",
        tool_version: env!("CARGO_PKG_VERSION"),
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code.as_str(),
                name: d.code.name(),
                severity: d.severity.as_str(),
                message: &d.message,
                help: &d.help,
                environments: &d.envs,
                location: d.span.map(|s| location(s, sources)),
                labels: d
                    .labels
                    .iter()
                    .map(|l| JsonLabel {
                        message: &l.message,
                        location: location(l.span, sources),
                    })
                    .collect(),
                replacement: d.fix.as_ref().map(|f| f.replacement.as_str()),
            })
            .collect(),
        summary: JsonSummary {
            errors,
            warnings: diags.len() - errors,
        },
    };
    // Serialising plain data to a String cannot fail.
    serde_json::to_string_pretty(&envelope).unwrap_or_default() + "\n"
}

/// A stable identity for a finding that does not change when lines are
/// inserted above it: the code, file, message and the text at the place,
/// plus how many identical findings came before it.
fn fingerprints(diags: &[Diagnostic], sources: &SourceMap) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    diags
        .iter()
        .map(|d| {
            let (file, snippet) = match d.span {
                Some(span) => {
                    let (f, range) = sources.locate(span);
                    (f.name.as_str(), f.text.get(range).unwrap_or(""))
                }
                None => ("", ""),
            };
            let identity = format!("{}\0{file}\0{}\0{snippet}", d.code, d.message);
            let n = seen.entry(identity.clone()).or_default();
            *n += 1;
            let digest = Sha256::digest(format!("{identity}\0{n}").as_bytes());
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

/// The path of a file as the repository sees it: `prefix` is the project
/// directory relative to the repository's top (`lb/`), empty at the top.
/// Files of the embedded standard library keep their `std/` name.
fn repo_path(file: &str, prefix: &str) -> String {
    if file.starts_with("std/") {
        file.to_string()
    } else {
        format!("{prefix}{file}")
    }
}

#[derive(Serialize)]
struct CodeQuality<'a> {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: CqLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<CqContent<'a>>,
}

#[derive(Serialize)]
struct CqContent<'a> {
    body: &'a str,
}

#[derive(Serialize)]
struct CqLocation {
    path: String,
    lines: CqLines,
}

#[derive(Serialize)]
struct CqLines {
    begin: usize,
}

/// A GitLab Code Quality report (an array of findings).
pub fn gitlab(diags: &[Diagnostic], sources: &SourceMap, prefix: &str) -> String {
    let prints = fingerprints(diags, sources);
    let findings: Vec<CodeQuality> = diags
        .iter()
        .zip(prints)
        .map(|(d, fingerprint)| {
            let (path, line) = match d.span {
                Some(span) => {
                    let loc = location(span, sources);
                    (repo_path(&loc.file, prefix), loc.line)
                }
                None => (format!("{prefix}haptic.toml"), 1),
            };
            let mut description = format!("{}: {}", d.code, d.message);
            if let Some(help) = d.help.first() {
                description.push_str(&format!(" (help: {help})"));
            }
            CodeQuality {
                description,
                check_name: d.code.name(),
                fingerprint,
                severity: match d.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "minor",
                },
                location: CqLocation {
                    path,
                    lines: CqLines { begin: line },
                },
                content: Some(CqContent {
                    body: d.code.explanation(),
                }),
            }
        })
        .collect();
    serde_json::to_string_pretty(&findings).unwrap_or_default() + "\n"
}

/// A SARIF 2.1.0 log: one run, the codes as rules with their explanation,
/// 1-based lines and columns.
pub fn sarif(diags: &[Diagnostic], sources: &SourceMap, prefix: &str) -> String {
    use serde_json::json;
    let mut codes: Vec<super::Code> = diags.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": c.explanation() },
                "help": { "text": c.explanation() },
                "defaultConfiguration": { "level": c.default_severity().as_str() },
            })
        })
        .collect();
    let prints = fingerprints(diags, sources);
    let results: Vec<serde_json::Value> = diags
        .iter()
        .zip(prints)
        .map(|(d, fingerprint)| {
            let mut message = d.message.clone();
            for help in &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            // Where it is: the file and the region.
            let place = d.span.map(|span| {
                let loc = location(span, sources);
                let region = json!({
                    "startLine": loc.line,
                    "startColumn": loc.column,
                    "endLine": loc.end_line,
                    "endColumn": loc.end_column,
                    "byteOffset": loc.byte_start,
                    "byteLength": loc.byte_end - loc.byte_start,
                });
                (json!({ "uri": repo_path(&loc.file, prefix) }), region)
            });
            let locations: Vec<serde_json::Value> = place
                .iter()
                .map(|(artifact, region)| {
                    json!({ "physicalLocation": { "artifactLocation": artifact, "region": region } })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": d.severity.as_str(),
                "message": { "text": message },
                "locations": locations,
                "partialFingerprints": { "haptic/v1": fingerprint },
            });
            if let (Some(fix), Some((artifact, region))) = (&d.fix, &place) {
                result["fixes"] = json!([{
                    "description": { "text": format!("replace with `{}`", fix.replacement) },
                    "artifactChanges": [{
                        "artifactLocation": artifact,
                        "replacements": [{
                            "deletedRegion": region,
                            "insertedContent": { "text": fix.replacement },
                        }],
                    }],
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "haptic",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::SourceCode;

    /// What a snippet reads is what miette reads from the whole text.
    #[test]
    fn snippets_read_what_miette_reads() {
        for text in [
            "line one\n\nthird ünïcode line\r\nfourth\n  fifth\nlast",
            "\n\na\r\n\r\nb\n",
            "old\rmac\rlines\n",
            "",
            "no newline at the end",
        ] {
            same_snippets(text);
        }
    }

    fn same_snippets(text: &str) {
        let file = SourceFile::new("t.hap".into(), text.into());
        let snippet = Snippet(&file);
        for start in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            for len in [0, 1, 5, 14] {
                let len = len.min(text.len() - start);
                let span = SourceSpan::new(start.into(), len);
                for context in [0, 1, 2] {
                    let ours = snippet.read_span(&span, context, context);
                    let theirs = text.read_span(&span, context, context);
                    let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
                        continue;
                    };
                    let seen = |c: &dyn SpanContents| {
                        (
                            c.data().to_vec(),
                            *c.span(),
                            c.line(),
                            c.column(),
                            c.line_count(),
                        )
                    };
                    assert_eq!(
                        seen(&*ours),
                        seen(&*theirs),
                        "{start}+{len}, {context} lines"
                    );
                    assert_eq!(ours.name(), Some("t.hap"));
                }
            }
        }
    }
}
