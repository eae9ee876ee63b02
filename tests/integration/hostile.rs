//! No input can break the output: hostile strings in every string-bearing
//! position give diagnostics, never a panic, and never a `haproxy.cfg` line
//! or a `runtime.txt` command that the input injected. Random mutations of
//! the examples never panic.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use crate::support;

/// Every position where the language accepts a string, with a value that
/// is valid there. `@@` marks the position.
const POSITIONS: &[(&str, &str)] = &[
    ("route host \"@@\" -> b", "api.example.com"),
    ("route host \"*.@@\" -> b", "tenants.example.com"),
    (
        "route host \"a.example.com\" -> redirect \"@@\"",
        "https://new.example.com",
    ),
    ("route path prefix \"@@\" -> b", "/api/"),
    ("route path exact \"@@\" -> b", "/status"),
    // Map entries in the environment with a routes map: the path is in
    // the key.
    (
        "route host \"a.example.com\" path prefix \"@@\" -> b",
        "/api/",
    ),
    (
        "route host \"a.example.com\" path exact \"@@\" -> b",
        "/status",
    ),
    ("route from [\"@@\"] -> b", "2001:db8::/32"),
    ("route header \"@@\" -> b", "X-Canary"),
    ("route header \"X-Canary\" \"@@\" -> b", "always"),
    ("route header \"X-Key\" secret(\"@@\") -> b", "INTERNAL_KEY"),
    (
        "route host \"a.example.com\" header \"X-Canary\" \"@@\" -> b",
        "always",
    ),
    ("default -> redirect \"@@\"", "https://new.example.com"),
    ("monitor_uri = \"@@\"", "/-/haproxy"),
    (
        "error_pages = [{ status = 403, file = \"@@\" }]",
        "/etc/haproxy/errors/403.http",
    ),
    ("remove_request_headers = [\"@@\"]", "X-Internal-User"),
    ("remove_response_headers = [\"@@\"]", "Server"),
    ("request_header \"X-A\" = \"@@\"", "value"),
    ("response_header \"@@\" = \"v\"", "X-Name"),
];

const BACKEND_POSITIONS: &[(&str, &str)] = &[
    ("check = http { path = \"@@\" }", "/healthz"),
    ("check = http { host = \"@@\" }", "app.example.com"),
    ("check = http { expect_body = \"@@\" }", "status: UP"),
    ("sticky_cookie = \"@@\"", "SRV"),
    ("compress = [\"@@\"]", "text/html"),
    ("strip_prefix = \"@@\"", "/api"),
    ("add_prefix = \"@@\"", "/v2"),
    (
        "error_pages = [{ status = 503, file = \"@@\" }]",
        "/etc/haproxy/errors/503.http",
    ),
    ("remove_request_headers = [\"@@\"]", "Cookie"),
    ("remove_response_headers = [\"@@\"]", "X-Powered-By"),
    (
        "basic_auth = { realm = \"@@\", users = [{ name = \"u\", password_hash = secret(\"H\") }] }",
        "operations",
    ),
    (
        "basic_auth = { users = [{ name = \"@@\", password_hash = secret(\"H\") }] }",
        "alice",
    ),
    (
        "basic_auth = { users = [{ name = \"u\", password_hash = secret(\"@@\") }] }",
        "ALICE_HASH",
    ),
    ("check = http { expect = [200, \"@@\"] }", "3xx"),
    ("request_header \"X-B\" = \"@@\"", "value"),
    ("response_header \"X-R\" = \"@@\"", "value"),
    ("response_header \"@@\" = \"v\"", "X-Name"),
    ("request_header \"X-S\" = secret(\"@@\")", "TOKEN"),
    ("server h = \"@@\":80", "localhost"),
    (
        "server t = 10.0.0.9:443 { tls = { ca = \"@@\" } }",
        "/etc/ca.pem",
    ),
    (
        "server u = 10.0.0.9:443 { tls = { ca = \"/ca.pem\", sni = \"@@\" } }",
        "app.internal",
    ),
];

const TOP_POSITIONS: &[(&str, &str)] = &[
    ("tls t = { certs = \"@@\" }", "/etc/haproxy/certs/site.pem"),
    (
        "tls t = { certs = \"/c.pem\", ciphers = \"@@\" }",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    ("tls t = { certs = \"/c.pem\", alpn = [\"@@\"] }", "h2"),
    (
        "tls t = { certs = \"/c.pem\", ciphersuites = \"@@\" }",
        "TLS_AES_128_GCM_SHA256",
    ),
    ("tls t = { certs = \"/c.pem\", curves = \"@@\" }", "X25519"),
    ("tls t = { crt_list = \"@@\" }", "/etc/haproxy/crt-list.txt"),
    (
        "tls t = { certs = \"/c.pem\", client_ca = \"@@\" }",
        "/etc/haproxy/ca/clients.pem",
    ),
    (
        "stats { bind = 127.0.0.1:8404, user = \"@@\", password = secret(\"P\") }",
        "admin",
    ),
    (
        "stats { bind = 127.0.0.1:8404, user = \"u\", password = secret(\"@@\") }",
        "STATS_PASSWORD",
    ),
    (
        "stats { bind = 127.0.0.1:8404, user = \"u\", uri = \"@@\", password = secret(\"P\") }",
        "/stats",
    ),
    (
        "stats { bind = 127.0.0.1:8404, user = \"u\", metrics = \"@@\", password = secret(\"P\") }",
        "/metrics",
    ),
    (
        "stats { bind = 127.0.0.1:8404, user = \"u\", password = secret(\"P\"), allow = [\"@@\"] }",
        "10.0.0.0/8",
    ),
    ("defaults { socket = \"@@\" }", "/run/haproxy/admin.sock"),
    ("defaults { log = \"@@\" }", "/dev/log"),
    (
        "defaults { error_pages = [{ status = 504, file = \"@@\" }] }",
        "/etc/haproxy/errors/504.http",
    ),
    (
        "defaults { routes_map = \"@@\" }",
        "/etc/haproxy/routes.map",
    ),
    (
        "defaults { dns = { nameservers = [\"@@\":53] } }",
        "10.0.0.2",
    ),
    ("let s: string = \"@@\"", "text"),
    ("import \"@@\"", "main.hap"),
];

fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "a\nb",
        "a\r\nglobal",
        "x\nbind :1\n",
        "#comment",
        "a b",
        "a\tb",
        "'single'",
        "\"double\"",
        "a;b",
        "show info; shutdown frontend f",
        "${EVIL}",
        "$EVIL",
        "$(reboot)",
        "a\0b",
        "\\",
        "a\\nb",
        "%[src]",
        "-----BEGIN PRIVATE KEY-----",
        "é",
        "\u{202e}evil",
        "}",
        "{ }",
        "\"; bind :1 #",
        "",
        " ",
        "/a b",
        "/../../etc/passwd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("a".repeat(10_000));
    values.push("/".to_string() + &"a".repeat(2000));
    values.push("x".repeat(70));
    values
}

/// Writes `value` as a haptic string literal's content. Half the time the
/// characters are written raw (a newline in the file), half escaped.
fn literal(value: &str, escape_all: bool) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if escape_all => out.push_str("\\n"),
            '\t' if escape_all => out.push_str("\\t"),
            '\0' if escape_all => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out
}

/// A project with `top`, `backend` and `frontend` in their places; the
/// frontend sends the rest to `b`, unless `frontend` is its default.
fn project_source(top: &str, backend: &str, frontend: &str) -> String {
    let default = if frontend.starts_with("default") {
        ""
    } else {
        "default -> b"
    };
    format!(
        "env production\n{top}\nbackend b {{\n  server s = 10.0.0.1:80\n  {backend}\n}}\nfrontend f {{\n  bind :8080\n  {frontend}\n  {default}\n}}\n"
    )
}

fn compile(source: &str) -> haptic::driver::Compilation {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("haptic.toml".into(), support::MANIFEST.as_bytes().to_vec());
    files.insert("main.hap".into(), source.as_bytes().to_vec());
    haptic::driver::compile_from(Path::new("."), &files).expect("manifest is valid")
}

/// The directive skeleton of a configuration: the first word of each line.
fn skeleton(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn hostile_strings_never_inject() {
    let mut checked = 0;
    let mut accepted = Vec::new();
    // The frontend's positions twice: routes as rules, and in an
    // environment with a routes map (a host route is then an entry).
    const MAP: &str = "defaults { routes_map = \"/etc/haproxy/routes.map\" }";
    let cases = POSITIONS
        .iter()
        .map(|(t, ok)| (*t, *ok, 2, ""))
        .chain(POSITIONS.iter().map(|(t, ok)| (*t, *ok, 2, MAP)))
        .chain(BACKEND_POSITIONS.iter().map(|(t, ok)| (*t, *ok, 1, "")))
        .chain(TOP_POSITIONS.iter().map(|(t, ok)| (*t, *ok, 0, "")));
    for (template, benign, slot, map) in cases {
        let fill = |value: &str, escape: bool| {
            let item = template.replace("@@", &literal(value, escape));
            let mut parts = [map.to_string(), String::new(), String::new()];
            if slot == 0 {
                parts[0].push_str(&item);
                // A TLS policy's strings reach the output where a bind
                // uses it.
                if template.starts_with("tls t ") {
                    parts[2] = "bind :8443 tls t".into();
                }
            } else {
                parts[slot] = item;
            }
            project_source(&parts[0], &parts[1], &parts[2])
        };
        let baseline = compile(&fill(benign, true));
        assert!(
            !baseline.has_errors(),
            "benign `{template}`:\n{}",
            support::rendered(&baseline)
        );
        let baseline = baseline.outputs();
        for value in hostile_values() {
            for escape in [true, false] {
                let source = fill(&value, escape);
                let compilation = std::panic::catch_unwind(|| compile(&source))
                    .unwrap_or_else(|_| panic!("panic on {value:?} in `{template}`"));
                checked += 1;
                if compilation.has_errors() {
                    assert!(
                        compilation.diagnostics.iter().all(|d| d.span.is_some()),
                        "{value:?}"
                    );
                    // A diagnostic never repeats a control character back
                    // (it would reach the terminal or the editor as is).
                    for d in &compilation.diagnostics {
                        let texts = std::iter::once(&d.message)
                            .chain(&d.help)
                            .chain(d.labels.iter().map(|l| &l.message));
                        for text in texts {
                            assert!(
                                !text.chars().any(char::is_control),
                                "{value:?} in `{template}`: {text:?}"
                            );
                        }
                    }
                    continue;
                }
                let outputs = compilation.outputs();
                for (output, base) in outputs.iter().zip(&baseline) {
                    assert_eq!(
                        skeleton(&output.haproxy_cfg),
                        skeleton(&base.haproxy_cfg),
                        "{value:?} in `{template}` changed the configuration's lines:\n{}",
                        output.haproxy_cfg
                    );
                    assert_eq!(skeleton(&output.runtime_txt), skeleton(&base.runtime_txt));
                    // A map's lines begin with their key: the same number
                    // of entries, each a key and a backend.
                    let entries = |map: &str| -> Vec<usize> {
                        map.lines()
                            .filter(|l| !l.starts_with('#'))
                            .map(|l| l.split_whitespace().count())
                            .collect()
                    };
                    assert_eq!(
                        output.routes_map.as_deref().map(entries),
                        base.routes_map.as_deref().map(entries),
                        "{value:?} in `{template}`"
                    );
                    if let Some(map) = &output.routes_map {
                        assert!(!map.contains(['\r', '\0', '\t']), "{map:?}");
                    }
                    for line in output.runtime_txt.lines().filter(|l| !l.starts_with('#')) {
                        assert!(line.starts_with("set ") && !line.contains(';'), "{line:?}");
                    }
                }
                accepted.push((template, value.clone(), outputs));
            }
        }
    }
    assert!(checked > 1000, "{checked}");
    // What was accepted must also be accepted by HAProxy as one argument.
    for (template, value, outputs) in &accepted {
        for output in outputs {
            if let Err(e) = support::haproxy_check_output(output) {
                panic!(
                    "{value:?} in `{template}` was accepted but HAProxy refuses the output: {e}"
                );
            }
        }
    }
}

/// The strings of `haptic.toml`: the project's name is written into the
/// header of every output, the production environments and the entry file
/// name things of the sources. Each hostile value is a diagnostic or
/// leaves the outputs' lines (comments included) as they were.
#[test]
fn hostile_manifest_strings_never_inject() {
    const SOURCE: &str =
        "env production\nbackend b { server s = 10.0.0.1:80 }\nfrontend f {\n  bind :8080\n  default -> b\n}\n";
    let positions = [
        ("name = @@", "shop"),
        ("production = [@@]", "production"),
        ("entry = @@", "main.hap"),
    ];
    let compile = |line: &str| {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let manifest = if line.starts_with("name") {
            format!("[project]\n{line}\nhaproxy = \"2.6\"\n")
        } else {
            format!("[project]\nname = \"test\"\nhaproxy = \"2.6\"\n{line}\n")
        };
        files.insert("haptic.toml".into(), manifest.into_bytes());
        files.insert("main.hap".into(), SOURCE.as_bytes().to_vec());
        haptic::driver::compile_from(Path::new("."), &files)
    };
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect()
    };
    let mut refused = 0;
    for (template, benign) in positions {
        let written = |value: &str| template.replace("@@", &toml::Value::from(value).to_string());
        let baseline = compile(&written(benign)).expect("a valid manifest");
        assert!(!baseline.has_errors(), "{}", support::rendered(&baseline));
        let baseline = baseline.outputs();
        for value in hostile_values() {
            let result = std::panic::catch_unwind(|| compile(&written(&value)))
                .unwrap_or_else(|_| panic!("panic on {value:?} in `{template}`"));
            let diagnostics = match &result {
                Err(haptic::project::LoadError::Manifest(_, diags)) => diags.clone(),
                Err(haptic::project::LoadError::Io(e)) => panic!("{value:?}: {e}"),
                Ok(c) if c.has_errors() => c.diagnostics.clone(),
                Ok(c) => {
                    for (output, base) in c.outputs().iter().zip(&baseline) {
                        assert_eq!(
                            lines(&output.haproxy_cfg),
                            lines(&base.haproxy_cfg),
                            "{value:?} in `{template}`:\n{}",
                            output.haproxy_cfg
                        );
                        assert_eq!(lines(&output.runtime_txt), lines(&base.runtime_txt));
                    }
                    continue;
                }
            };
            refused += 1;
            assert!(!diagnostics.is_empty());
            for d in &diagnostics {
                assert!(d.span.is_some(), "{value:?}: {d:?}");
                for text in std::iter::once(&d.message).chain(&d.help) {
                    assert!(
                        !text.chars().any(char::is_control),
                        "{value:?} in `{template}`: {text:?}"
                    );
                }
            }
        }
    }
    assert!(refused > 40, "{refused}");
}

#[test]
fn raw_hostile_text_in_name_positions_is_a_syntax_error() {
    for name in ["api\nbind :1", "a;b", "a b", "a#b", "${X}", "\"x\""] {
        let source = format!("env production\nbackend {name} {{ server s = 10.0.0.1:80 }}\n");
        let c = compile(&source);
        assert!(c.has_errors(), "{name:?} was accepted as a name");
        // The name of a block's template.
        let source = format!(
            "env production\nlet t = {{ retries = 1 }}\nbackend b with {name} {{ server s = 10.0.0.1:80 }}\n"
        );
        let c = compile(&source);
        assert!(c.has_errors(), "{name:?} was accepted as a template");
    }
}

/// The example projects, each its files by path: read once, for the
/// thousands of cases that mutate them.
pub(crate) fn examples() -> &'static [BTreeMap<String, Vec<u8>>] {
    static EXAMPLES: std::sync::OnceLock<Vec<BTreeMap<String, Vec<u8>>>> =
        std::sync::OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let root = support::repo_root().join("examples");
        let mut projects = Vec::new();
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.join("haptic.toml").exists() {
                continue;
            }
            let mut files = BTreeMap::new();
            collect(&dir, &dir, &mut files);
            projects.push(files);
        }
        projects.sort();
        projects
    })
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "out") {
                collect(root, &path, files);
            }
        } else if path.extension().is_some_and(|e| e == "hap" || e == "toml") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Flip(usize, u8),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let fragments = prop::sample::select(vec![
        b"{".to_vec(),
        b"}".to_vec(),
        b"\"".to_vec(),
        b"\n".to_vec(),
        b"\0".to_vec(),
        b"\xff".to_vec(),
        b"${X}".to_vec(),
        b";".to_vec(),
        b"#".to_vec(),
        b"99999".to_vec(),
        b"-> ".to_vec(),
        b"if env == production {".to_vec(),
        b"server z = 1.2.3.4:5".to_vec(),
        b"[[[[".to_vec(),
        b"tls.".to_vec(),
        b"= ".to_vec(),
        b"//".to_vec(),
        b"\\".to_vec(),
        b"secret(\"".to_vec(),
        b"<".to_vec(),
        b">".to_vec(),
        b"let x: list<int> = ".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), fragments).prop_map(|(at, f)| Mutation::Insert(at, f)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), 1usize..200).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
    ]
}

pub(crate) fn apply(content: &mut Vec<u8>, m: &Mutation) {
    let len = content.len().max(1);
    match m {
        Mutation::Insert(at, bytes) => {
            let at = at % len.min(content.len() + 1).max(1);
            let at = at.min(content.len());
            content.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete(at, n) => {
            let at = at % len;
            let end = (at + n).min(content.len());
            if at < end {
                content.drain(at..end);
            }
        }
        Mutation::Duplicate(at, n) => {
            let at = at % len;
            let end = (at + n).min(content.len());
            let copy: Vec<u8> = content.get(at..end).unwrap_or_default().to_vec();
            content.splice(at..at, copy);
        }
        Mutation::Flip(at, b) => {
            if !content.is_empty() {
                let at = at % content.len();
                content[at] = *b;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let projects = examples();
        let mut files = projects[example.index(projects.len())].clone();
        let names: Vec<String> = files.keys().cloned().collect();
        let name = &names[file.index(names.len())];
        let content = files.get_mut(name).unwrap();
        for m in &mutations {
            apply(content, m);
        }
        // The editor's colours of the mutated text (an editor's buffer is
        // text): every token within its line.
        if let Ok(text) = std::str::from_utf8(content) {
            let lines: Vec<usize> = text.split('\n').map(|l| l.encode_utf16().count()).collect();
            let (mut line, mut start) = (0usize, 0usize);
            for t in haptic::lsp::highlight::tokens(text) {
                if t.delta_line > 0 {
                    line += t.delta_line as usize;
                    start = 0;
                }
                start += t.delta_start as usize;
                prop_assert!(t.length > 0 && line < lines.len() && start + t.length as usize <= lines[line]);
            }
        }
        // Any result is fine (a manifest error, diagnostics, outputs) except a panic.
        if let Ok(compilation) = haptic::driver::compile_from(Path::new("."), &files) {
            let outputs = compilation.outputs();
            prop_assert!(!compilation.has_errors() || outputs.is_empty());
            for d in &compilation.diagnostics {
                let _ = haptic::diag::render::json(std::slice::from_ref(d), &compilation.project.sources);
                let fix = d.fix.as_ref().map(|f| &f.replacement);
                let texts = std::iter::once(&d.message)
                    .chain(&d.help)
                    .chain(d.labels.iter().map(|l| &l.message))
                    .chain(fix);
                for text in texts {
                    prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
                }
            }
            let _ = support::rendered(&compilation);
        }
    }
}

/// A constant may be defined through any number of others, in any order:
/// evaluated deepest first, a chain of 20,000 does not overflow the stack
/// (it did, from about 3,000). A cycle of 1,000 is one error, not a crash.
#[test]
fn long_chains_of_constants_are_evaluated_or_refused_never_overflow() {
    let chain = |n: usize, last: &str| {
        let mut src = String::from("env production\n");
        for i in 0..n - 1 {
            src.push_str(&format!("let w{i} = w{}\n", i + 1));
        }
        src.push_str(&format!("let w{} = {last}\n", n - 1));
        src.push_str("backend b { server s = 10.0.0.1:80 { weight = w0 } }\n");
        src.push_str("frontend f { bind :8080  default -> b }\n");
        src
    };
    let project = support::TempProject::single(&chain(20_000, "7"));
    let out = support::haptic(&["compile"], project.path());
    support::assert_success(&out);
    let cfg = std::fs::read_to_string(project.path().join("out/production/haproxy.cfg")).unwrap();
    assert!(cfg.contains("server s 10.0.0.1:80 weight 7"), "{cfg}");

    let project = support::TempProject::single(&chain(1_000, "w0"));
    let out = support::haptic(&["check", "--format", "json"], project.path());
    assert_eq!(out.status.code(), Some(haptic::cli::exit::INVALID));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(support::json_codes(&json), ["E0003"]);
}

/// Type arguments count as nesting: `list<list<...>>` 100,000 deep is
/// refused before either parser recurses into it (it overflowed the stack).
#[test]
fn a_deeply_nested_type_is_refused_not_a_crash() {
    let depth = 100_000;
    let ty = format!("{}int{}", "list<".repeat(depth), ">".repeat(depth));
    let source = format!(
        "env production\nlet x: {ty} = 1\nbackend b {{ server s = 10.0.0.1:80 }}\nfrontend f {{ bind :8080  default -> b }}\n"
    );
    let project = support::TempProject::single(&source);
    let out = support::haptic(&["check", "--format", "json"], project.path());
    assert_eq!(out.status.code(), Some(haptic::cli::exit::INVALID));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["code"], "E0003");
}

/// Thousands of misspelt names, each a different one, once or twice
/// wrong: every one gets the suggestion a plain search over all names
/// gives (the checker searches names prepared once, `diag::Names`; it
/// compared each misspelling with every name before, 62 s for 20,000).
#[test]
fn many_misspelt_names_each_get_the_nearest_name() {
    let n = 1_000;
    let mut src = String::from("env production\n");
    for i in 0..n {
        src.push_str(&format!("let weight{i} = 3\n"));
        let weight = if i % 2 == 0 { "wieght" } else { "weihgt" };
        src.push_str(&format!(
            "backend svc{i} {{ server s = 10.0.0.1:80 {{ weight = {weight}{i} }} }}\n"
        ));
    }
    src.push_str("frontend f {\n  bind :8080\n");
    for i in 0..n {
        let target = if i % 2 == 0 { "svcx" } else { "scx" };
        src.push_str(&format!("  route path prefix \"/{i}/\" -> {target}{i}\n"));
    }
    src.push_str("  default -> svc0\n}\n");
    let compilation = compile(&src);
    let backends: Vec<String> = (0..n).map(|i| format!("svc{i}")).collect();
    let constants: Vec<String> = (0..n).map(|i| format!("weight{i}")).collect();
    let mut checked = [0, 0];
    for d in &compilation.diagnostics {
        let (name, names, which) = match d.code.as_str() {
            "E0102" => (d.message.split('`').nth(1).unwrap(), &backends, 0),
            "E0100" => (d.message.split('`').nth(1).unwrap(), &constants, 1),
            _ => continue,
        };
        let expected = haptic::diag::nearest(name, names.iter().map(String::as_str));
        let found = d.fix.as_ref().map(|fix| fix.replacement.as_str());
        assert_eq!(found, expected, "{name}: {:?}", d.help);
        checked[which] += 1;
    }
    assert_eq!(checked, [n, n], "{:?}", &compilation.diagnostics[..3]);
}

/// Many mistakes on one very long line, in a project with many
/// environments: each diagnostic gives its place without printing the line
/// again, and lists the environments cut short, so the report grows with
/// the mistakes, not with their square (it was 312 MB for 4,000 here).
#[test]
fn many_mistakes_on_a_long_line_make_a_report_of_linear_size() {
    let n = 600;
    let mut src = String::new();
    for i in 0..n {
        src.push_str(&format!("env e{i}\n"));
    }
    src.push_str("backend b { server s = 10.0.0.1:80 }\nfrontend f { bind :80\n default -> b }\n");
    let unknown: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    src.push_str(&format!(
        "defaults {{ if env in [{}] {{ maxconn = 100 }} }}\n",
        unknown.join(", ")
    ));
    let compilation = compile(&src);
    assert_eq!(
        compilation
            .diagnostics
            .iter()
            .filter(|d| d.code.as_str() == "E0104")
            .count(),
        n
    );
    let report = support::rendered(&compilation);
    assert!(report.len() < n * 1_000, "{} bytes", report.len());
    // Where each one is, and what the environments are, still said.
    assert!(
        report.contains(&format!(
            "at main.hap:{}:23 (its lines are too long to show)",
            n + 4
        )),
        "{}",
        &report[..2000]
    );
    assert!(
        report.contains(&format!("`e19` and {} more", n - 20)),
        "{}",
        &report[..2000]
    );
    // A short line is still shown.
    let short = compile("env e0\nbackend b { server s = 10.0.0.1:80 }\nfrontend f { bind :80\n default -> b }\ndefaults { if env == x { maxconn = 1 } }\n");
    let report = support::rendered(&short);
    assert!(report.contains("defaults { if env == x"), "{report}");
}

/// Thousands of routes shadowed by the first: each warning's label is on
/// the first route, and a snippet shows every line between its spans, so
/// a far label is a help line with its place instead (the report was 94 MB
/// for 2,000 routes, in 1.3 s).
#[test]
fn far_labels_do_not_make_a_report_of_quadratic_size() {
    let n = 500;
    let mut src = String::from("env production\n");
    for i in 0..n {
        src.push_str(&format!("backend b{i} {{ server s = 10.0.0.1:80 }}\n"));
    }
    src.push_str("frontend f {\n  bind :80\n  route path prefix \"/\" -> b0\n");
    for i in 1..n {
        src.push_str(&format!("  route path prefix \"/p{i}\" -> b{i}\n"));
    }
    src.push_str("  default -> b0\n}\n");
    let compilation = compile(&src);
    let shadowed = compilation
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "W0002")
        .count();
    assert_eq!(shadowed, n - 1);
    let report = support::rendered(&compilation);
    assert!(report.len() < n * 3_000, "{} bytes", report.len());
    let first = format!("(at main.hap:{}:3)", n + 4);
    assert!(
        report.contains(&first),
        "{}",
        &report[report.len() - 3000..]
    );
    // A near label is still drawn in the snippet.
    assert!(
        report.contains("╰── an earlier route already matches"),
        "{}",
        &report[..3000]
    );
}
