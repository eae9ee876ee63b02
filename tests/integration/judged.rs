//! What haptic accepts, HAProxy accepts: the examples, edited line by line
//! at random (a line removed or repeated, a value replaced, a field or an
//! item from a list below put in), are compiled, and every configuration
//! haptic writes for a project it finds no error in goes through the real
//! `haproxy -c -dW`. Edits of whole values and lines, unlike the byte
//! mutations of `hostile`, mostly make projects that check: this test
//! found that a timeout of 0 passed the checker and not HAProxy. Some of
//! them are started, on free ports, and given their `runtime.txt`, which
//! must change nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use proptest::prelude::*;

use crate::hostile::examples;
use crate::support;

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
    let projects = examples();
    let mut files = projects[example.index(projects.len())].clone();
    let names: Vec<String> = files
        .keys()
        .filter(|n| n.ends_with(".hap"))
        .cloned()
        .collect();
    let name = &names[file.index(names.len())];
    let text = String::from_utf8(files[name].clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        apply(&mut lines, e);
    }
    files.insert(name.clone(), (lines.join("\n") + "\n").into_bytes());
    let compilation = haptic::driver::compile_from(Path::new("."), &files).ok()?;
    (!compilation.has_errors()).then(|| (name.clone(), compilation))
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
            let body = output.haproxy_cfg.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
            let key = format!("{body}\n{}", output.routes_map.as_deref().unwrap_or(""));
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
