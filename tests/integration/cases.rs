//! Data-driven cases: every `tests/cases/<area>/<name>.hap` is a one-file
//! project. Its header says what to expect:
//!
//! ```text
//! //! expect: E0201 E0202 E0102     (the codes, in source order), or `ok`
//! //! manifest: [lints]            (lines appended to haptic.toml)
//! //! manifest: unused-backend = "deny"
//! ```
//!
//! A case of several files holds them all: each `//! file: PATH` line
//! starts the next file of the project, and what comes before the first
//! one is `main.hap`.
//!
//! `tests/cases/poor/` (when there are any) holds known-poor messages still
//! to improve: each case says what is wrong with its message, and its
//! snapshot shows it.
//!
//! The rendered diagnostics and, when there is no error, every
//! environment's `haproxy.cfg` and `runtime.txt` are snapshotted; outputs
//! must pass the real `haproxy -c -dW`. Adding a case is adding a file.

use std::path::{Path, PathBuf};

use crate::support::{self, TempProject};

struct Case {
    name: String,
    /// The case file as written.
    source: String,
    /// The project's `.hap` files: `main.hap` first.
    files: Vec<(String, String)>,
    expect: Vec<String>,
    manifest: String,
}

fn load_cases() -> Vec<Case> {
    let root = support::repo_root().join("tests/cases");
    let mut files: Vec<PathBuf> = Vec::new();
    for area in std::fs::read_dir(&root).expect("tests/cases exists") {
        let area = area.unwrap().path();
        if !area.is_dir() || area.file_name().is_some_and(|n| n == "snapshots") {
            continue;
        }
        for file in std::fs::read_dir(&area).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "hap") {
                files.push(file);
            }
        }
    }
    files.sort();
    files.iter().map(|f| parse_case(&root, f)).collect()
}

impl Case {
    /// The case's files as a project holds them, its manifest included.
    fn sources(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let manifest = (
            "haptic.toml".to_string(),
            self.manifest.clone().into_bytes(),
        );
        let files = self
            .files
            .iter()
            .map(|(path, text)| (path.clone(), text.clone().into_bytes()));
        std::iter::once(manifest).chain(files).collect()
    }
}

/// Each case whose project loads, with its files and its compilation.
fn compiled_cases() -> impl Iterator<
    Item = (
        Case,
        std::collections::BTreeMap<String, Vec<u8>>,
        haptic::driver::Compilation,
    ),
> {
    load_cases().into_iter().filter_map(|case| {
        let files = case.sources();
        let compilation = haptic::driver::compile_from(Path::new("."), &files).ok()?;
        Some((case, files, compilation))
    })
}

fn parse_case(root: &Path, file: &Path) -> Case {
    let source = std::fs::read_to_string(file).unwrap();
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let name = rel.to_string_lossy().replace('/', "__");
    let mut expect = None;
    let mut manifest = String::from(support::MANIFEST);
    let mut files = vec![("main.hap".to_string(), String::new())];
    for line in source.lines() {
        if let Some(path) = line.strip_prefix("//! file:") {
            files.push((path.trim().to_string(), String::new()));
            continue;
        }
        let text = &mut files.last_mut().expect("main.hap is first").1;
        text.push_str(line);
        text.push('\n');
        if let Some(rest) = line.strip_prefix("//! expect:") {
            let codes: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
            expect = Some(if codes == ["ok"] { Vec::new() } else { codes });
        } else if let Some(rest) = line.strip_prefix("//! manifest:") {
            manifest.push_str(rest.trim());
            manifest.push('\n');
        }
    }
    Case {
        expect: expect.unwrap_or_else(|| panic!("{}: missing `//! expect:` line", file.display())),
        name,
        source,
        files,
        manifest,
    }
}

#[test]
fn cases() {
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "expected the case corpus, found {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let mut files = vec![("haptic.toml", case.manifest.as_str())];
        files.extend(case.files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        let project = TempProject::new(&files);
        let compilation = project.compile();
        let codes = support::codes(&compilation);
        if codes != case.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}\n{}",
                case.name,
                case.expect,
                codes,
                support::rendered(&compilation)
            ));
            continue;
        }
        let mut snapshot = String::new();
        if !compilation.diagnostics.is_empty() {
            snapshot.push_str("=== diagnostics ===\n");
            snapshot.push_str(&support::rendered(&compilation));
        }
        let outputs = compilation.outputs();
        for output in &outputs {
            for (file, content) in output.files() {
                snapshot.push_str(&format!("=== {}/{file} ===\n{content}", output.env));
            }
            if let Err(e) = support::haproxy_check_output(output) {
                failures.push(format!("{} ({}): {e}", case.name, output.env));
            }
        }
        if !compilation.has_errors() && outputs.is_empty() {
            failures.push(format!("{}: no error, but no output", case.name));
        }
        insta::with_settings!({
            snapshot_path => support::repo_root().join("tests/cases/snapshots"),
            prepend_module_to_snapshot => false,
            description => case.source.as_str(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(case.name.as_str(), snapshot);
        });
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every replacement a diagnostic of the corpus suggests (the nearest name
/// of a misspelt one, which `--format json` and the language server's
/// quick fix give) fixes it: written in place of the text at its span,
/// the diagnostic is gone.
#[test]
fn every_suggested_replacement_fixes_its_diagnostic() {
    let mut tried = 0;
    for (case, files, compilation) in compiled_cases() {
        for d in &compilation.diagnostics {
            let (Some(fix), Some(span)) = (&d.fix, d.span) else {
                continue;
            };
            let with = &fix.replacement;
            let (file, range) = compilation.project.sources.locate(span);
            let (name, start) = (file.name.clone(), range.start);
            let mut fixed = files.clone();
            let text = fixed.get_mut(&name).expect("a file of the case");
            text.splice(range, with.bytes());
            let again = haptic::driver::compile_from(Path::new("."), &fixed).unwrap();
            let still = again.diagnostics.iter().any(|e| {
                e.code == d.code
                    && e.span.is_some_and(|s| {
                        let (f, r) = again.project.sources.locate(s);
                        f.name == name && r.start == start
                    })
            });
            assert!(
                !still,
                "{}: `{with}` does not fix: {}",
                case.name, d.message
            );
            // Nor does it break what parsed.
            let syntax = |c: &haptic::driver::Compilation| {
                c.diagnostics
                    .iter()
                    .filter(|e| e.code == haptic::diag::Code::Syntax)
                    .count()
            };
            assert!(
                syntax(&again) <= syntax(&compilation),
                "{}: `{with}` makes a syntax error: {}",
                case.name,
                d.message
            );
            tried += 1;
        }
    }
    assert!(tried >= 15, "only {tried} replacements in the corpus");
}

/// No diagnostic of the corpus underlines the blank space or the comment
/// around what it points at: a span ends at its last token, even where
/// the parser looked past it for an optional part (`bind :8080` then a
/// new line, `guard hsts` then a blank line).
#[test]
fn no_span_of_a_diagnostic_takes_in_trivia() {
    let mut seen = 0;
    for (case, _, compilation) in compiled_cases() {
        for d in &compilation.diagnostics {
            let spans = d.span.into_iter().chain(d.labels.iter().map(|l| l.span));
            for span in spans.filter(|s| s.end > s.start) {
                let (file, range) = compilation.project.sources.locate(span);
                let text = &file.text[range];
                let last_line = text.rsplit('\n').next().unwrap_or(text);
                assert!(
                    !text.starts_with(char::is_whitespace)
                        && !text.ends_with(char::is_whitespace)
                        && !last_line.trim_start().starts_with("//"),
                    "{}: {} {}: the span {text:?} takes in trivia",
                    case.name,
                    d.code,
                    d.message
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 200, "only {seen} spans in the corpus");
}

/// Every diagnostic of the corpus says how to fix it: a `help:` line, as
/// the quality bar asks (a code, the place, the reason, a fix).
#[test]
fn every_diagnostic_of_the_corpus_has_help() {
    let mut missing = Vec::new();
    let mut seen = 0;
    for (case, _, compilation) in compiled_cases() {
        for d in &compilation.diagnostics {
            seen += 1;
            if d.help.is_empty() {
                missing.push(format!("{}: {} {}", case.name, d.code, d.message));
            }
        }
    }
    assert!(seen >= 150, "only {seen} diagnostics in the corpus");
    assert!(missing.is_empty(), "without help:\n{}", missing.join("\n"));
}
