//! What haptic accepts, HAProxy accepts: the examples, edited line by line
//! at random (a line removed or repeated, a value replaced, a field or an
//! item from a list below put in), are compiled, and every configuration
//! haptic writes for a project it finds no error in goes through the real
//! `haproxy -c -dW`. Edits of whole values and lines, unlike the byte
//! mutations of `hostile`, mostly make projects that check: this test
//! found that a timeout of 0 passed the checker and not HAProxy. Some of
//! them are started, on free ports, and given their `runtime.txt`, which
//! must change nothing.
//!
//! And the design's property on the examples (beside `hitless`, which
//! proves it on generated projects): edits of the kinds that may go live
//! without a reload (servers readdressed, re-weighted, drained, added,
//! removed; routes added, removed, sent elsewhere) are planned, and where
//! the plan needs no reload, HAProxy started on the example and given the
//! plan's commands runs what HAProxy started on the edit runs, and so does
//! one that `apply` converges (every reply accepted, no reload asked);
//! where it needs one, `apply` does not call the example's HAProxy
//! converged.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use proptest::prelude::*;

use crate::hostile::examples;
use crate::support;
use haptic::plan::Apply;

/// Values put in place of the word after a `=` (or a space, or a `:`),
/// by the shape of the word replaced: the bounds of its type, mostly, or
/// anything else.
const DURATIONS: &[&str] = &["0s", "0ms", "0us", "1us", "1ms", "23d", "24d", "1h"];
const NUMBERS: &[&str] = &["0", "1", "2", "255", "256", "257", "65535", "65536"];
const SIZES: &[&str] = &["0k", "1k", "1023M", "2G"];
const STRINGS: &[&str] = &[
    "\"\"",
    "\"/\"",
    "\"a b\"",
    "\"*.x.example.com\"",
    "\"x\"",
    "\"::1\"",
];
const VALUES: &[&str] = &[
    "0",
    "100",
    "65536",
    "0ms",
    "24d",
    "true",
    "false",
    "leastconn",
    "first",
    "source",
    "uri",
    "static-rr",
    "drain",
    "maint",
    "ready",
    "tls10",
    "tls13",
    "\"/\"",
    "\"\"",
    "[]",
    "[1]",
    "tcp",
    "http",
    "none",
    "optional",
    "replace",
    "keep",
    "append",
    "\"3xx\"",
    "[200, 204]",
    "0.0.0.0/0",
    "\"::1\"",
    "10.0.0.1:1",
    ":1",
    "HEAD",
    "{}",
    "always",
    "deny 200",
    "deny 404",
    "redirect \"https://a.b\"",
];

/// The values that may replace `word`.
fn values_for(word: &str) -> &'static [&'static str] {
    let digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let numeric = digits.len() < word.len();
    match digits {
        "" if numeric => NUMBERS,
        "us" | "ms" | "s" | "m" | "h" | "d" if numeric => DURATIONS,
        "k" | "M" | "G" if numeric => SIZES,
        _ if word.starts_with('"') => STRINGS,
        _ => VALUES,
    }
}

/// Lines put in between others: fields and items of every block, some of
/// them wrong where they land.
const LINES: &[&str] = &[
    "allow = [10.0.0.0/8]",
    "mode = tcp",
    "route host \"x.example.com\" -> web",
    "route path prefix \"/\" -> web",
    "strip_prefix = \"/a\"",
    "add_prefix = \"/v2\"",
    "compress = [\"text/html\"]",
    "error_pages = [{ status = 503, file = \"/etc/haproxy/errors/503.http\" }]",
    "request_id = keep",
    "max_body = 1G",
    "http2 = true",
    "send_proxy = true",
    "accept_proxy = true",
    "forwarded_for = append",
    "forwarded_proto = true",
    "monitor_uri = \"/healthz\"",
    "remove_request_headers = [\"X-Request-ID\"]",
    "response_header \"Set-Cookie\" = \"a=b\"",
    "request_header \"X-Forwarded-For\" = \"x\"",
    "sticky_cookie = \"SRV\"",
    "retries = 0",
    "redispatch = true",
    "http_reuse = always",
    "balance = static-rr",
    "maxconn = 1",
    "rate_limit = { requests = 1, connections = 1, per = 24d }",
    "timeout_hello = 1ms",
    "check = tcp { port = 65535 }",
    "check = http { path = \"/\", method = HEAD, host = \"a.b\", port = 1 }",
    "server z = 10.9.9.9:1 { backup = true, weight = 0, state = drain }",
    "server z = \"z.internal\":1 { tls = { verify = none }, http2 = true }",
    "server z = \"::1\":1 { slowstart = 0s }",
    "default -> deny 200",
    "default -> redirect \"https://a.example.com/x?y\"",
    "route header \"X-A\" \"b c\" -> web",
    "route from [10.0.0.0/8, \"::/0\"] -> web",
    "route path exact \"/\" -> deny 503",
    "bind \"::\":443",
    "bind 127.0.0.1:80 redirect https",
    "basic_auth = { users = [{ name = \"a\", password_hash = secret(\"H\") }] }",
    "stats { bind = :9000, user = \"u\", password = secret(\"P\"), allow = [10.0.0.0/8] }",
    "defaults { routes_map = \"/etc/haproxy/r.map\" }",
    "guard min_servers { count = 1 }",
    "bind :8443 tls public",
    "tls extra = tls.modern { alpn = [], hsts = 0s, tickets = true }",
    "min_version = tls13",
    "max_version = tls12",
    "ciphers = \"ECDHE-RSA-AES128-GCM-SHA256\"",
    "ciphersuites = \"TLS_AES_128_GCM_SHA256\"",
    "curves = \"X25519\"",
    "client_ca = \"/etc/haproxy/clients-ca.pem\"",
    "client_verify = optional",
    "error_pages = [{ status = 429, file = \"/etc/haproxy/errors/429.http\" }]",
    "expect_body = \"ok\"",
    "rise = 1",
    "fall = 1",
    "refresh = 1s",
    "metrics = \"/metrics\"",
    "request_header \"Authorization\" = secret(\"AUTH\")",
    "route host \"*.example.com\" path exact \"/x\" -> deny 429",
    "route host \"::1\" -> web",
    "log = \"/dev/log\"",
    "retries = 100",
    "dns = { nameservers = [10.0.0.2:53], resolve_retries = 1 }",
    "dns = { nameservers = [\"::1\":53], hold_valid = 0s, hold_nx = 24d, timeout_retry = 1ms }",
    "expect = 204",
    "expect = \"2xx\"",
    "tls = { verify = required, ca = \"/etc/ssl/certs/ca.pem\", sni = \"api.internal\" }",
    "realm = \"x\"",
    "basic_auth = { realm = \"a b\", users = [] }",
    "timeout_connect = 1ms",
    "timeout_client = 24d",
    "timeout_server = 1us",
    "timeout_check = 0s",
    "timeout_queue = 0s",
    "timeout_tunnel = 24d",
    "timeout_http_request = 0s",
    "timeout_http_keep_alive = 0s",
    "certs = \"/etc/haproxy/certs/\"",
    "crt_list = \"/etc/haproxy/crt-list.txt\"",
    "remove_response_headers = [\"Server\", \"X-Powered-By\"]",
    "socket = \"/run/haproxy/admin.sock\"",
    "state = maint",
    "check = false",
    "weight = 256",
];

#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Remove(usize),
    Repeat(usize, usize),
    /// A line, the place in it, the value (of those for the word there).
    Replace(usize, usize, usize),
    /// Before a line, a line of [`LINES`].
    Insert(usize, usize),
}

pub(crate) fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Remove),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Repeat(a, b)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, v)| Edit::Replace(a, b, v)),
        (any::<usize>(), 0..LINES.len()).prop_map(|(a, l)| Edit::Insert(a, l)),
    ]
}

pub(crate) fn apply(lines: &mut Vec<String>, edit: &Edit) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match *edit {
        Edit::Remove(at) => {
            lines.remove(at % n);
        }
        Edit::Repeat(at, from) => {
            let line = lines[from % n].clone();
            lines.insert(at % n, line);
        }
        Edit::Replace(at, place, value) => {
            let line = &lines[at % n];
            // A field's value where the line has one, else any word.
            let after = |marks: &[char]| -> Vec<usize> {
                line.match_indices(marks).map(|(i, _)| i + 1).collect()
            };
            let mut places = after(&['=']);
            if places.is_empty() {
                places = after(&[' ', ':']);
            }
            if places.is_empty() {
                return;
            }
            let start = places[place % places.len()];
            let rest = line[start..].trim_start();
            let start = line.len() - rest.len();
            let end = start + rest.find([' ', ',', '}', ']', ')']).unwrap_or(rest.len());
            let values = values_for(&line[start..end]);
            let value = values[value % values.len()];
            lines[at % n] = format!("{}{value}{}", &line[..start], &line[end..]);
        }
        Edit::Insert(at, line) => lines.insert(at % n, LINES[line].to_string()),
    }
}

/// The example `example` with `edits` made to its file `file`, compiled;
/// `None` when the project does not load or has an error.
fn edited(
    example: prop::sample::Index,
    file: prop::sample::Index,
    edits: &[Edit],
) -> Option<(String, haptic::driver::Compilation)> {
    edited_by(example, file, |lines| {
        for e in edits {
            apply(lines, e);
        }
    })
}

/// The example `example` with its file `file`'s lines changed by `edit`,
/// compiled; `None` when the project does not load or has an error.
fn edited_by(
    example: prop::sample::Index,
    file: prop::sample::Index,
    edit: impl FnOnce(&mut Vec<String>),
) -> Option<(String, haptic::driver::Compilation)> {
    let (name, files) = edited_files(example, file, edit);
    let compilation = haptic::driver::compile_from(Path::new("."), &files).ok()?;
    (!compilation.has_errors()).then_some((name, compilation))
}

/// The files of the example `example`, its `.hap` file `file` (named
/// first) with its lines changed by `edit`.
pub(crate) fn edited_files(
    example: prop::sample::Index,
    file: prop::sample::Index,
    edit: impl FnOnce(&mut Vec<String>),
) -> (String, BTreeMap<String, Vec<u8>>) {
    let projects = examples();
    let mut files = projects[example.index(projects.len())].clone();
    let names: Vec<String> = files
        .keys()
        .filter(|n| n.ends_with(".hap"))
        .cloned()
        .collect();
    let name = names[file.index(names.len())].clone();
    let text = String::from_utf8(files[&name].clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    edit(&mut lines);
    files.insert(name.clone(), (lines.join("\n") + "\n").into_bytes());
    (name, files)
}

/// The configurations checked already, in every case: the same one is not
/// given to HAProxy twice.
static CHECKED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn what_haptic_accepts_haproxy_accepts(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let Some((name, compilation)) = edited(example, file, &edits) else {
            return Ok(());
        };
        for output in compilation.outputs() {
            // The header names the sources' hash: the rest is what HAProxy reads.
            let key = format!("{}\n{}", support::body(&output.haproxy_cfg), output.routes_map.as_deref().unwrap_or(""));
            if !CHECKED.lock().unwrap().get_or_insert_with(HashSet::new).insert(key) {
                continue;
            }
            if let Err(e) = support::haproxy_check_output(&output) {
                prop_assert!(false, "{name} edited by {edits:?}, environment {}:\n{e}", output.env);
            }
        }
    }
}

/// `output`'s configuration as a test runs it: each bind on a free port of
/// the loopback address (its options kept), the Runtime API socket and
/// the routes map in `run`, and a connection limit of at most a thousand
/// (HAProxy asks the system for two descriptors a connection at start: the
/// shop's production, 20,000, needs more than a test machine may give).
fn runnable(output: &haptic::driver::Output, run: &Path) -> String {
    let mut cfg = String::new();
    for line in output.haproxy_cfg.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let first = words.iter().position(|w| !w.is_empty()).unwrap_or(0);
        match words.get(first).copied() {
            Some("bind") => {
                let port = crate::live::free_port();
                let mut words = words.clone();
                let address = format!("127.0.0.1:{port}");
                words[first + 1] = &address;
                cfg.push_str(&words.join(" "));
            }
            Some("maxconn") => {
                let limit: u32 = words[first + 1].parse().unwrap();
                cfg.push_str(&format!("{}maxconn {}", &line[..first], limit.min(1000)));
            }
            Some("stats") if words.get(first + 1) == Some(&"socket") => {
                let socket = run.join("admin.sock");
                let socket = socket.display().to_string();
                let mut words = words.clone();
                words[first + 2] = &socket;
                cfg.push_str(&words.join(" "));
            }
            _ => cfg.push_str(line),
        }
        cfg.push('\n');
    }
    match &output.routes_map {
        Some(map) => {
            let path = run.join("routes.map");
            std::fs::write(&path, map).unwrap();
            support::with_map_at(&cfg, &path)
        }
        None => cfg,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// A HAProxy started on what haptic writes for an edited example is in
    /// the declared state already: `runtime.txt` without a base, every
    /// reply accepted, changes no server's address, port, DNS name,
    /// maintenance, effective weight, connection limit, TLS, check or
    /// backup.
    #[test]
    fn haproxy_starts_in_the_declared_state(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let Some((name, compilation)) = edited(example, file, &edits) else {
            return Ok(());
        };
        let output = compilation.outputs().swap_remove(0);
        let run = tempfile::tempdir().unwrap();
        let cfg = runnable(&output, run.path());
        let haproxy = crate::live::Haproxy::start(&cfg, &run.path().join("admin.sock"));
        let seen = |h: &crate::live::Haproxy| -> Vec<_> {
            h.servers()
                .into_iter()
                .map(|(key, s)| {
                    let weight = s.effective_weight();
                    (key, (s.addr, s.port, s.fqdn, s.maint, weight, s.maxconn, s.tls, s.check, s.backup))
                })
                .collect()
        };
        let started = seen(&haproxy);
        prop_assert!(!started.is_empty(), "{name}: HAProxy runs no server");
        crate::live::apply_script(&haproxy, &output.runtime_txt);
        prop_assert_eq!(seen(&haproxy), started, "{} edited by {:?}, environment {}", name, edits, output.env);
    }
}

/// The example `example` as written, compiled (it has no error).
fn unedited(example: prop::sample::Index) -> haptic::driver::Compilation {
    let projects = examples();
    let files = &projects[example.index(projects.len())];
    haptic::driver::compile_from(Path::new("."), files).unwrap()
}

/// `env` with its routes map, if it has one, at `run/routes.map`, where
/// a test's HAProxy loads it from (and the Runtime API commands name it).
fn map_in(env: &haptic::model::Env, run: &Path) -> haptic::model::Env {
    let mut env = env.clone();
    if env.defaults.routes_map.is_some() {
        env.defaults.routes_map = Some(run.join("routes.map").display().to_string());
    }
    env
}

/// What HAProxy runs: its servers ([`crate::hitless::state`]: address,
/// port, DNS name, maintenance, effective weight, and the number of a
/// server of a backend `env` balances by a hash), and the entries of the
/// routes map at `map`, if it has one.
type Running = (crate::hitless::State, Vec<(String, String)>);

fn running(
    haproxy: &crate::live::Haproxy,
    env: &haptic::model::Env,
    map: Option<&Path>,
) -> Running {
    let servers = crate::hitless::state(haproxy, env);
    let mut entries = map.map_or_else(Vec::new, |map| {
        let reply = haproxy.command(&format!("show map {}", map.display()));
        haptic::runtime_api::parse_map(&reply).expect("the map is loaded")
    });
    entries.sort();
    (servers, entries)
}

/// An edit of the kind that may go live without a reload: a server's
/// address, weight, state or connection limit, a server removed or added,
/// a route sent to another route's backend. Each takes the `n`th server
/// or route line of the file, wrapping.
#[derive(Debug, Clone)]
enum LiveEdit {
    Address(usize, u8, u16),
    Option(usize, usize),
    Remove(usize),
    Add(usize, u8),
    Target(usize, usize),
    /// A copy of a route by host, for another host.
    AddRoute(usize, u8),
    RemoveRoute(usize),
}

/// Server options, each with a value a server may take: those that go
/// live without a reload, and some that need one.
const SERVER_OPTIONS: &[(&str, &str)] = &[
    ("weight", "0"),
    ("weight", "1"),
    ("weight", "77"),
    ("weight", "256"),
    ("state", "drain"),
    ("state", "maint"),
    ("state", "ready"),
    ("maxconn", "1"),
    ("maxconn", "1000"),
    // Options a reload changes: `apply` must see them.
    ("backup", "true"),
    ("check", "false"),
    ("send_proxy", "true"),
    ("slowstart", "10s"),
    ("http2", "true"),
    ("tls", "{ verify = none }"),
];

fn live_edit() -> impl Strategy<Value = LiveEdit> {
    prop_oneof![
        (
            any::<usize>(),
            any::<u8>(),
            prop_oneof![Just(80u16), Just(8080), Just(9001)]
        )
            .prop_map(|(n, ip, port)| LiveEdit::Address(n, ip, port)),
        (any::<usize>(), 0..SERVER_OPTIONS.len()).prop_map(|(n, o)| LiveEdit::Option(n, o)),
        any::<usize>().prop_map(LiveEdit::Remove),
        (any::<usize>(), any::<u8>()).prop_map(|(n, k)| LiveEdit::Add(n, k)),
        (any::<usize>(), any::<usize>()).prop_map(|(n, m)| LiveEdit::Target(n, m)),
        (any::<usize>(), any::<u8>()).prop_map(|(n, k)| LiveEdit::AddRoute(n, k)),
        any::<usize>().prop_map(LiveEdit::RemoveRoute),
    ]
}

/// Makes `edit` to `lines`; nothing where the file has no line it takes.
fn live_apply(lines: &mut Vec<String>, edit: &LiveEdit) {
    let starting = |word: &str| -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| lines[i].trim_start().starts_with(word))
            .collect()
    };
    let servers = starting("server ");
    let routes: Vec<usize> = starting("route ")
        .into_iter()
        .filter(|&i| lines[i].contains("-> ") && !lines[i].contains("-> deny"))
        .collect();
    let server = |n: usize| servers.get(n % servers.len().max(1)).copied();
    match *edit {
        LiveEdit::Address(n, ip, port) => {
            let Some(i) = server(n) else { return };
            let line = &lines[i];
            let Some(start) = line.find("= ").map(|s| s + 2) else {
                return;
            };
            let end = line[start..].find(' ').map_or(line.len(), |e| start + e);
            lines[i] = format!("{}10.97.0.{ip}:{port}{}", &line[..start], &line[end..]);
        }
        LiveEdit::Option(n, o) => {
            let Some(i) = server(n) else { return };
            let (field, value) = SERVER_OPTIONS[o];
            let line = &lines[i];
            lines[i] = if let Some(at) = line.find(&format!("{field} = ")) {
                let start = at + field.len() + 3;
                let end = line[start..]
                    .find([',', ' '])
                    .map_or(line.len(), |e| start + e);
                format!("{}{value}{}", &line[..start], &line[end..])
            } else if let Some(brace) = line.find("{ ") {
                format!(
                    "{}{field} = {value}, {}",
                    &line[..brace + 2],
                    &line[brace + 2..]
                )
            } else {
                format!("{} {{ {field} = {value} }}", line.trim_end())
            };
        }
        LiveEdit::Remove(n) => {
            if let Some(i) = server(n) {
                lines.remove(i);
            }
        }
        LiveEdit::Add(n, k) => {
            let Some(i) = server(n) else { return };
            let line = &lines[i];
            let indent = &line[..line.len() - line.trim_start().len()];
            let rest = line.find("= ").map_or("", |s| &line[s + 2..]);
            let options = rest.find(' ').map_or("", |e| &rest[e..]);
            let added = format!("{indent}server z{k} = 10.98.0.{k}:8080{options}");
            lines.insert(i + 1, added);
        }
        LiveEdit::Target(n, m) => {
            if routes.is_empty() {
                return;
            }
            let (i, j) = (routes[n % routes.len()], routes[m % routes.len()]);
            let target = |line: &str| line.rfind("-> ").map(|at| at + 3);
            let (Some(a), Some(b)) = (target(&lines[i]), target(&lines[j])) else {
                return;
            };
            let backend = lines[j][b..].to_string();
            lines[i] = format!("{}{backend}", &lines[i][..a]);
        }
        LiveEdit::AddRoute(n, k) => {
            if routes.is_empty() {
                return;
            }
            let i = routes[n % routes.len()];
            let line = &lines[i];
            let Some(host) = line.find("host \"").map(|h| h + 6) else {
                return;
            };
            let Some(end) = line[host..].find('"').map(|e| host + e) else {
                return;
            };
            let added = format!("{}r{k}.example.com{}", &line[..host], &line[end..]);
            lines.insert(i, added);
        }
        LiveEdit::RemoveRoute(n) => {
            if !routes.is_empty() {
                lines.remove(routes[n % routes.len()]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// The design's property on the examples: where the plan from an
    /// example to an edit of it needs no reload, HAProxy started on the
    /// example and given the plan's commands (each reply accepted), or
    /// converged by `apply`, runs what HAProxy started on the edit runs:
    /// the same servers, addresses, states and weights, the same routes
    /// map.
    #[test]
    fn planned_changes_go_live_as_a_reload_would(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(live_edit(), 1..4),
        // Now and then an edit of any other kind: mostly a reload, which
        // `apply` must see.
        others in prop::collection::vec(edit(), 0..2),
        env in any::<prop::sample::Index>(),
    ) {
        let Some((name, new)) = edited_by(example, file, |lines| {
            for e in &edits {
                live_apply(lines, e);
            }
            for e in &others {
                apply(lines, e);
            }
        }) else {
            return Ok(());
        };
        let base = unedited(example);
        // The routes map where the test's HAProxy loads it from: in the
        // configurations, in the plan's commands and for `apply`.
        let run = tempfile::tempdir().unwrap();
        // The environments from one drawn at random: the first whose plan
        // has changes.
        let from = env.index(base.envs.len());
        let envs = base.envs[from..].iter().chain(&base.envs[..from]);
        let Some((base_env, new_env, plan)) = envs.into_iter().find_map(|b| {
            let n = new.envs.iter().find(|n| n.name == b.name)?;
            let (b, n) = (map_in(b, run.path()), map_in(n, run.path()));
            let plan = haptic::plan::classify(&b, &n);
            (!plan.is_empty()).then_some((b, n, plan))
        }) else {
            return Ok(());
        };
        let context = format!("{name} edited by {edits:?} and {others:?}, environment {}:\n{plan:#?}", new_env.name);
        let start = |c: &haptic::driver::Compilation, env: &haptic::model::Env| {
            let output = c.output(env);
            let haproxy = crate::live::Haproxy::start(&runnable(&output, run.path()), &run.path().join("admin.sock"));
            let map = output.routes_map.is_some().then(|| run.path().join("routes.map"));
            (haproxy, map)
        };
        let timeout = std::time::Duration::from_secs(5);
        let apply = |live: &crate::live::Haproxy| {
            let read = haptic::apply::read(&live.socket, &new_env, timeout);
            read.map(|read| haptic::apply::converge(&new_env, &read))
                .map_err(|e| TestCaseError::fail(format!("{e}\n{context}")))
        };
        if plan.needs_reload() {
            // `apply`, given the edit, never calls HAProxy running the
            // example converged. The plan asks for a reload to add a
            // server of a sticky backend that a later release than the
            // target may not need: `apply`, which reads the release, may
            // add it.
            let (live, _) = start(&base, &base_env);
            let convergence = apply(&live)?;
            let conservative = plan.changes.iter().all(|c| match &c.apply {
                Apply::Reload(reason) => {
                    reason.contains("the `cookie` option that sticky sessions need")
                        && support::running_runtime().adds_sticky_servers()
                }
                Apply::Runtime(_) => true,
            });
            prop_assert!(conservative || !convergence.reload_reasons.is_empty(), "apply sees no reload\n{}", context);
            return Ok(());
        }
        // What `apply` reads to know a reload is needed does not change.
        prop_assert_eq!(
            haptic::emit::haproxy_cfg::reload_fingerprint(&base_env),
            haptic::emit::haproxy_cfg::reload_fingerprint(&new_env),
            "{}", context
        );
        // The plan's commands (`runtime.txt` against the example).
        let (live, map) = start(&base, &base_env);
        for command in plan.runtime_commands() {
            let reply = live.command(&command.line());
            prop_assert!(command.accepts(&reply), "`{}` refused: {}\n{}", command.line(), reply, context);
        }
        let by_commands = running(&live, &new_env, map.as_deref());
        drop(live);
        // `apply`, which reads what runs and converges it.
        let (live, map) = start(&base, &base_env);
        let convergence = apply(&live)?;
        prop_assert!(convergence.reload_reasons.is_empty(), "apply asks for a reload: {:?}\n{}", convergence.reload_reasons, context);
        let outcome = haptic::apply::run(&new_env, &live.socket, convergence.commands, timeout).unwrap();
        prop_assert!(matches!(outcome, haptic::apply::Outcome::Converged { .. }), "{:?}\n{}", outcome, context);
        let by_apply = running(&live, &new_env, map.as_deref());
        drop(live);
        let (reloaded, map) = start(&new, &new_env);
        let by_reload = running(&reloaded, &new_env, map.as_deref());
        prop_assert_eq!(&by_commands, &by_reload, "runtime.txt: {}", context);
        prop_assert_eq!(&by_apply, &by_reload, "apply: {}", context);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The plan of an example's edit has changes exactly where its outputs
    /// do (`haproxy.cfg`, `runtime.txt` and the routes map, their sections in any order:
    /// HAProxy reads frontends and backends so), so a merge request whose
    /// plan says "no changes" deploys nothing new; and what `apply` reads
    /// to know a reload is needed changes only where the plan needs one,
    /// and changes wherever the plan needs one for something but servers
    /// (whose state and options `apply` reads apart). A block moved in its
    /// file changed that fingerprint, so `apply` asked for a reload that
    /// the plan did not, and so did a bind moved among its frontend's;
    /// and the plan listed the weight of a draining server, which HAProxy
    /// runs at 0 whatever the sources say, as a change with nothing to do.
    #[test]
    fn the_plan_has_changes_exactly_where_the_outputs_do(
        example in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 0..3),
        // And edits of servers and routes, which the plan mostly sends
        // live.
        live in prop::collection::vec(live_edit(), 0..2),
    ) {
        let Some((name, new)) = edited_by(example, file, |lines| {
            for e in &edits {
                apply(lines, e);
            }
            for e in &live {
                live_apply(lines, e);
            }
        }) else {
            return Ok(());
        };
        let base = unedited(example);
        // The sections of a file in any order, and a backend's servers and
        // a frontend's binds too: the plan does not count one moved among
        // the others as a change (HAProxy numbers servers in the order
        // written, which only `balance first` and the hashes read:
        // ARCHITECTURE.md).
        let body = |t: &str| {
            let mut sections: Vec<String> = support::body(t)
                .split("\n\n")
                .map(|section| {
                    let (mut unordered, mut lines): (Vec<&str>, Vec<&str>) = section
                        .lines()
                        .partition(|l| l.starts_with("    server ") || l.starts_with("    bind "));
                    unordered.sort_unstable();
                    lines.extend(unordered);
                    lines.join("\n")
                })
                .collect();
            sections.sort_unstable();
            sections.join("\n\n")
        };
        // `runtime.txt` too: a server drained at runtime and one ready at
        // weight 0 are written alike in `haproxy.cfg`. Its lines each name
        // their server, in any order.
        let commands = |t: &str| {
            let body = support::body(t);
            let mut lines: Vec<&str> = body.lines().collect();
            lines.sort_unstable();
            lines.join("\n")
        };
        for b in &base.envs {
            let Some(n) = new.envs.iter().find(|n| n.name == b.name) else {
                continue;
            };
            let plan = haptic::plan::classify(b, n);
            let (before, after) = (base.output(b), new.output(n));
            let changed = body(&before.haproxy_cfg) != body(&after.haproxy_cfg)
                || commands(&before.runtime_txt) != commands(&after.runtime_txt)
                || before.routes_map.as_deref().map(body) != after.routes_map.as_deref().map(body);
            let context = || format!(
                "{name} edited by {edits:?} and {live:?}, environment {}:\n{plan:#?}\n{}",
                b.name,
                similar::TextDiff::from_lines(&before.haproxy_cfg, &after.haproxy_cfg).unified_diff()
            );
            prop_assert_eq!(plan.is_empty(), !changed, "{}", context());
            let fingerprints = |e| haptic::emit::haproxy_cfg::reload_fingerprint(e);
            let same = fingerprints(b) == fingerprints(n);
            if !plan.needs_reload() {
                prop_assert!(same, "the fingerprint changed without a reload: {}", context());
            }
            let beyond_servers = plan.changes.iter().any(|c| {
                matches!(c.apply, Apply::Reload(_)) && !matches!(c.object, haptic::plan::Object::Server(..))
            });
            if beyond_servers {
                prop_assert!(!same, "a reload that apply cannot see: {}", context());
            }
        }
    }
}
