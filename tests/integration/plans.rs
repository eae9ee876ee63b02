//! The merge-request plan: fixture pairs `tests/plans/<name>.base.hap` →
//! `<name>.new.hap`, each rendered as text, Markdown and JSON and
//! snapshotted; `haptic diff` against a Git revision; the note limit; the
//! Code Quality and SARIF reports.

use haptic::driver::{self, Base};
use haptic::plan::render;

use crate::support::{self, haptic, TempProject};

fn reports(base_src: &str, new_src: &str) -> Vec<render::EnvReport> {
    let base_project = TempProject::single(base_src);
    let new_project = TempProject::single(new_src);
    let base = Base::new("base".into(), Some(base_project.compile()));
    let new = new_project.compile();
    assert!(
        !new.has_errors() && !base.compilation.as_ref().unwrap().has_errors(),
        "{}",
        support::rendered(&new)
    );
    driver::plan_reports(&base, &base.haproxy_cfgs(), &new, &new.haproxy_cfgs(), None)
}

#[test]
fn plan_fixtures() {
    let dir = support::repo_root().join("tests/plans");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".base.hap")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let base = std::fs::read_to_string(dir.join(format!("{name}.base.hap"))).unwrap();
        let new = std::fs::read_to_string(dir.join(format!("{name}.new.hap"))).unwrap();
        let reports = reports(&base, &new);
        let text = render::text(&reports, false);
        let markdown = render::markdown(&reports, "base", &[]);
        let json = render::json(&reports, "base");
        assert!(markdown.starts_with(render::MARKER));
        serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
        insta::with_settings!({
            snapshot_path => support::repo_root().join("tests/plans/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("{name}_text"), text);
            insta::assert_snapshot!(format!("{name}_markdown"), markdown);
            insta::assert_snapshot!(format!("{name}_json"), json);
        });
    }
}

/// Adding a server to a backend with sticky sessions goes live with `add
/// server` (its cookie on the line) where the project targets HAProxy 3.0
/// before and after the change, and needs a reload where either version
/// is older (2.6 refuses `cookie` in `add server`; 2.8 is not counted on).
#[test]
fn a_sticky_server_is_added_at_runtime_where_the_target_takes_its_cookie() {
    let base = "env e\nbackend web {\n  sticky_cookie = \"SRV\"\n  server a = 10.0.0.1:80\n}\n\
                frontend f {\n  bind :80\n  default -> web\n}\n";
    let new = base.replace("  server a", "  server b = 10.0.0.2:80\n  server a");
    let compile = |version: &str, source: &str| {
        let project = TempProject::new(&[
            ("haptic.toml", &support::manifest(version)),
            ("main.hap", source),
        ]);
        let c = project.compile();
        assert!(!c.has_errors(), "{}", support::rendered(&c));
        c
    };
    for (from, to, runtime) in [
        ("2.6", "2.6", false),
        ("2.8", "2.8", false),
        ("3.0", "3.0", true),
        ("2.6", "3.0", false),
        ("3.0", "2.8", false),
    ] {
        let plan = haptic::plan::classify(&compile(from, base).envs[0], &compile(to, &new).envs[0]);
        let [change] = &plan.changes[..] else {
            panic!("{from} -> {to}: {plan:#?}")
        };
        match (&change.apply, runtime) {
            (haptic::plan::Apply::Runtime(commands), true) => {
                let add = commands[0].line();
                assert_eq!(add, "add server web/b 10.0.0.2:80 weight 100 cookie b");
            }
            (haptic::plan::Apply::Reload(reason), false) => {
                let older = from.min(to);
                assert!(
                    reason.contains(&format!(
                        "`cookie` option that sticky sessions need on HAProxy {older}"
                    )),
                    "{from} -> {to}: {reason}"
                );
            }
            (apply, _) => panic!("{from} -> {to}: {apply:?}"),
        }
    }
}

/// A new target version changes no line of the configuration, but what a
/// plan counts on: every rendering says so, and `--detailed-exitcode`
/// counts it as a change.
#[test]
fn a_new_target_version_is_said_in_every_rendering() {
    let source = "env e\nbackend web { server a = 10.0.0.1:80 }\nfrontend f {\n  bind :80\n  default -> web\n}\n";
    let project = |version: &str| {
        TempProject::new(&[
            ("haptic.toml", &support::manifest(version)),
            ("main.hap", source),
        ])
    };
    let (base, new) = (project("2.6"), project("3.0"));
    let diff = |format: &str| {
        let out = haptic(
            &[
                "diff",
                "--base",
                base.path().to_str().unwrap(),
                "--format",
                format,
                "--detailed-exitcode",
            ],
            new.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let note = "target HAProxy 2.6 -> 3.0: the configuration is written alike for both; \
                what goes live without a reload counts on what 2.6 takes";
    let text = diff("text");
    assert!(
        text.contains(&format!("environment e\n  {note}\n  No other changes.\n")),
        "{text}"
    );
    let markdown = diff("markdown");
    assert!(
        markdown.contains(&format!(
            "### `e`\n\n> {}\n\nNo other changes.\n",
            note.replace('>', "&gt;")
        )),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&diff("json")).unwrap();
    assert_eq!(
        json["environments"][0]["target"],
        serde_json::json!({ "old": "2.6", "new": "3.0" })
    );
    // The same target on both sides: nothing to say.
    let out = haptic(
        &[
            "diff",
            "--base",
            new.path().to_str().unwrap(),
            "--detailed-exitcode",
        ],
        new.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("target HAProxy") && text.contains("No changes."),
        "{text}"
    );
}

/// Lines written above a backend move it and its servers in the file and
/// change nothing of them: the plan takes them as they are (`same_as`, the
/// origins left out), without a change and without comparing them field
/// by field.
#[test]
fn objects_that_only_moved_in_their_file_are_unchanged() {
    let base = "env e\nbackend a {\n  server s = 10.0.0.1:80\n  server t = 10.0.0.2:80\n}\n\
                frontend f {\n  bind :80\n  default -> a\n}\n";
    let moved = format!("// the team's backends\n\n{base}");
    let (old, new) = (
        TempProject::single(base).compile(),
        TempProject::single(&moved).compile(),
    );
    let (old_a, new_a) = (&old.envs[0].backends[0], &new.envs[0].backends[0]);
    assert_ne!(old_a, new_a, "the origins differ");
    assert!(old_a.same_as(new_a) && old_a.servers[1].same_as(&new_a.servers[1]));
    assert!(haptic::plan::classify(&old.envs[0], &new.envs[0])
        .changes
        .is_empty());
    let reweighted = moved.replace("10.0.0.2:80", "10.0.0.2:80 { weight = 5 }");
    let changed = TempProject::single(&reweighted).compile();
    assert!(!old_a.same_as(&changed.envs[0].backends[0]));
    let plan = haptic::plan::classify(&old.envs[0], &changed.envs[0]);
    assert_eq!(plan.changes.len(), 1, "{plan:#?}");
}

#[test]
fn plan_kinds_and_classification() {
    let dir = support::repo_root().join("tests/plans");
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let servers = reports(&read("servers.base.hap"), &read("servers.new.hap"));
    let objects: Vec<String> = servers[0]
        .plan
        .changes
        .iter()
        .map(|c| {
            format!(
                "{:?} {} {}",
                c.action,
                c.object,
                matches!(c.apply, haptic::plan::Apply::Runtime(_))
            )
        })
        .collect();
    for expected in [
        "Remove backend web / server d true",
        "Add backend api / server d true",
        "Update backend web / server a true",
        "Update backend web / server b true",
        "Update backend web / server c true",
        "Update backend web / server e true",
        "Add backend web / server f true",
    ] {
        assert!(
            objects.iter().any(|o| o == expected),
            "{expected} not in {objects:#?}"
        );
    }
    // Destructive changes come first in every rendering.
    let text = render::text(&servers, false);
    assert!(
        text.contains("      moved to: backend api")
            && text.contains("      moved from: backend web"),
        "{text}"
    );
    let first_change = text
        .lines()
        .find(|l| l.starts_with("  - ") || l.starts_with("  + ") || l.starts_with("  ~ "))
        .unwrap();
    assert!(first_change.contains("- backend web / server d"), "{text}");

    let none = reports(&read("no_change.base.hap"), &read("no_change.new.hap"));
    assert!(none
        .iter()
        .all(|r| r.plan.changes.is_empty() && r.cfg_diff.is_empty()));
    let md = render::markdown(&none, "base", &[]);
    assert!(
        md.contains("No changes in `staging`, `production`."),
        "{md}"
    );
    assert_eq!(
        render::gitlab_widget(&none),
        "{\"create\":0,\"update\":0,\"delete\":0}\n"
    );

    let one = reports(&read("one_env.base.hap"), &read("one_env.new.hap"));
    assert!(one[0].plan.changes.is_empty(), "staging is unchanged");
    assert_eq!(one[1].plan.changes.len(), 1);
    assert_eq!(
        render::gitlab_widget(&one),
        "{\"create\":0,\"update\":1,\"delete\":0}\n"
    );

    let tls = reports(&read("tls.base.hap"), &read("tls.new.hap"));
    let change = &tls[0].plan.changes[0];
    assert!(
        change.destructive && change.object.to_string() == "tls public",
        "{change:?}"
    );
}

/// A routes map entry to a backend whose servers arrive in the same
/// change is sent after them: traffic goes there once they are set.
#[test]
fn routes_map_commands_come_after_the_servers() {
    let source = |servers: &str, routes: &str| {
        format!(
            "env production\ndefaults {{ routes_map = \"/etc/haproxy/routes.map\" }}\n\
             backend a {{ server s = 10.0.0.1:80 }}\nbackend b {{\n{servers}}}\n\
             frontend f {{\n  bind :80\n{routes}  default -> a\n}}\n"
        )
    };
    let reports = reports(
        &source(
            "  server old = 10.0.0.9:80\n",
            "  route host \"b.example.com\" -> a\n",
        ),
        &source(
            "  server old = 10.0.0.9:80\n  server s = 10.0.0.2:80\n",
            "  route host \"b.example.com\" -> b\n",
        ),
    );
    let lines: Vec<String> = reports[0]
        .plan
        .runtime_commands()
        .iter()
        .map(|c| c.line())
        .collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("set map /etc/haproxy/routes.map b.example.com@f/ b"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("add server b/s ")),
        "{lines:?}"
    );
}

#[test]
fn the_note_stays_under_the_limit_by_trimming_the_diff_only() {
    // Thousands of servers re-weighted: the diff alone is over a megabyte.
    let mut base = String::from("env production\nbackend web {\n");
    let mut new = base.clone();
    for i in 0..6000 {
        let line = format!(
            "  server s{i} = 10.{}.{}.{}:8080 {{ weight = ",
            i / 65536,
            (i / 256) % 256,
            i % 256
        );
        base.push_str(&format!("{line}10, maxconn = 1000 }}\n"));
        new.push_str(&format!("{line}20, maxconn = 1000 }}\n"));
    }
    for text in [&mut base, &mut new] {
        text.push_str("}\nfrontend f { bind :8080  default -> web }\n");
    }
    let reports = reports(&base, &new);
    let diff_len: usize = reports.iter().map(|r| r.cfg_diff.len()).sum();
    let md = render::markdown(&reports, "base", &[]);
    assert!(
        md.chars().count() <= render::GITLAB_NOTE_LIMIT,
        "{}",
        md.len()
    );
    assert!(md.contains("left out to stay within GitLab's note limit"));
    assert!(md.len() < diff_len + 600_000, "the diff was trimmed");
    // Every change of the plan is still there.
    assert_eq!(md.matches("| ~ | `backend web / server s").count(), 6000);

    let small = render::markdown_within(&reports, "base", &[], 700_000);
    assert!(small.chars().count() <= 700_000);
}

/// When the plan alone is longer than a note can hold, the note keeps
/// every environment's summary, then its destructive changes, then as many
/// other changes as fit, and counts what it leaves out; no diff.
#[test]
fn a_plan_longer_than_a_note_keeps_summaries_and_destructive_changes_first() {
    let servers = |weight: u32, count: usize| {
        let mut text = String::from("env staging\nenv production\nbackend web {\n");
        for i in 0..count {
            text.push_str(&format!(
                "  server s{i} = 10.0.{}.{}:8080 {{ weight = {weight} }}\n",
                i / 256,
                i % 256
            ));
        }
        text.push_str("}\nfrontend f { bind :8080  default -> web }\n");
        text
    };
    // 2,000 servers re-weighted and 1,000 removed, in each environment.
    let reports = reports(&servers(10, 3000), &servers(20, 2000));
    let whole = render::markdown_within(&reports, "base", &[], usize::MAX);
    let limit = 120_000;
    assert!(whole.chars().count() > 4 * limit, "the plan alone is long");
    let md = render::markdown_within(&reports, "base", &[], limit);
    assert!(md.chars().count() <= limit, "{}", md.chars().count());
    assert!(md.contains("This plan is longer than a GitLab note can hold"));
    assert!(!md.contains("haproxy.cfg diff"), "no diff");
    for env in ["staging", "production"] {
        let section = md.split(&format!("### `{env}`")).nth(1).unwrap();
        let section = section.split("### `").next().unwrap();
        assert!(
            section.contains("2000 to change, 1000 to remove"),
            "{section:.300}"
        );
        // Destructive changes come first and are all there; the table
        // holds what is left of the room, and says how much is missing.
        assert_eq!(
            section
                .matches("> - **removed** `backend web / server s")
                .count(),
            1000,
            "{env}"
        );
        let rows = section.matches("| ~ | `backend web / server s").count()
            + section.matches("| - | `backend web / server s").count();
        let left: usize = section
            .split("_")
            .find_map(|part| part.strip_suffix(" change(s) left out: the plan is longer than a GitLab note can hold; run `haptic diff` for all of it."))
            .and_then(|n| n.parse().ok())
            .expect("the table says what it left out");
        assert_eq!(rows + left, 3000, "{env}");
        assert!(rows > 0, "{env}: some rows fit");
    }
    // A limit the plan fits in, but not with its diffs: the whole plan,
    // and only the diffs left out.
    let mut reports = reports;
    let diffs: Vec<String> = reports
        .iter_mut()
        .map(|r| std::mem::take(&mut r.cfg_diff))
        .collect();
    let plan_len = render::markdown_within(&reports, "base", &[], usize::MAX)
        .chars()
        .count();
    for (report, diff) in reports.iter_mut().zip(diffs) {
        report.cfg_diff = diff;
    }
    let fits = render::markdown_within(&reports, "base", &[], plan_len + 300);
    assert!(fits.chars().count() <= plan_len + 300);
    assert!(fits.contains("diffs are left out to stay within GitLab's note limit"));
    assert!(
        !fits.contains("left out: the plan is longer"),
        "no line of the plan is left out"
    );
    assert_eq!(
        fits.matches("| ~ | `backend web / server s").count(),
        2 * 2000
    );

    // A tighter limit leaves out destructive changes too, and says so.
    let tight = render::markdown_within(&reports, "base", &[], 20_000);
    assert!(tight.chars().count() <= 20_000);
    assert!(tight.contains("more destructive change(s) left out"));
    assert!(tight.contains("### `production`"));
}

#[test]
fn diff_against_head_and_detached_head() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let read = |n: &str| {
        std::fs::read_to_string(support::repo_root().join("tests/plans").join(n)).unwrap()
    };
    support::write(&dir.join("haptic.toml"), support::MANIFEST.as_bytes());
    support::write(&dir.join("main.hap"), read("servers.base.hap").as_bytes());
    support::git(dir, &["init", "-q"]);
    support::git(dir, &["add", "."]);
    support::git(dir, &["commit", "-qm", "base"]);
    support::write(&dir.join("main.hap"), read("servers.new.hap").as_bytes());
    support::git(dir, &["commit", "-qam", "new"]);
    for detached in [false, true] {
        if detached {
            support::git(dir, &["checkout", "-q", "--detach", "HEAD"]);
        }
        let widget = dir.join("plan.json");
        let out = haptic(
            &[
                "diff",
                "--base",
                "HEAD~1",
                "--gitlab-report",
                widget.to_str().unwrap(),
            ],
            dir,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        support::assert_success(&out);
        assert!(
            stdout.contains("Plan: 2 to add, 4 to change, 1 to remove."),
            "{stdout}"
        );
        assert!(
            stdout.contains("7 go live through the Runtime API (hitless), 0 need a reload."),
            "{stdout}"
        );
        assert!(!stdout.contains('\x1b'), "no colour when not on a terminal");
        assert_eq!(
            std::fs::read_to_string(&widget).unwrap(),
            "{\"create\":2,\"update\":4,\"delete\":1}\n"
        );
        let out = haptic(
            &[
                "diff",
                "--base",
                "HEAD~1",
                "--format",
                "markdown",
                "--detailed-exitcode",
            ],
            dir,
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!-- haptic:plan -->\n"));
        let out = haptic(&["diff", "--base", "HEAD", "--detailed-exitcode"], dir);
        assert_eq!(out.status.code(), Some(0), "no change against itself");
    }
}

fn check_report(dir: &std::path::Path, format: &str) -> serde_json::Value {
    let out = haptic(&["check", "--format", format], dir);
    assert_eq!(out.status.code(), Some(1));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

const FINDINGS: &str = "env production\nbackend web {\n  balance = roundrobbin\n  server a = 10.0.0.1:99999\n}\nbackend idle { server i = 10.0.0.2:80 }\nfrontend f { bind :8080  default -> web }\n";

#[test]
fn code_quality_report_has_what_gitlab_reads() {
    let project = TempProject::single(FINDINGS);
    let report = check_report(project.path(), "gitlab");
    let findings = report.as_array().unwrap();
    assert_eq!(findings.len(), 3);
    for f in findings {
        assert!(f["description"].as_str().unwrap().len() > 10);
        assert!(f["check_name"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-'));
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&f["severity"].as_str().unwrap()));
        assert_eq!(f["location"]["path"], "main.hap");
        assert!(f["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
    let lines: Vec<u64> = findings
        .iter()
        .map(|f| f["location"]["lines"]["begin"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 6]);
    assert_eq!(findings[2]["severity"], "minor");

    // Blank lines above the findings move them, but keep their fingerprints.
    let shifted =
        TempProject::single(&FINDINGS.replace("env production\n", "env production\n\n\n\n"));
    let moved = check_report(shifted.path(), "gitlab");
    for (a, b) in findings.iter().zip(moved.as_array().unwrap()) {
        assert_eq!(a["fingerprint"], b["fingerprint"]);
        assert_eq!(
            a["location"]["lines"]["begin"].as_u64().unwrap() + 3,
            b["location"]["lines"]["begin"].as_u64().unwrap()
        );
    }
    // Fingerprints are unique within a report.
    let mut prints: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), 3);
}

#[test]
fn code_quality_paths_are_repository_paths() {
    let repo = tempfile::tempdir().unwrap();
    let project = repo.path().join("lb");
    support::write(&project.join("haptic.toml"), support::MANIFEST.as_bytes());
    support::write(&project.join("main.hap"), FINDINGS.as_bytes());
    support::git(repo.path(), &["init", "-q"]);
    let out = haptic(&["check", "--format", "gitlab", "lb"], repo.path());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["location"]["path"], "lb/main.hap");
}

#[test]
fn sarif_report_is_sarif_2_1_0() {
    let project = TempProject::single(FINDINGS);
    let log = check_report(project.path(), "sarif");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(run["tool"]["driver"]["name"], "haptic");
    for rule in rules {
        assert!(rule["id"].as_str().unwrap().len() == 5);
        assert!(rule["help"]["text"].as_str().unwrap().len() > 20);
        assert!(rule["shortDescription"]["text"].as_str().unwrap().len() > 5);
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let port = results.iter().find(|r| r["ruleId"] == "E0201").unwrap();
    assert_eq!(port["level"], "error");
    assert_eq!(
        rules[port["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "E0201"
    );
    let region = &port["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 4);
    assert_eq!(region["startColumn"], 23);
    assert_eq!(
        port["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "main.hap"
    );
    let warning = results.iter().find(|r| r["ruleId"] == "W0001").unwrap();
    assert_eq!(warning["level"], "warning");
    // A rule's short description is its one-line summary.
    let enum_rule = rules.iter().find(|r| r["id"] == "E0202").unwrap();
    assert_eq!(
        enum_rule["shortDescription"]["text"],
        haptic::diag::Code::InvalidEnum.summary()
    );
    // A misspelling carries its fix: the replacement of its region.
    let misspelt = results.iter().find(|r| r["ruleId"] == "E0202").unwrap();
    assert!(port.get("fixes").is_none(), "{port}");
    let change = &misspelt["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "main.hap");
    let replacement = &change["replacements"][0];
    assert_eq!(
        replacement["deletedRegion"],
        misspelt["locations"][0]["physicalLocation"]["region"]
    );
    assert_eq!(replacement["insertedContent"]["text"], "roundrobin");
}

/// The GitLab CI template.
fn ci_template() -> String {
    std::fs::read_to_string(support::repo_root().join("examples/ci/.gitlab-ci.yml")).unwrap()
}

/// Every `haptic ...` command of the GitLab CI template parses with this
/// version of the command line.
#[test]
fn ci_template_commands_are_valid() {
    use clap::Parser;
    let template = ci_template();
    let mut seen = std::collections::BTreeSet::new();
    for line in template.lines() {
        let line = line.trim().trim_start_matches("- ");
        let Some(pos) = line.find("haptic ") else {
            continue;
        };
        if line.starts_with('#') || line.contains("haptic:") {
            continue;
        }
        let command = &line[pos..];
        let command = command.split(['>', '|']).next().unwrap().trim();
        let words: Vec<String> = command
            .split_whitespace()
            .map(|w| w.trim_matches('"').to_string())
            .collect();
        let parsed = haptic::cli::Cli::try_parse_from(&words);
        assert!(parsed.is_ok(), "`{command}`: {}", parsed.unwrap_err());
        seen.insert(words[1].clone());
    }
    let expected: std::collections::BTreeSet<String> = ["apply", "check", "compile", "diff"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(seen, expected);
    assert!(template.contains("<!-- haptic:plan -->") && template.contains("terraform: plan.json"));
    assert!(template.contains("codequality: gl-code-quality-report.json"));
}

/// The template's deploy job finds where a routes map goes in the map's
/// own header, with `sed`: the expression it runs finds the path of a map
/// that haptic writes.
#[test]
fn ci_template_finds_the_path_of_the_routes_map() {
    let template = ci_template();
    let line = template
        .lines()
        .find(|l| l.contains("sed -n"))
        .expect("the deploy job reads the map's path");
    let expression = line.split('\'').nth(1).expect("a quoted sed expression");
    let project = TempProject::single(
        "env production\ndefaults { routes_map = \"/etc/haproxy/maps/edge-1.map\" }\n\
         backend a { server s = 10.0.0.1:80 }\n\
         frontend f {\n  bind :80\n  route host \"a.example.com\" -> a\n}\n",
    );
    let map = project.compile().outputs().remove(0).routes_map.unwrap();
    let file = project.path().join("routes.map");
    std::fs::write(&file, map).unwrap();
    let out = std::process::Command::new("sed")
        .args(["-n", expression])
        .arg(&file)
        .output()
        .expect("sed");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/etc/haproxy/maps/edge-1.map\n"
    );
}

#[test]
fn diff_against_a_revision_without_the_project() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    support::write(&dir.join("README"), b"before haptic\n");
    support::git(dir, &["init", "-q"]);
    support::git(dir, &["add", "."]);
    support::git(dir, &["commit", "-qm", "before"]);
    support::write(&dir.join("lb/haptic.toml"), support::MANIFEST.as_bytes());
    support::write(&dir.join("lb/main.hap"), b"env production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :8080  default -> b }\n");
    support::git(dir, &["add", "."]);
    support::git(dir, &["commit", "-qm", "add the load balancer"]);
    let out = haptic(&["diff", "lb", "--base", "HEAD~1"], dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    support::assert_success(&out);
    assert!(stdout.contains("+ environment production"), "{stdout}");
    assert!(stdout.contains("+backend b"), "{stdout}");
}

/// The template's deploy job reads HAProxy's environment before its
/// `haproxy -c`, so that the check expands the secrets as HAProxy does:
/// the shop's production passes with the file its service reads, and
/// stops, naming the secret, when the file lacks one.
#[test]
fn ci_template_checks_with_haproxys_own_environment() {
    let template = ci_template();
    let line = template
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("- set -a") && l.contains("/etc/default/haproxy"))
        .expect("the deploy job reads HAProxy's environment")
        .trim_start_matches("- ");
    let dir = support::repo_root().join("examples/shop");
    let output = haptic::driver::compile(&dir)
        .expect("example loads")
        .outputs()
        .into_iter()
        .find(|o| o.env == "production")
        .unwrap();
    let (cfg, secrets) = support::for_test_machine(&output.haproxy_cfg);
    let run = tempfile::tempdir().unwrap();
    let cfg_path = run.path().join("haproxy.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let env_file = run.path().join("default-haproxy");
    let check = |lines: &[String]| {
        std::fs::write(&env_file, lines.join("\n") + "\n").unwrap();
        let script = format!(
            "{}\n{} -c -f {}",
            line.replace("/etc/default/haproxy", &env_file.display().to_string()),
            support::haproxy(),
            cfg_path.display()
        );
        let mut command = std::process::Command::new("sh");
        command.args(["-c", &script]);
        for name in &secrets {
            command.env_remove(name);
        }
        command.output().expect("sh")
    };
    let all: Vec<String> = secrets
        .iter()
        .map(|n| format!("{n}=from-the-file"))
        .collect();
    let out = check(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = check(&all[1..]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("secret {} is not set", secrets[0])),
        "{said}"
    );
}
