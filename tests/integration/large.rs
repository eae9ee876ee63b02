//! Large projects are checked, parsed and emitted on several threads. The
//! results must not depend on it: the same diagnostics, in the same order,
//! and byte-identical outputs with one thread (`HAPTIC_THREADS=1`) and many.

use std::path::Path;

use crate::support::{self, TempProject};

const BACKENDS: usize = 1600;

/// No backend gets this mistake.
const NONE: usize = usize::MAX;

/// A project large enough for every threaded stage; `broken` lists the
/// backends that get a mistake each (a different one by index, none for
/// [`NONE`]).
fn project(broken: &[usize]) -> TempProject {
    project_in(&["staging", "production"], broken)
}

/// [`project`], with the environments `envs`.
fn project_in(envs: &[&str], broken: &[usize]) -> TempProject {
    let mut main = String::from("import std.checks\nimport \"backends.hap\"\n\n");
    for env in envs {
        main.push_str(&format!("env {env}\n"));
    }
    // `last_weight` is used by the last backend only, which another
    // thread builds: it is still used (W0008).
    main.push_str("\nlet app_port = 8080\nlet last_weight = 9\n\nfrontend edge {\n  bind :8080\n");
    for b in 0..BACKENDS {
        main.push_str(&format!("  route host \"svc{b}.example.com\" -> svc{b}\n"));
    }
    main.push_str("  default -> svc0\n}\n");
    let mut backends = String::new();
    for b in 0..BACKENDS {
        let mistake = broken.iter().position(|x| *x == b);
        backends.push_str(&format!("backend svc{b} {{\n"));
        if b % 100 == 7 {
            // Brackets in a comment and in a string do not end the body
            // that a deferred parse skips.
            backends.push_str("  // } closes nothing {\n  request_header \"X-Note\" = \"}{ }\"\n");
        }
        match mistake {
            Some(0) => backends.push_str("  balance = roundrobbin\n"),
            Some(1) => backends.push_str("  timeout_connect = 5\n"),
            Some(5) => backends.push_str("  timeout_connect = 5x\n"),
            Some(6) => backends.push_str("  retries = = 3\n"),
            _ => backends.push_str("  balance = leastconn\n  check = checks.healthz\n"),
        }
        for s in 0..3 {
            let port = if mistake == Some(2) && s == 1 {
                "99999".to_string()
            } else {
                "app_port".to_string()
            };
            let weight = if b == BACKENDS - 1 && s == 0 {
                "last_weight".to_string()
            } else {
                (1 + s).to_string()
            };
            backends.push_str(&format!(
                "  server s{s} = 10.{}.{}.{s}:{port} {{ weight = {weight} }}\n",
                b / 256,
                b % 256,
            ));
        }
        if mistake == Some(3) {
            backends.push_str("  server s0 = 10.9.9.9:80\n");
        }
        let env = if mistake == Some(4) {
            "prodution"
        } else {
            "production"
        };
        backends.push_str(&format!(
            "  if env == {env} {{ server extra = 10.8.0.1:80 }}\n}}\n"
        ));
        if mistake == Some(7) {
            // Defined twice, so built by no environment: its body is still
            // looked at.
            backends.push_str(&format!(
                "backend svc{b} {{\n  if env == nowhere {{ balance = first }}\n}}\n"
            ));
        }
    }
    TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        ("main.hap", &main),
        ("backends.hap", &backends),
    ])
}

fn run(dir: &Path, threads: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_haptic"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HAPTIC_THREADS", threads)
        .output()
        .expect("run haptic")
}

#[test]
fn diagnostics_do_not_depend_on_threads() {
    // Mistakes at both ends and in the middle, so in every thread's share
    // (the unknown environment in a condition, in a run of the conditions
    // walk).
    let p = project(&[3, 801, 1598, 1200, 400]);
    let one = run(p.path(), "1", &["check", ".", "--format", "json"]);
    assert_eq!(one.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(
        support::json_codes(&json),
        ["E0202", "E0104", "E0200", "E0101", "E0201"],
        "{json:#}"
    );
    for threads in ["2", "3", "8"] {
        let many = run(p.path(), threads, &["check", ".", "--format", "json"]);
        assert_eq!(
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&many.stdout),
            "HAPTIC_THREADS={threads}"
        );
    }
}

/// With several threads, a large file's backends are parsed where they
/// are built (one environment) or before the first environment is built
/// (several). What their bodies hold is reported as with one thread, which
/// parses every file whole: literals, conditions, the body of a backend
/// that no environment builds, and a syntax error, which empties the file.
#[test]
fn deferred_bodies_are_reported_as_whole_files_are() {
    let mistakes = [3, 801, 1598, 1200, 400, 1000, NONE, 1400];
    for envs in [&["production"][..], &["staging", "production"]] {
        let p = project_in(envs, &mistakes);
        let one = run(p.path(), "1", &["check", ".", "--format", "json"]);
        assert_eq!(one.status.code(), Some(1));
        let json: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
        let codes = support::json_codes(&json);
        for code in ["E0001", "E0104", "E0201"] {
            assert!(codes.contains(&code), "{envs:?}: {code} in {json:#}");
        }
        for threads in ["2", "3"] {
            let many = run(p.path(), threads, &["check", ".", "--format", "json"]);
            assert_eq!(
                String::from_utf8_lossy(&one.stdout),
                String::from_utf8_lossy(&many.stdout),
                "{envs:?}, HAPTIC_THREADS={threads}"
            );
        }
    }
    let mut syntax = [NONE; 7];
    syntax[6] = 700;
    for envs in [&["production"][..], &["staging", "production"]] {
        let p = project_in(envs, &syntax);
        let one = run(p.path(), "1", &["check", ".", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
        // The file is emptied, so the routes to its backends are errors too.
        assert!(support::json_codes(&json).contains(&"E0001"), "{json:#}");
        let many = run(p.path(), "2", &["check", ".", "--format", "json"]);
        assert_eq!(
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&many.stdout),
            "{envs:?}"
        );
    }
}

#[test]
fn outputs_do_not_depend_on_threads() {
    let p = project(&[]);
    let one = run(p.path(), "1", &["compile", ".", "--out", "one"]);
    support::assert_success(&one);
    let many = run(p.path(), "8", &["compile", ".", "--out", "many"]);
    support::assert_success(&many);
    for env in ["staging", "production"] {
        for file in ["haproxy.cfg", "runtime.txt"] {
            let a = std::fs::read(p.path().join("one").join(env).join(file)).unwrap();
            let b = std::fs::read(p.path().join("many").join(env).join(file)).unwrap();
            assert!(a == b, "{env}/{file} differs with 8 threads");
        }
    }
    // `compile` streams each file to disk a chunk at a time; the text made
    // whole in memory (what `compile --check` and `diff` compare) is the
    // same, byte for byte.
    let compilation = haptic::driver::compile(p.path()).unwrap();
    for output in compilation.outputs() {
        for (file, text) in output.files() {
            let written =
                std::fs::read_to_string(p.path().join("one").join(&output.env).join(file)).unwrap();
            assert!(
                written.len() > 512 * 1024,
                "{file} is too small to be written in several 256 KiB chunks"
            );
            assert!(
                written == text,
                "{}/{file}: streamed and whole text differ",
                output.env
            );
        }
    }
    let check = run(p.path(), "2", &["compile", ".", "--out", "one", "--check"]);
    support::assert_success(&check);
    let cfg = std::fs::read_to_string(p.path().join("one/production/haproxy.cfg")).unwrap();
    assert_eq!(cfg.matches("\n    server ").count(), BACKENDS * 4);
    support::haproxy_check(&cfg).expect("haproxy -c");
}

/// One environment: each deferred body is parsed where its backend is
/// built, and dropped; the outputs are those of one thread, which parses
/// every file whole.
#[test]
fn outputs_of_one_environment_do_not_depend_on_threads() {
    let p = project_in(&["production"], &[]);
    let one = run(p.path(), "1", &["compile", ".", "--out", "one"]);
    support::assert_success(&one);
    let many = run(p.path(), "3", &["compile", ".", "--out", "many"]);
    support::assert_success(&many);
    for file in ["haproxy.cfg", "runtime.txt"] {
        let a = std::fs::read(p.path().join("one/production").join(file)).unwrap();
        let b = std::fs::read(p.path().join("many/production").join(file)).unwrap();
        assert!(a == b, "production/{file} differs with 3 threads");
    }
}
