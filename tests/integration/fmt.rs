//! `haptic fmt`: over every source the tests and examples hold, formatting
//! is idempotent and changes nothing that the compiler sees: the same
//! diagnostics (codes), the same `haproxy.cfg` and `runtime.txt` bodies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haptic::fmt::format;
use proptest::prelude::*;

use crate::support::{self, haptic, TempProject};

fn hap_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hap_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "hap") {
            out.push(path);
        }
    }
}

/// The meaning ([`meaning`]) of a project of one file, `source`.
fn bodies(source: &str) -> (Vec<&'static str>, Vec<String>) {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("haptic.toml".into(), support::MANIFEST.as_bytes().to_vec());
    files.insert("main.hap".into(), source.as_bytes().to_vec());
    meaning(&haptic::driver::compile_from(Path::new("."), &files).unwrap())
}

#[test]
fn formatting_is_idempotent_and_preserves_meaning() {
    let root = support::repo_root();
    let mut files = Vec::new();
    for dir in ["tests/cases", "tests/plans", "examples", "stdlib"] {
        hap_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (codes, outputs) = bodies(&text);
        if codes
            .iter()
            .any(|c| ["E0001", "E0002", "E0003"].contains(c))
        {
            continue;
        }
        let once = format(&text);
        assert_eq!(format(&once), once, "{} is not stable", file.display());
        let (codes_after, outputs_after) = bodies(&once);
        assert_eq!(codes, codes_after, "{}\n{once}", file.display());
        assert_eq!(outputs, outputs_after, "{}\n{once}", file.display());
        checked += 1;
    }
    assert!(checked > 60, "{checked}");
}

#[test]
fn examples_and_stdlib_are_formatted() {
    for (name, text) in haptic::project::STD_MODULES {
        assert_eq!(&format(text), text, "stdlib/{name}.hap");
    }
    for example in ["webapp", "shop", "api-gateway"] {
        let out = haptic(
            &["fmt", "--check"],
            &support::repo_root().join("examples").join(example),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn fmt_rewrites_and_check_reports() {
    let project = TempProject::single("env   production\nbackend b{server s=10.0.0.1:80}\nfrontend f { bind :8080\n\n\n default -> b }\n");
    let out = haptic(&["fmt", "--check"], project.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+backend b { server s = 10.0.0.1:80 }"));
    assert_eq!(haptic(&["fmt"], project.path()).status.code(), Some(0));
    let text = std::fs::read_to_string(project.path().join("main.hap")).unwrap();
    assert_eq!(text, "env production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080\n\n  default -> b }\n");
    assert_eq!(
        haptic(&["fmt", "--check"], project.path()).status.code(),
        Some(0)
    );
    // A file with a syntax error is left alone.
    let broken = TempProject::single("env production\nbackend b {\n");
    assert_eq!(haptic(&["fmt"], broken.path()).status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(broken.path().join("main.hap")).unwrap(),
        "env production\nbackend b {\n"
    );
}

/// The codes of `c`'s diagnostics and its outputs' bodies (header comments
/// left out: they hold the sources' hash).
fn meaning(c: &haptic::driver::Compilation) -> (Vec<&'static str>, Vec<String>) {
    let outputs = c
        .outputs()
        .iter()
        .flat_map(|o| [support::body(&o.haproxy_cfg), support::body(&o.runtime_txt)])
        .collect();
    (support::codes(c), outputs)
}

/// Formats the file `name` of `files`, if `haptic fmt` formats the
/// project (no syntax error in it), and asserts that the result is stable and
/// that the project means the same: the same diagnostics' codes, the
/// same outputs.
fn formats_without_change_of_meaning(
    mut files: BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Result<(), TestCaseError> {
    let Ok(before) = haptic::driver::compile_from(Path::new("."), &files) else {
        return Ok(());
    };
    // As `haptic fmt`, which formats nothing while a file has one.
    if before
        .diagnostics
        .iter()
        .any(|d| haptic::fmt::stops_formatting(d.code))
    {
        return Ok(());
    }
    let text = String::from_utf8(files[name].clone()).unwrap();
    let once = format(&text);
    prop_assert_eq!(&format(&once), &once, "formatting {} is not stable", name);
    files.insert(name.to_string(), once.clone().into_bytes());
    let after = haptic::driver::compile_from(Path::new("."), &files).unwrap();
    prop_assert_eq!(
        meaning(&before),
        meaning(&after),
        "{} formatted:\n{}",
        name,
        once
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// The examples edited line by line (as the judged tests edit them)
    /// or byte by byte (as the hostile ones do), then formatted: what
    /// still parses formats to a stable text that means what it meant.
    #[test]
    fn edited_examples_format_without_change_of_meaning(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(crate::judged::edit(), 0..4),
        mutations in prop::collection::vec(crate::hostile::mutation(), 0..3),
    ) {
        let (name, mut files) = crate::judged::edited_files(example, file, |lines| {
            for e in &edits {
                crate::judged::apply(lines, e);
            }
        });
        let content = files.get_mut(&name).unwrap();
        for m in &mutations {
            crate::hostile::apply(content, m);
        }
        formats_without_change_of_meaning(files, &name)?;
    }
}
