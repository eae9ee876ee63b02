//! The command line: exit codes, output formats, `explain`, atomic and
//! deterministic writes.

use haptic::cli::exit;
use haptic::diag::Code;

use crate::support::{self, haptic, TempProject};

const GOOD: &str = "env staging\nenv production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> b }\n";
const BAD: &str = "env production\nbackend api {\n  balance = roundrobbin\n  server api1 = 10.0.0.1:99999\n}\nfrontend www {\n  bind :8080\n  route path prefix \"/api/\" -> apii\n  default -> api\n}\n";

fn code(out: &std::process::Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The names of the files in `dir`.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn exit_codes_are_one_contract() {
    let good = TempProject::single(GOOD);
    let bad = TempProject::single(BAD);
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(code(&haptic(&["check"], good.path())), exit::OK);
    assert_eq!(code(&haptic(&["check"], bad.path())), exit::INVALID);
    assert_eq!(code(&haptic(&["compile"], bad.path())), exit::INVALID);
    assert_eq!(code(&haptic(&["check"], empty.path())), exit::USAGE);
    assert_eq!(
        code(&haptic(&["check", "--format", "yaml"], good.path())),
        exit::USAGE
    );
    assert_eq!(code(&haptic(&["frobnicate"], good.path())), exit::USAGE);
    assert_eq!(
        code(&haptic(&["compile", "--env", "qa"], good.path())),
        exit::USAGE
    );
    assert_eq!(code(&haptic(&["--help"], good.path())), exit::OK);
    assert_eq!(
        code(&haptic(&["compile", "--check"], good.path())),
        exit::STALE
    );
    assert_eq!(code(&haptic(&["compile"], good.path())), exit::OK);
    assert_eq!(
        code(&haptic(&["compile", "--check"], good.path())),
        exit::OK
    );
    // The four codes are distinct.
    let mut all = vec![exit::OK, exit::INVALID, exit::STALE, exit::USAGE];
    all.dedup();
    assert_eq!(all.len(), 4);
}

#[test]
fn three_errors_in_one_run() {
    let bad = TempProject::single(BAD);
    let out = haptic(&["check"], bad.path());
    let text = stderr(&out);
    for expected in [
        "E0201",
        "E0202",
        "E0102",
        "did you mean `roundrobin`?",
        "did you mean `api`?",
        "3 errors",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn compile_check_shows_a_diff_of_what_is_stale() {
    let project = TempProject::single(GOOD);
    assert_eq!(code(&haptic(&["compile"], project.path())), exit::OK);
    let cfg = project.path().join("out/production/haproxy.cfg");
    let edited = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("retries 3", "retries 9");
    std::fs::write(&cfg, edited).unwrap();
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::STALE);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("-    retries 9") && diff.contains("+    retries 3"),
        "{diff}"
    );
    assert!(diff.contains("out/production/haproxy.cfg"), "{diff}");
    // --check writes nothing.
    assert!(std::fs::read_to_string(&cfg).unwrap().contains("retries 9"));
}

#[test]
fn compile_writes_every_environment_or_one_and_honours_out() {
    let project = TempProject::single(GOOD);
    let elsewhere = tempfile::tempdir().unwrap();
    let out_dir = elsewhere.path().to_str().unwrap();
    assert_eq!(
        code(&haptic(&["compile", "--out", out_dir], project.path())),
        exit::OK
    );
    for env in ["staging", "production"] {
        for file in ["haproxy.cfg", "runtime.txt"] {
            assert!(
                elsewhere.path().join(env).join(file).is_file(),
                "{env}/{file}"
            );
        }
    }
    assert!(
        !project.path().join("out").exists(),
        "--out must not write to the default"
    );
    assert_eq!(
        code(&haptic(&["compile", "--env", "staging"], project.path())),
        exit::OK
    );
    assert!(project.path().join("out/staging/haproxy.cfg").is_file());
    assert!(!project.path().join("out/production").exists());
    // No temporary file is left behind.
    let mut names = names_in(&project.path().join("out/staging"));
    names.sort();
    assert_eq!(names, ["haproxy.cfg", "runtime.txt"]);
}

#[test]
fn outputs_are_deterministic_and_carry_provenance() {
    let project = TempProject::single(GOOD);
    let first = project.compile().outputs();
    let second = project.compile().outputs();
    assert_eq!(first, second);
    // The same sources in another directory give the same bytes.
    let copy = TempProject::single(GOOD);
    assert_eq!(copy.compile().outputs(), first);
    for output in &first {
        for (_, content) in output.files() {
            let header: Vec<&str> = content.lines().take(3).collect();
            assert!(
                header[0].contains(&format!("haptic {}", env!("CARGO_PKG_VERSION"))),
                "{header:?}"
            );
            assert!(
                header[2].starts_with("# sources sha256:")
                    && header[2].len() == "# sources sha256:".len() + 64
            );
        }
    }
    // A change in the sources changes the hash.
    let changed = TempProject::single(&GOOD.replace("10.0.0.1", "10.0.0.2"));
    assert_ne!(
        changed.compile().outputs()[0].haproxy_cfg.lines().nth(2),
        first[0].haproxy_cfg.lines().nth(2)
    );
}

#[test]
fn writes_are_atomic() {
    // A reader racing a writer sees the old file or the new one, never a mix.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    let a = "a".repeat(1 << 20);
    let b = "b".repeat(1 << 20);
    haptic::driver::write_atomic(&path, &a).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop, a, b) = (path.clone(), stop.clone(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let content = std::fs::read_to_string(&path).unwrap();
                assert!(
                    content == a || content == b,
                    "torn read of {} bytes",
                    content.len()
                );
                reads += 1;
            }
            reads
        })
    };
    for i in 0..100 {
        haptic::driver::write_atomic(&path, if i % 2 == 0 { &b } else { &a }).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
}

#[test]
fn a_file_that_already_holds_the_output_is_left_untouched() {
    use haptic::driver::{write_atomic, write_atomic_with, Written};
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    let identity = |p: &std::path::Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let text = "global\n".repeat(10_000);
    assert_eq!(write_atomic(&path, &text).unwrap(), Written::Replaced);
    let before = identity(&path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Written in pieces, as `compile` writes a file chunk by chunk.
    let pieces = |parts: Vec<String>| {
        write_atomic_with(&path, move |file| {
            parts.iter().try_for_each(|p| file.write_all(p.as_bytes()))
        })
        .unwrap()
    };
    let (head, tail) = text.split_at(30_001);
    assert_eq!(pieces(vec![head.into(), tail.into()]), Written::Unchanged);
    assert_eq!(identity(&path), before, "an unchanged file is not replaced");

    // Whatever part matched, the new file is exactly what was written: a
    // difference after a matching piece, a shorter text, a longer one.
    let changes = [
        vec![head.to_string(), "changed\n".into(), tail.into()],
        vec![head.to_string()],
        vec![text.clone(), "more\n".into()],
        vec![String::new()],
        vec![text.clone()],
    ];
    for parts in changes {
        let expected = parts.concat();
        assert_eq!(pieces(parts), Written::Replaced);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    }
    // No temporary file is left, whichever way a write went.
    assert_eq!(names_in(dir.path()), ["haproxy.cfg"]);
}

#[test]
fn an_output_that_is_not_a_regular_file_is_replaced_without_waiting() {
    // The old output is read to compare with; a named pipe there must not
    // make the write wait for a writer, nor a directory make it fail
    // differently than before.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("haproxy.cfg");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (done, finished) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = done.send(haptic::driver::write_atomic(&path, "global\n"));
    });
    let result = finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("writing over a named pipe must not wait for a writer");
    assert_eq!(result.unwrap(), haptic::driver::Written::Replaced);
    assert_eq!(std::fs::read_to_string(&fifo).unwrap(), "global\n");

    let dir_there = dir.path().join("runtime.txt");
    std::fs::create_dir(&dir_there).unwrap();
    assert!(haptic::driver::write_atomic(&dir_there, "x\n").is_err());
    assert!(dir_there.is_dir());
}

#[test]
fn compile_leaves_outputs_that_did_not_change() {
    let project = TempProject::single(GOOD);
    let run = |project: &TempProject| {
        let out = haptic(&["compile"], project.path());
        assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
        stderr(&out)
    };
    let first = run(&project);
    assert_eq!(first.matches("wrote ").count(), 4, "{first}");
    let cfg = project.path().join("out/staging/haproxy.cfg");
    let modified = std::fs::metadata(&cfg).unwrap().modified().unwrap();
    let second = run(&project);
    assert_eq!(second.matches("unchanged ").count(), 4, "{second}");
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().modified().unwrap(),
        modified
    );
    // A change of the sources changes every output (their headers hold
    // the sources' hash).
    std::fs::write(
        project.path().join("main.hap"),
        GOOD.replace("10.0.0.1", "10.0.0.2"),
    )
    .unwrap();
    let third = run(&project);
    assert_eq!(third.matches("wrote ").count(), 4, "{third}");
    assert!(std::fs::read_to_string(&cfg).unwrap().contains("10.0.0.2"));
}

/// An environment removed from the sources leaves no outputs behind:
/// `compile --check` counts them as stale, `compile` removes them (and
/// their directory when nothing else is in it). Only files haptic wrote
/// for this project's environment are touched, and only by a compile of
/// every environment.
#[test]
fn outputs_of_a_removed_environment_are_stale_and_removed() {
    let project = TempProject::single(GOOD);
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let staging = project.path().join("out/staging");
    let kept = project.path().join("out/kept");
    // Another project's output in a shared directory, and a person's file.
    support::write(
        &project.path().join("out/other/haproxy.cfg"),
        std::fs::read_to_string(staging.join("haproxy.cfg"))
            .unwrap()
            .replace("project `test`", "project `other`")
            .as_bytes(),
    );
    support::write(&kept.join("haproxy.cfg"), b"# written by hand\n");
    std::fs::write(
        project.path().join("main.hap"),
        GOOD.replace("env staging\n", ""),
    )
    .unwrap();

    // One environment compiled: the other directories are not looked at.
    let out = haptic(&["compile", "--env", "production"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(staging.join("haproxy.cfg").exists());

    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::STALE, "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for file in ["haproxy.cfg", "runtime.txt"] {
        let line = format!(
            "{}: of an environment that is no longer in the sources",
            std::path::Path::new(".")
                .join("out/staging")
                .join(file)
                .display()
        );
        assert!(stdout.contains(&line), "{stdout}");
    }
    assert!(
        !stdout.contains("out/other") && !stdout.contains("out/kept"),
        "{stdout}"
    );

    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("removed ").count(),
        2,
        "{}",
        stderr(&out)
    );
    assert!(!staging.exists());
    assert!(project.path().join("out/other/haproxy.cfg").exists());
    assert!(kept.join("haproxy.cfg").exists());
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
}

/// An environment with a routes map gets `routes.map` beside its other
/// outputs; `compile --check` sees a stale one, and when the map is
/// dropped from the sources the file is stale, then removed.
#[test]
fn the_routes_map_is_an_output_while_the_sources_ask_for_it() {
    let source = "env production\n\ndefaults { routes_map = \"/etc/haproxy/routes.map\" }\n\n\
                  backend a { server s = 10.0.0.1:80 }\n\n\
                  frontend www {\n  bind :8080\n  route host \"a.example.com\" -> a\n}\n";
    let project = TempProject::single(source);
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let map = project.path().join("out/production/routes.map");
    let text = std::fs::read_to_string(&map).unwrap();
    assert!(text.ends_with("\na.example.com@www/ a\n"), "{text}");
    assert!(stderr(&out).contains("wrote ./out/production/routes.map"));

    std::fs::write(
        project.path().join("main.hap"),
        source.replace("-> a", "-> a\n  route host \"b.example.com\" -> a"),
    )
    .unwrap();
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::STALE, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+b.example.com@www/ a"));
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));

    let without = "env production\n\nbackend a { server s = 10.0.0.1:80 }\n\n\
                   frontend www {\n  bind :8080\n  route host \"a.example.com\" -> a\n}\n";
    std::fs::write(project.path().join("main.hap"), without).unwrap();
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::STALE, "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("routes.map: the environment no longer has a routes map"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = haptic(&["compile", "--env", "production"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(stderr(&out).contains("removed ./out/production/routes.map"));
    assert!(!map.exists());
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
}

/// The routes map of an environment that leaves the sources goes with its
/// other outputs, and their directory.
#[test]
fn the_routes_map_of_a_removed_environment_is_removed_too() {
    let source = "env staging\nenv production\n\n\
                  defaults { routes_map = \"/etc/haproxy/routes.map\" }\n\n\
                  backend a { server s = 10.0.0.1:80 }\n\n\
                  frontend www {\n  bind :8080\n  route host \"a.example.com\" -> a\n}\n";
    let project = TempProject::single(source);
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let staging = project.path().join("out/staging");
    assert!(staging.join("routes.map").exists());
    std::fs::write(
        project.path().join("main.hap"),
        source.replace("env staging\n", ""),
    )
    .unwrap();
    let out = haptic(&["compile", "--check"], project.path());
    assert_eq!(code(&out), exit::STALE, "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .matches("of an environment that is no longer in the sources")
            .count(),
        3,
        "{stdout}"
    );
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(stderr(&out).contains("routes.map"), "{}", stderr(&out));
    assert!(!staging.exists());
    assert!(project.path().join("out/production/routes.map").exists());
}

/// A temporary file that a write which never finished left beside the
/// outputs (a killed compile) is removed by the next compile once it is
/// ten minutes old; a newer one may be a compile's running beside, and
/// stays.
#[test]
fn temporary_files_left_by_unfinished_writes_are_removed() {
    let project = TempProject::single(GOOD);
    let dir = project.path().join("out/production");
    let (old, new) = (dir.join(".haptic-Old123"), dir.join(".haptic-New456"));
    support::write(&old, b"the first part of a haproxy.cfg");
    support::write(&new, b"the first part of a haproxy.cfg");
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let removed = format!(
        "removed {}",
        std::path::Path::new(".")
            .join("out/production/.haptic-Old123")
            .display()
    );
    assert!(stderr(&out).contains(&removed), "{}", stderr(&out));
    assert!(!old.exists());
    assert!(new.exists());
}

#[test]
fn a_write_that_fails_midway_leaves_the_old_file() {
    // `compile` streams a file into its temporary file as it is made; when
    // writing fails part way, the old file stays and no temporary is left.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    haptic::driver::write_atomic(&path, "old\n").unwrap();
    let result = haptic::driver::write_atomic_with(&path, |file| {
        file.write_all("new, but only the first part\n".as_bytes())?;
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "disk full",
        ))
    });
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::StorageFull);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
    assert_eq!(names_in(dir.path()), ["haproxy.cfg"]);
}

#[test]
fn an_environment_that_cannot_be_written_leaves_the_others_written() {
    // Environments are written side by side; one that fails does not stop
    // the others, and every failure and every file written is reported in
    // the environments' order.
    let project = TempProject::single(
        "env alpha\nenv beta\nenv gamma\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> b }\n",
    );
    let out = project.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // `out/beta` is a file, so no directory can be made there.
    std::fs::write(out.join("beta"), "in the way\n").unwrap();
    let run = haptic(&["compile"], project.path());
    assert_eq!(code(&run), exit::USAGE, "{}", stderr(&run));
    for env in ["alpha", "gamma"] {
        for file in ["haproxy.cfg", "runtime.txt"] {
            assert!(out.join(env).join(file).is_file(), "{env}/{file}");
        }
    }
    let expected = [
        ("wrote", "alpha/haproxy.cfg"),
        ("wrote", "alpha/runtime.txt"),
        ("error: cannot write", "beta/haproxy.cfg"),
        ("error: cannot write", "beta/runtime.txt"),
        ("wrote", "gamma/haproxy.cfg"),
        ("wrote", "gamma/runtime.txt"),
    ];
    let messages = stderr(&run);
    let lines: Vec<&str> = messages.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{messages}");
    for (line, (start, file)) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(start) && line.contains(&format!("/{file}")),
            "{messages}"
        );
    }
}

#[test]
fn outputs_get_the_mode_of_a_new_file() {
    // Not the temporary file's private 0600: HAProxy may run as another user.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let written = dir.path().join("haproxy.cfg");
    haptic::driver::write_atomic(&written, "x").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&written), mode(&plain));
}

/// The manifest's `out` names a directory inside the project: a change of
/// it cannot make `compile` write elsewhere (`--out` can, as asked on the
/// command line).
#[test]
fn the_manifest_writes_only_inside_the_project() {
    for out in [
        "../elsewhere",
        "/tmp/haptic-out-elsewhere",
        "gen/../../elsewhere",
    ] {
        let manifest = format!("[project]\nname = \"x\"\nhaproxy = \"2.6\"\nout = \"{out}\"\n");
        let parent = TempProject::new(&[("p/haptic.toml", &manifest), ("p/main.hap", GOOD)]);
        let project = parent.path().join("p");
        let check = haptic(&["check", "--format", "json"], &project);
        assert_eq!(code(&check), exit::INVALID, "{out}");
        let json: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        let d = &json["diagnostics"][0];
        assert_eq!(support::json_codes(&json), ["E0005"], "{out}: {json:#}");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(4), Some(7))
        );
        assert_eq!(
            d["message"],
            format!("`out` is outside the project directory: `{out}`")
        );
        assert_eq!(code(&haptic(&["compile"], &project)), exit::INVALID);
        assert_eq!(names_in(parent.path()), ["p"], "{out}");
        assert!(!std::path::Path::new("/tmp/haptic-out-elsewhere").exists());
        // Nothing is written while the manifest has the mistake, `--out`
        // or not.
        let elsewhere = tempfile::tempdir().unwrap();
        let to = elsewhere.path().to_str().unwrap();
        assert_eq!(
            code(&haptic(&["compile", "--out", to], &project)),
            exit::INVALID
        );
        assert!(names_in(elsewhere.path()).is_empty());
    }
    // A path that stays inside is the user's to choose.
    let manifest = "[project]\nname = \"x\"\nhaproxy = \"2.6\"\nout = \"gen/../build\"\n";
    let project = TempProject::new(&[("haptic.toml", manifest), ("main.hap", GOOD)]);
    assert_eq!(code(&haptic(&["compile"], project.path())), exit::OK);
    assert!(project
        .path()
        .join("build/production/haproxy.cfg")
        .is_file());
}

/// What the manifest names (`entry`, environments of `production`) is
/// reported where it is written, also when another mistake of the
/// manifest (a missing `name`) is read past.
#[test]
fn manifest_values_are_reported_where_written_past_other_mistakes() {
    // The second line of each, reported second, at line 3, these columns.
    for (written, code, columns) in [
        ("entry = \"nope.hap\"", "E0004", (9, 19)),
        ("production = [\"prod\"]", "E0104", (15, 21)),
    ] {
        let manifest = format!("[project]\nhaproxy = \"2.6\"\n{written}\n");
        let project = TempProject::new(&[("haptic.toml", &manifest), ("main.hap", GOOD)]);
        let out = haptic(&["check", "--format", "json"], project.path());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(support::json_codes(&json), ["E0005", code], "{json:#}");
        let d = &json["diagnostics"][1];
        assert_eq!(
            (
                d["line"].as_u64(),
                d["column"].as_u64(),
                d["end_column"].as_u64()
            ),
            (Some(3), Some(columns.0), Some(columns.1)),
            "{json:#}"
        );
        // The terminal shows the place, not a failure to read it.
        let out = haptic(&["check"], project.path());
        assert!(stderr(&out).contains(written), "{}", stderr(&out));
    }
}

#[test]
fn explain_works_for_every_code() {
    let dir = tempfile::tempdir().unwrap();
    for c in Code::ALL {
        let out = haptic(&["explain", c.as_str()], dir.path());
        assert_eq!(code(&out), exit::OK, "{c}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with(c.as_str()) && text.contains(c.explanation().lines().next().unwrap()),
            "{text}"
        );
    }
    // The guardrail code lists the rules, from the checker's own table.
    let out = haptic(&["explain", "E0400"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in haptic::check::types::GUARDS {
        assert!(
            text.contains(rule.name) && text.contains(rule.summary),
            "{text}"
        );
    }
    let out = haptic(&["explain", "E0209"], dir.path());
    assert_eq!(code(&out), exit::USAGE);
    assert!(stderr(&out).contains("did you mean"), "{}", stderr(&out));
    assert_eq!(
        code(&haptic(&["explain", "type-mismatch"], dir.path())),
        exit::OK
    );
    // Without a code: each code on a line of its own, with its name and
    // what it means.
    let out = haptic(&["explain"], dir.path());
    assert_eq!(code(&out), exit::OK);
    let text = String::from_utf8_lossy(&out.stdout);
    for c in Code::ALL {
        assert!(!c.summary().is_empty(), "{c}");
        let line = text.lines().find(|l| l.starts_with(c.as_str())).unwrap();
        assert!(
            line.contains(c.name()) && line.ends_with(c.summary()),
            "{line}"
        );
    }
}

#[test]
fn json_diagnostics_have_the_versioned_envelope() {
    let bad = TempProject::single(BAD);
    let out = haptic(&["check", "--format", "json"], bad.path());
    assert_eq!(code(&out), exit::INVALID);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["errors"], 3);
    let diags = json["diagnostics"].as_array().unwrap();
    let port = diags
        .iter()
        .find(|d| d["code"] == "E0201")
        .expect("the port error");
    assert_eq!(port["severity"], "error");
    assert_eq!(port["file"], "main.hap");
    assert_eq!(port["line"], 4);
    assert_eq!(port["column"], 26);
    assert_eq!(
        port["byte_end"].as_u64().unwrap() - port["byte_start"].as_u64().unwrap(),
        5
    );
    let start = port["byte_start"].as_u64().unwrap() as usize;
    assert_eq!(&BAD[start..start + 5], "99999");
    assert!(port["message"].as_str().unwrap().contains("99999"));
    assert!(port["help"][0].as_str().unwrap().contains("1..=65535"));
    let route = diags.iter().find(|d| d["code"] == "E0102").unwrap();
    assert_eq!(route["line"], 8);
    assert_eq!(route["help"][0], "did you mean `api`?");
    assert_eq!(route["environments"], serde_json::json!(["production"]));
    assert_eq!(route["labels"], serde_json::json!([]));
    // What replaces the misspelt name, for tools that apply fixes; only
    // where haptic knows one.
    assert_eq!(route["replacement"], "api");
    let start = route["byte_start"].as_u64().unwrap() as usize;
    let end = route["byte_end"].as_u64().unwrap() as usize;
    assert_eq!(&BAD[start..end], "apii");
    assert!(port.get("replacement").is_none(), "{port}");
    // A clean project gives an empty list, not nothing.
    let good = TempProject::single(GOOD);
    let out = haptic(&["check", "--format", "json"], good.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn manifest_errors_are_diagnostics() {
    let project = TempProject::new(&[
        (
            "haptic.toml",
            "[project]\nname = \"x\"\nhaproxy = \"1.8\"\n",
        ),
        ("main.hap", GOOD),
    ]);
    let out = haptic(&["check"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    assert!(
        stderr(&out).contains("E0005") && stderr(&out).contains("unsupported HAProxy version"),
        "{}",
        stderr(&out)
    );
    let project = TempProject::new(&[
        ("haptic.toml", "[project]\nnam = \"x\"\n"),
        ("main.hap", GOOD),
    ]);
    let out = haptic(&["check"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    assert!(stderr(&out).contains("E0005"), "{}", stderr(&out));

    // Each mistake's fix, applied where the JSON says, makes a manifest
    // that checks: a version written as a number, a misspelt key, a lint
    // level in another tool's word, one environment where a list goes.
    let head = "[project]\nname = \"x\"\n";
    for (manifest, fixed) in [
        ("haproxy = 2.6\n", "haproxy = \"2.6\"\n"),
        (
            "haproxy = \"2.6\"\noutput = \"build\"\n",
            "haproxy = \"2.6\"\nout = \"build\"\n",
        ),
        (
            "haproxy = \"2.6\"\nproduction = \"production\"\n",
            "haproxy = \"2.6\"\nproduction = [\"production\"]\n",
        ),
        (
            "haproxy = \"2.6\"\n[lints]\nunused-backend = \"error\"\n",
            "haproxy = \"2.6\"\n[lints]\nunused-backend = \"deny\"\n",
        ),
    ] {
        let manifest = format!("{head}{manifest}");
        let project = TempProject::new(&[("haptic.toml", &manifest), ("main.hap", GOOD)]);
        let out = haptic(&["check", "--format", "json"], project.path());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &json["diagnostics"][0];
        assert_eq!(
            (d["code"].as_str(), d["file"].as_str()),
            (Some("E0005"), Some("haptic.toml"))
        );
        let (start, end) = (
            d["byte_start"].as_u64().unwrap(),
            d["byte_end"].as_u64().unwrap(),
        );
        let mut written = manifest.clone();
        let replacement = d["replacement"].as_str().unwrap_or_else(|| panic!("{d}"));
        written.replace_range(start as usize..end as usize, replacement);
        assert_eq!(written, format!("{head}{fixed}"));
        std::fs::write(project.path().join("haptic.toml"), written).unwrap();
        assert_eq!(code(&haptic(&["check"], project.path())), exit::OK);
    }

    // Every mistake of one manifest in one run, in source order; the fixes
    // of all of them make one that checks.
    let manifest = format!(
        "{head}haproxy = 2.6\noutput = \"build\"\nproduction = \"production\"\n\
         [lints]\nunused-backend = \"error\"\nshadowed-routes = \"deny\"\n"
    );
    let project = TempProject::new(&[("haptic.toml", &manifest), ("main.hap", GOOD)]);
    let out = haptic(&["check", "--format", "json"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json["diagnostics"].as_array().unwrap();
    let lines: Vec<u64> = diags.iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5, 7, 8], "{json:#}");
    assert!(
        diags[4]["message"] == "unknown lint `shadowed-routes`"
            && diags[4]["help"][0] == "did you mean `shadowed-route`?",
        "{json:#}"
    );
    let mut written = manifest.clone();
    for d in diags.iter().rev() {
        if let Some(replacement) = d["replacement"].as_str() {
            let (start, end) = (
                d["byte_start"].as_u64().unwrap(),
                d["byte_end"].as_u64().unwrap(),
            );
            written.replace_range(start as usize..end as usize, replacement);
        }
    }
    let written = written.replace("shadowed-routes", "shadowed-route");
    std::fs::write(project.path().join("haptic.toml"), written).unwrap();
    let out = haptic(&["check"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    // A mistake of the manifest that leaves the sources readable as the
    // user wrote them (here the name) comes with the sources' errors, in
    // one run; nothing is written.
    let project = TempProject::new(&[
        (
            "haptic.toml",
            "[project]\nname = \"my shop\"\nhaproxy = \"2.6\"\n",
        ),
        (
            "main.hap",
            &GOOD.replace("env production", "env production\nlet port: port = 99999"),
        ),
    ]);
    let out = haptic(&["check", "--format", "json"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [("E0005", "haptic.toml"), ("E0201", "main.hap")],
        "{json:#}"
    );
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    assert!(!project.path().join("out").exists());
    // So does a mistake of the target version, whatever it is (the
    // checks do not depend on it): a supported version written as a
    // number, which is read as the version it names; a number that names
    // none, which says which do; an unsupported version; none at all.
    for (version, help) in [
        ("haproxy = 2.6", "write it in double quotes: `\"2.6\"`"),
        ("haproxy = 2.4", "haptic supports `2.6`, `2.8`, `3.0`"),
        ("haproxy = \"2.4\"", "expected one of `2.6`, `2.8`, `3.0`"),
        ("", "add `haproxy = \"2.6\"` to `[project]`"),
    ] {
        std::fs::write(
            project.path().join("haptic.toml"),
            format!("[project]\nname = \"shop\"\n{version}\n"),
        )
        .unwrap();
        let out = haptic(&["check", "--format", "json"], project.path());
        assert_eq!(code(&out), exit::INVALID);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            support::json_codes(&json),
            ["E0005", "E0201"],
            "{version}: {json:#}"
        );
        let first = &json["diagnostics"][0];
        assert!(
            first["help"][0].as_str().unwrap().starts_with(help),
            "{version}: {first:#}"
        );
        let out = haptic(&["compile"], project.path());
        assert_eq!(code(&out), exit::INVALID);
        assert!(!project.path().join("out").exists());
    }

    // A value of the wrong type is one mistake, not that and its key
    // missing as well.
    let project = TempProject::new(&[
        ("haptic.toml", "[project]\nname = 7\nhaproxy = \"2.6\"\n"),
        ("main.hap", GOOD),
    ]);
    let out = haptic(&["check", "--format", "json"], project.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 1, "{json:#}");

    // A key of `[project]` above any table: the help says where it goes.
    let project = TempProject::new(&[
        ("haptic.toml", "name = \"x\"\nhaproxy = \"2.6\"\n"),
        ("main.hap", GOOD),
    ]);
    let out = haptic(&["check"], project.path());
    assert!(
        stderr(&out).contains("`name` belongs in the `[project]` table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = haptic(&["--help"], dir.path());
    insta::assert_snapshot!("help", String::from_utf8_lossy(&out.stdout));
    let out = haptic(&["compile", "--help"], dir.path());
    insta::assert_snapshot!("help_compile", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn non_utf8_source_is_a_diagnostic() {
    let project = TempProject::new(&[("haptic.toml", support::MANIFEST)]);
    support::write(
        &project.path().join("main.hap"),
        b"env production\nlet x = \"caf\xe9\"\n",
    );
    let c = project.compile();
    assert_eq!(support::codes(&c), ["E0002"]);
    let out = haptic(&["check"], project.path());
    assert_eq!(code(&out), exit::INVALID);
}

#[test]
fn compile_against_a_git_revision_or_a_directory() {
    let repo = tempfile::tempdir().unwrap();
    // The project lives in a subdirectory of the repository, as in a monorepo.
    let project = repo.path().join("lb");
    support::write(&project.join("haptic.toml"), support::MANIFEST.as_bytes());
    let base = "env production\nbackend web {\n  server a = 10.0.0.1:80\n  server b = 10.0.0.2:80\n}\nfrontend f { bind :8080  default -> web }\n";
    support::write(&project.join("main.hap"), base.as_bytes());
    support::git(repo.path(), &["init", "-q"]);
    support::git(repo.path(), &["add", "."]);
    support::git(repo.path(), &["commit", "-qm", "base"]);
    let hitless = base.replace(
        "server b = 10.0.0.2:80",
        "server b = 10.0.0.2:80 { state = drain }\n  server c = 10.0.0.3:80",
    );
    support::write(&project.join("main.hap"), hitless.as_bytes());
    support::git(repo.path(), &["commit", "-qam", "new"]);
    support::git(repo.path(), &["checkout", "-q", "--detach", "HEAD"]);

    let out = haptic(&["compile", "--base", "HEAD~1"], &project);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let runtime = std::fs::read_to_string(project.join("out/production/runtime.txt")).unwrap();
    let commands: Vec<&str> = runtime.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        commands,
        [
            "set server web/b weight 0",
            "set server web/b state drain",
            "add server web/c 10.0.0.3:80 weight 100",
            "set server web/c state ready",
        ],
        "{runtime}"
    );
    assert!(
        runtime.contains("# base version: HEAD~1\n# reload needed: no\n"),
        "{runtime}"
    );

    // A change that needs a reload says why; a directory works as a base.
    let base_dir = TempProject::single(base);
    support::write(
        &project.join("main.hap"),
        base.replace("bind :8080", "bind :8081").as_bytes(),
    );
    let out = haptic(
        &["compile", "--base", base_dir.path().to_str().unwrap()],
        &project,
    );
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let runtime = std::fs::read_to_string(project.join("out/production/runtime.txt")).unwrap();
    assert!(runtime.contains("# reload needed: yes\n#   frontend f / bind :8081: frontends, binds and routes need a reload"), "{runtime}");

    let out = haptic(&["compile", "--base", "no-such-rev"], &project);
    assert_eq!(code(&out), exit::USAGE);
    assert!(
        stderr(&out).contains("unknown revision `no-such-rev`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `haptic compile --check | head`: the diff is larger than a pipe holds.
    use std::io::Read;
    let mut source =
        String::from("env production\n\nfrontend www {\n  bind :80\n  default -> b0\n}\n");
    for b in 0..200 {
        source.push_str(&format!("backend b{b} {{\n"));
        for s in 0..20 {
            source.push_str(&format!("  server s{s} = 10.0.{b}.{s}:80\n"));
        }
        source.push_str("}\n");
    }
    let p = TempProject::single(&source);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_haptic"))
        .args(["compile", ".", "--check"])
        .current_dir(p.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's reading end is closed here.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code(&out), exit::STALE, "{stderr}");
}

#[test]
fn standard_output_that_cannot_be_written_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_haptic"))
        .args(["explain", "E0001"])
        .current_dir(dir.path())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(code(&out), exit::USAGE);
    assert!(
        stderr(&out).contains("cannot write to standard output"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_label_in_another_file_names_its_place() {
    let project = TempProject::new(&[
        ("haptic.toml", support::MANIFEST),
        (
            "main.hap",
            "import \"more.hap\"\nenv production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> b }\n",
        ),
        ("more.hap", "// more\n  backend b { server t = 10.0.0.2:80 }\n"),
    ]);
    let out = haptic(&["check"], project.path());
    assert_eq!(code(&out), exit::INVALID);
    let text = stderr(&out);
    assert!(text.contains("more.hap:2:11"), "{text}");
    assert!(
        text.contains("first defined here (at main.hap:3:9)"),
        "{text}"
    );
    let out = haptic(&["check", "--format", "json"], project.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let dup = &json["diagnostics"][0];
    assert_eq!(
        (&dup["file"], &dup["line"], &dup["column"]),
        (&"more.hap".into(), &2.into(), &11.into())
    );
    let label = &dup["labels"][0];
    assert_eq!(
        (&label["file"], &label["line"], &label["column"]),
        (&"main.hap".into(), &3.into(), &9.into())
    );
}

/// A byte order mark at the start of a source (some Windows editors write
/// one) is not part of it: the project compiles, and places are counted as
/// an editor shows them.
#[test]
fn a_byte_order_mark_is_not_part_of_the_source() {
    let good = "env production\nbackend web { server a = 10.0.0.1:8080 }\nfrontend f { bind :8080  default -> web }\n";
    let plain = TempProject::single(good);
    let marked = TempProject::single(&format!("\u{feff}{good}"));
    for project in [&plain, &marked] {
        support::assert_success(&support::haptic(&["compile"], project.path()));
    }
    let cfg = |p: &TempProject| {
        let text = std::fs::read_to_string(p.path().join("out/production/haproxy.cfg")).unwrap();
        text.lines()
            .filter(|l| !l.starts_with("# sources"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(cfg(&plain), cfg(&marked));

    let bad = TempProject::single(&format!("\u{feff}{}", good.replace("8080 }", "99999 }")));
    let out = support::haptic(&["check", "--format", "json"], bad.path());
    assert_eq!(code(&out), haptic::cli::exit::INVALID);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), &d["line"], &d["column"]),
        (Some("E0201"), &serde_json::json!(2), &serde_json::json!(35)),
        "{d}"
    );
}

/// A `.hap` file that no import reaches is compiled into nothing: `check`
/// says so (W0007) at the file, once, and not for files of hidden
/// directories, of the outputs, of a nested project or that `.gitignore`
/// leaves out (in a directory that is not a Git work tree too). Importing it, or
/// the lint level `allow`, silences it; `deny` makes it an error.
#[test]
fn a_file_no_import_reaches_is_reported() {
    const MAIN: &str = "env production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> b }\n";
    const NEW: &str = "backend new { server s = 10.0.0.2:80 }\n";
    const LONG: &str = "teams/platform-and-infrastructure/shared-edge-backends.hap";
    let files = |main: &'static str, manifest: &'static str| {
        TempProject::new(&[
            ("haptic.toml", manifest),
            ("main.hap", main),
            ("teams/new.hap", NEW),
            (LONG, NEW),
            (".git/old.hap", NEW),
            ("out/stray.hap", NEW),
            ("other/haptic.toml", support::MANIFEST),
            ("other/main.hap", NEW),
            (".gitignore", "generated/\n"),
            ("generated/made.hap", NEW),
        ])
    };
    let project = files(MAIN, support::MANIFEST);
    let out = haptic(&["check", "--format", "json"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json["diagnostics"].as_array().unwrap();
    assert_eq!(support::json_codes(&json), ["W0007", "W0007"], "{json:#}");
    // The help is an import to copy: the path whole, however long.
    let help = diags[1]["help"].to_string();
    assert!(help.contains(&format!("import \\\"{LONG}\\\"")), "{help}");
    let d = &diags[0];
    assert_eq!(
        (&d["file"], &d["line"], &d["column"]),
        (&"teams/new.hap".into(), &1.into(), &1.into())
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("`teams/new.hap` is not imported"),
        "{d}"
    );
    assert!(
        d["help"]
            .to_string()
            .contains("import \\\"teams/new.hap\\\""),
        "{d}"
    );
    // Compile still writes the outputs: a warning, and the hash is the
    // imported sources' alone.
    let out = haptic(&["compile"], project.path());
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(stderr(&out).contains("W0007"), "{}", stderr(&out));

    let imported = "import \"teams/new.hap\"\nenv production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  route path prefix \"/new/\" -> new\n  default -> b }\n";
    let out = haptic(
        &["check", "--format", "json"],
        files(imported, support::MANIFEST).path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(support::json_codes(&json), ["W0007"], "{json:#}");
    assert_eq!(json["diagnostics"][0]["file"], LONG, "{json:#}");

    let allow =
        "[project]\nname = \"test\"\nhaproxy = \"2.6\"\n[lints]\nunimported-file = \"allow\"\n";
    let out = haptic(&["check"], files(MAIN, allow).path());
    assert_eq!(code(&out), exit::OK);
    assert!(!stderr(&out).contains("W0007"), "{}", stderr(&out));
    let deny =
        "[project]\nname = \"test\"\nhaproxy = \"2.6\"\n[lints]\nunimported-file = \"deny\"\n";
    let out = haptic(&["check"], files(MAIN, deny).path());
    assert_eq!(code(&out), exit::INVALID);
    assert!(stderr(&out).contains("W0007"), "{}", stderr(&out));
}
