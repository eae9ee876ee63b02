//! Every example compiles without a diagnostic, every environment passes
//! the real `haproxy -c -dW`, and the committed outputs are up to date.

use crate::support::{self, assert_outputs_pass_haproxy};

fn examples() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(support::repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("haptic.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn there_are_at_least_three_examples() {
    assert!(examples().len() >= 3, "{:?}", examples());
}

#[test]
fn examples_compile_cleanly_and_pass_haproxy() {
    for dir in examples() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let compilation = haptic::driver::compile(&dir).expect("example loads");
        assert!(
            compilation.diagnostics.is_empty(),
            "example {name} has diagnostics:\n{}",
            support::rendered(&compilation)
        );
        let outputs = compilation.outputs();
        assert!(!outputs.is_empty(), "example {name} has no environment");
        assert_outputs_pass_haproxy(&outputs, &format!("example {name}"));
        for output in &outputs {
            insta::assert_snapshot!(
                format!("example_{name}_{}_haproxy_cfg", output.env),
                output.haproxy_cfg
            );
        }
    }
}

#[test]
fn committed_example_outputs_are_fresh() {
    for dir in examples() {
        let out = support::haptic(&["compile", "--check", "."], &dir);
        assert!(
            out.status.success(),
            "{}: `haptic compile --check` failed (run `haptic compile` in the example and commit):\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A checkout with Windows line endings (Git's `core.autocrlf`) is the
/// same project: its outputs are the committed ones byte for byte (the
/// sources' hash reads `\r\n` as `\n`), so `compile --check` passes, and
/// `fmt --check` passes (the formatter keeps the files' endings).
#[test]
fn a_checkout_with_windows_line_endings_is_the_same_project() {
    let shop = support::repo_root().join("examples/shop");
    let copy = tempfile::tempdir().unwrap();
    let mut converted = 0;
    for entry in walk(&shop) {
        let rel = entry.strip_prefix(&shop).unwrap();
        let to = copy.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let bytes = std::fs::read(&entry).unwrap();
        let is_source = rel.extension().is_some_and(|e| e == "hap" || e == "toml");
        if is_source {
            let text = String::from_utf8(bytes).unwrap().replace('\n', "\r\n");
            std::fs::write(&to, text).unwrap();
            converted += 1;
        } else {
            std::fs::write(&to, bytes).unwrap();
        }
    }
    assert!(converted >= 6, "{converted} sources converted");
    for args in [
        &["compile", "--check", "."][..],
        &["fmt", "--check", "."][..],
    ] {
        let out = support::haptic(args, copy.path());
        assert!(
            out.status.success(),
            "{args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn stdlib_modules_parse_without_diagnostics() {
    for (name, text) in haptic::project::STD_MODULES {
        let (_, diags) = haptic::syntax::parse(haptic::source::FileId(0), text);
        assert!(diags.is_empty(), "std/{name}.hap: {diags:?}");
    }
}

/// The language sample in the README compiles.
#[test]
fn readme_sample_compiles() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let start = readme.find("```hap\n").expect("a hap sample in the README") + "```hap\n".len();
    let sample = &readme[start..start + readme[start..].find("```").unwrap()];
    let project = support::TempProject::single(sample);
    let c = project.compile();
    assert!(!c.has_errors(), "{}", support::rendered(&c));
    assert_eq!(c.env_names(), ["staging", "production"]);
    // The samples after it, each a project of its own with an environment,
    // compile without a diagnostic.
    let mut rest = &readme[start..];
    while let Some(at) = rest.find("```hap\n") {
        rest = &rest[at + "```hap\n".len()..];
        let sample = &rest[..rest.find("```").unwrap()];
        let project = support::TempProject::single(&format!("env production\n{sample}"));
        let c = project.compile();
        assert!(
            c.diagnostics.is_empty(),
            "{sample}\n{}",
            support::rendered(&c)
        );
    }
}

/// The README's language section names every guard rule and every field,
/// and its Diagnostics section every warning code in its range.
#[test]
fn readme_names_every_guard_rule_and_warning() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let guards = &readme[readme.find("**Guards.**").expect("a Guards paragraph")..];
    let guards = &guards[..guards.find("\n\n").unwrap_or(guards.len())];
    for rule in haptic::check::types::GUARDS {
        assert!(
            guards.contains(&format!("`{}", rule.name)),
            "the README's Guards paragraph does not name `{}`:\n{guards}",
            rule.name
        );
    }
    let warnings: Vec<&str> = haptic::diag::Code::ALL
        .iter()
        .filter(|c| c.default_severity() == haptic::diag::Severity::Warning)
        .map(|c| c.as_str())
        .collect();
    let range = format!(
        "`{}`–`{}` warnings",
        warnings[0],
        warnings[warnings.len() - 1]
    );
    assert!(readme.contains(&range), "the README does not say {range}");
    // Every field of every block, as a word of the language section (the
    // table of fields, or the record written out: `rate_limit = { ... }`).
    let language = &readme[readme.find("## The language").expect("a language section")..];
    let language = &language[..language.find("\n## ").unwrap_or(language.len())];
    let words: std::collections::HashSet<&str> = language
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for (schema, _) in haptic::check::types::FIELD_HOMES {
        for field in schema.names() {
            assert!(
                words.contains(field),
                "the README's language section does not name `{field}` ({})",
                schema.kind
            );
        }
    }
}

/// A secret whose variable is not set in HAProxy's environment stops
/// HAProxy (here `haproxy -c`) with a message that names it (every one
/// not set, in one run), instead of
/// being expanded to nothing: the stats page of the shop's production
/// would otherwise take the user `ops` with an empty password, and a
/// header's value would vanish into an error about its arguments.
#[test]
fn an_unset_secret_stops_haproxy_with_its_name() {
    let dir = support::repo_root().join("examples/shop");
    let compilation = haptic::driver::compile(&dir).expect("example loads");
    let output = compilation
        .outputs()
        .into_iter()
        .find(|o| o.env == "production")
        .expect("the shop has production");
    let (cfg, secrets) = support::for_test_machine(&output.haproxy_cfg);
    assert!(
        secrets.contains(&"STATS_PASSWORD".to_string()),
        "{secrets:?}"
    );
    let run = tempfile::tempdir().unwrap();
    let path = run.path().join("haproxy.cfg");
    std::fs::write(&path, &cfg).unwrap();
    let check = |unset: Option<&str>| {
        let mut command = std::process::Command::new(support::haproxy());
        command.args(["-c", "-f"]).arg(&path);
        for name in &secrets {
            match Some(name.as_str()) == unset {
                true => command.env_remove(name),
                false => command.env(name, "test-secret-value"),
            };
        }
        command.output().expect("run haproxy -c")
    };
    assert!(check(None).status.success(), "every secret set");
    // None set: each is named, in one run.
    let mut command = std::process::Command::new(support::haproxy());
    command.args(["-c", "-f"]).arg(&path);
    for name in &secrets {
        command.env_remove(name);
    }
    let out = command.output().expect("run haproxy -c");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for name in &secrets {
        assert!(
            said.contains(&format!(
                "secret {name} is not set in HAProxy's environment"
            )),
            "{name}: {said}"
        );
    }
    for name in &secrets {
        let out = check(Some(name));
        let said = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{name} unset, yet accepted");
        assert!(
            said.contains(&format!(
                "secret {name} is not set in HAProxy's environment"
            )),
            "{name}: {said}"
        );
    }
}
