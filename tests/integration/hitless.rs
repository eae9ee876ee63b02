//! The equivalence property that proves the runtime design, on the real
//! HAProxy the tests run (2.6 on the test machines; 3.0 too, by hand), the
//! projects targeting its version: for every generated base → new change classified hitless,
//! "HAProxy started on the base config, then given `runtime.txt`" and
//! "HAProxy started on the new config" report the same `show servers state`
//! (address, port, DNS name, maintenance, weight) for every server. Changes
//! classified reload are checked to be refused by the Runtime API.
//!
//! Servers named by DNS use names under `.invalid` (RFC 2606), which never
//! resolve: they wait unresolved on both sides, and their DNS name, port
//! and weight are compared.
//!
//! The frontend's host routes are entries of a routes map: added, removed,
//! sent elsewhere and reordered, they go live with `add/set/del map`, and
//! the two HAProxies' `show map` must hold the same entries. Now and then
//! the new version puts a path route before them, which makes them rules:
//! a reload. One case in seven is of tcp frontends and backends, whose
//! servers change as HTTP ones do, and whose routes (by the TLS server
//! name) are rules, never map entries: a project of tcp frontends alone
//! has no routes map.

use std::collections::BTreeMap;
use std::path::Path;

use haptic::emit::runtime::{Command, ServerRef};
use haptic::model::Host;
use haptic::plan::{self, Action, Apply, Object};

use crate::live::{free_port, Haproxy};
use crate::support::{self, Rng};

#[derive(Clone, Debug)]
struct Server {
    name: String,
    /// Named by DNS (`svcN.invalid`, N the `ip` byte) rather than by IP.
    dns: bool,
    ip: u8,
    port: u16,
    weight: u32,
    state: &'static str,
    maxconn: Option<u32>,
    /// `send_proxy = true`: added with `send-proxy-v2` on its line.
    proxy: bool,
    /// `slowstart = 10s`: added with `slowstart 10s`.
    slow: bool,
    /// `backup = true`.
    backup: bool,
    /// `tls = { verify = none }`: added with `ssl verify none`.
    tls: bool,
}

#[derive(Clone, Debug)]
struct Backend {
    name: String,
    kind: Kind,
    balance: &'static str,
    check: bool,
    /// The check's interval, one of two: a change of it alone is a
    /// reload that no command reports (the fingerprint carries it).
    check_every: &'static str,
    sticky: bool,
    servers: Vec<Server>,
}

const ALGORITHMS: &[&str] = &[
    "roundrobin",
    "leastconn",
    "first",
    "random",
    "source",
    "uri",
    "static-rr",
];
const STATES: &[&str] = &["ready", "ready", "ready", "drain", "maint"];

/// The options a backend's servers mostly share (as a team writes them):
/// PROXY protocol, slow start, TLS.
type Kind = (bool, bool, bool);

/// A server of a backend of `kind` (with another kind, one time in ten),
/// named by DNS with a chance of `dns` percent. A server that is the
/// first or last of its kind in its backend is added or removed with a
/// reload (`plan::UNREPORTED_OPTIONS`).
fn server(rng: &mut Rng, kind: Kind, name: String, dns: u64) -> Server {
    let mut s = random_server(rng, name, dns);
    if !rng.chance(10) {
        (s.proxy, s.slow, s.tls) = kind;
    }
    s
}

fn random_server(rng: &mut Rng, name: String, dns: u64) -> Server {
    Server {
        name,
        dns: rng.chance(dns),
        ip: 1 + rng.below(250) as u8,
        port: 10000 + rng.below(50000) as u16,
        weight: 1 + rng.below(256) as u32,
        state: STATES[rng.below(STATES.len() as u64) as usize],
        maxconn: rng.chance(40).then(|| 1 + rng.below(1000) as u32),
        proxy: rng.chance(15),
        slow: rng.chance(15),
        backup: rng.chance(10),
        tls: rng.chance(10),
    }
}

fn base_project(rng: &mut Rng) -> Vec<Backend> {
    (0..1 + rng.below(4))
        .map(|b| {
            let kind = (rng.chance(12), rng.chance(12), rng.chance(12));
            Backend {
                name: format!("be{b}"),
                kind,
                balance: ALGORITHMS[rng.below(ALGORITHMS.len() as u64) as usize],
                check: rng.chance(30),
                check_every: "1m",
                sticky: rng.chance(15),
                servers: (0..1 + rng.below(5))
                    .map(|s| server(rng, kind, format!("s{b}_{s}"), 20))
                    .collect(),
            }
        })
        .collect()
}

/// Random server-level changes: added, removed, moved to another backend,
/// re-addressed (a DNS name changed, its port, from IP to DNS and back),
/// re-weighted, drained, put in maintenance, back to ready, maxconn changed.
fn mutate(rng: &mut Rng, base: &[Backend], case: usize) -> Vec<Backend> {
    let mut new = base.to_vec();
    let mut moved = Vec::new();
    for backend in &mut new {
        let mut kept = Vec::new();
        for mut s in backend.servers.drain(..) {
            match rng.below(10) {
                0 => continue,
                1 if backend.name != "be0" => {
                    moved.push(s);
                    continue;
                }
                2 => s.weight = rng.below(257) as u32,
                3 => s.state = STATES[rng.below(STATES.len() as u64) as usize],
                4 if s.dns => match rng.below(4) {
                    0 | 1 => s.ip = 1 + rng.below(250) as u8,
                    2 => s.port = 10000 + rng.below(50000) as u16,
                    _ => s.dns = false,
                },
                4 => {
                    s.ip = 1 + rng.below(250) as u8;
                    s.port = 10000 + rng.below(50000) as u16;
                    s.dns = rng.chance(10);
                }
                5 => s.maxconn = rng.chance(50).then(|| 1 + rng.below(1000) as u32),
                6 => {
                    s.state = "drain";
                }
                7 if s.dns => s.ip = 1 + rng.below(250) as u8,
                _ => {}
            }
            kept.push(s);
        }
        backend.servers = kept;
        if backend.check && rng.chance(5) {
            backend.check_every = "50s";
        }
        for i in 0..rng.below(3) {
            backend.servers.push(server(
                rng,
                backend.kind,
                format!("n{case}_{}_{i}", backend.name),
                5,
            ));
        }
    }
    if let Some(first) = new.first_mut() {
        first.servers.extend(moved);
    }
    new
}

/// The frontend's host routes (`h{N % 4}.example.com`, with a path prefix
/// for N from 4 to 7, an exact path for 8 and 9, → a backend), and
/// whether a path route comes before them (which makes them rules).
#[derive(Clone, Debug)]
struct Routes {
    hosts: Vec<(u64, String)>,
    guarded: bool,
}

fn base_routes(rng: &mut Rng, backends: &[Backend]) -> Routes {
    let mut hosts: Vec<(u64, String)> = Vec::new();
    for _ in 0..rng.below(4) {
        let host = rng.below(10);
        if hosts.iter().all(|(h, _)| *h != host) {
            hosts.push((host, pick(rng, backends)));
        }
    }
    // The routes with a path before those of a host alone, as a team
    // writes them (the other way round, they are shadowed).
    hosts.sort_by_key(|(route, _)| *route < 4);
    Routes {
        hosts,
        guarded: false,
    }
}

fn pick(rng: &mut Rng, backends: &[Backend]) -> String {
    backends[rng.below(backends.len() as u64) as usize]
        .name
        .clone()
}

/// Host routes removed, sent to another backend, added, reordered; now
/// and then a path route put before them.
fn mutate_routes(rng: &mut Rng, base: &Routes, backends: &[Backend]) -> Routes {
    let mut hosts: Vec<(u64, String)> = Vec::new();
    for (host, backend) in &base.hosts {
        match rng.below(5) {
            0 => continue,
            1 => hosts.push((*host, pick(rng, backends))),
            _ => hosts.push((*host, backend.clone())),
        }
    }
    for _ in 0..rng.below(3) {
        let host = rng.below(10);
        if hosts.iter().all(|(h, _)| *h != host) {
            hosts.push((host, pick(rng, backends)));
        }
    }
    hosts.sort_by_key(|(route, _)| *route < 4);
    if rng.chance(20) {
        hosts.reverse();
    }
    Routes {
        hosts,
        guarded: rng.chance(5),
    }
}

/// The project's source. With `tcp`, its frontend and backends are
/// `mode = tcp`: no sticky sessions, and only the routes of a host alone
/// (by the TLS server name).
fn render(backends: &[Backend], routes: &Routes, run: &Path, front: u16, tcp: bool) -> String {
    let mut out = format!(
        "env test\ndefaults {{\n  socket = \"{}\"\n  routes_map = \"{}\"\n}}\n",
        run.join("admin.sock").display(),
        run.join("routes.map").display()
    );
    for b in backends {
        // A tcp backend hashes the client's address where an HTTP one
        // hashes the path (a hash of a map, as `uri`'s, all the same).
        let balance = match b.balance {
            "uri" if tcp => "source",
            balance => balance,
        };
        out.push_str(&format!("backend {} {{\n  balance = {balance}\n", b.name));
        if tcp {
            out.push_str("  mode = tcp\n");
        }
        if b.check {
            // Checks against closed ports: servers go DOWN, which changes
            // neither their administrative state nor their weight.
            out.push_str(&format!(
                "  check = http {{ path = \"/\", every = {} }}\n",
                b.check_every
            ));
        }
        if b.sticky && !tcp {
            out.push_str("  sticky_cookie = \"SRV\"\n");
        }
        for s in &b.servers {
            let maxconn = s
                .maxconn
                .map(|m| format!(", maxconn = {m}"))
                .unwrap_or_default();
            let proxy = if s.proxy { ", send_proxy = true" } else { "" };
            let slow = if s.slow { ", slowstart = 10s" } else { "" };
            let backup = if s.backup { ", backup = true" } else { "" };
            let tls = if s.tls {
                ", tls = { verify = none }"
            } else {
                ""
            };
            // One address in five is IPv6, so re-addressing crosses families.
            let host = if s.dns {
                format!("\"svc{}.invalid\"", s.ip)
            } else if s.ip % 5 == 0 {
                format!("[2001:db8::{:x}]", s.ip)
            } else {
                format!("127.0.0.{}", s.ip)
            };
            out.push_str(&format!(
                "  server {} = {host}:{} {{ weight = {}, state = {}{maxconn}{proxy}{slow}{backup}{tls} }}\n",
                s.name, s.port, s.weight, s.state
            ));
        }
        out.push_str("}\n");
    }
    out.push_str(&format!("frontend f {{\n  bind 127.0.0.1:{front}\n"));
    if tcp {
        out.push_str("  mode = tcp\n");
        for (route, backend) in routes.hosts.iter().filter(|(r, _)| *r < 4) {
            out.push_str(&format!(
                "  route host \"h{route}.example.com\" -> {backend}\n"
            ));
        }
        out.push_str("  default -> be0\n}\n");
        return out;
    }
    if routes.guarded {
        out.push_str("  route path exact \"/guard\" -> be0\n");
    }
    // Routes 0 to 3 match a host alone, 4 to 7 one of those hosts and a
    // path prefix, 8 and 9 one of them and an exact path: map entries when
    // they come before the host's route without a path, rules after it.
    for (route, backend) in &routes.hosts {
        let path = match route {
            0..=3 => String::new(),
            4..=7 => format!(" path prefix \"/v{route}/\""),
            _ => format!(" path exact \"/e{route}\""),
        };
        out.push_str(&format!(
            "  route host \"h{}.example.com\"{path} -> {backend}\n",
            route % 4
        ));
    }
    for b in backends.iter().skip(1) {
        out.push_str(&format!(
            "  route path prefix \"/{}/\" -> {}\n",
            b.name, b.name
        ));
    }
    out.push_str("  default -> be0\n}\n");
    out
}

pub(crate) type State = BTreeMap<(String, String), (String, u16, Option<String>, bool, u32, u32)>;

/// Each server's address, port, DNS name, maintenance and weight, and its
/// number where `env` balances its backend by a hash (the number places
/// it on the ring: one added at runtime must have the one a reload gives).
pub(crate) fn state(haproxy: &Haproxy, env: &haptic::model::Env) -> State {
    let hashed: std::collections::HashSet<&str> = env
        .backends
        .iter()
        .filter(|b| b.balance.is_hash())
        .map(|b| b.name.as_str())
        .collect();
    haproxy
        .servers()
        .into_iter()
        .map(|(k, s)| {
            // The weight traffic would get once the server is resolved:
            // a name that never resolves would hide every weight as 0.
            let weight = if s.drain || s.maint { 0 } else { s.weight };
            let id = if hashed.contains(k.0.as_str()) {
                s.id
            } else {
                0
            };
            (k, (s.addr, s.port, s.fqdn, s.maint, weight, id))
        })
        .collect()
}

/// The entries of the routes map HAProxy holds, sorted; none where the
/// project has no HTTP frontend (HAProxy loads no map no rule names).
fn map_state(haproxy: &Haproxy, run: &Path, tcp: bool) -> Vec<(String, String)> {
    if tcp {
        return Vec::new();
    }
    let path = run.join("routes.map");
    let reply = haproxy.command(&format!("show map {}", path.display()));
    let mut entries = haptic::runtime_api::parse_map(&reply).expect("the map is loaded");
    entries.sort();
    entries
}

/// HAProxy started on `output`, its routes map (where it has one) put
/// where it is looked up.
fn start(output: &haptic::driver::Output, run: &Path) -> Haproxy {
    if let Some(map) = output.routes_map.as_deref() {
        std::fs::write(run.join("routes.map"), map).unwrap();
    }
    Haproxy::start(&output.haproxy_cfg, &run.join("admin.sock"))
}

fn compile(source: &str) -> haptic::driver::Compilation {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(
        "haptic.toml".into(),
        support::running_manifest().into_bytes(),
    );
    files.insert("main.hap".into(), source.as_bytes().to_vec());
    let c = haptic::driver::compile_from(Path::new("."), &files).unwrap();
    assert!(!c.has_errors(), "{}\n{source}", support::rendered(&c));
    c
}

/// What a naive tool would send for a change classified reload.
fn naive_commands(
    change: &plan::Change,
    base: &haptic::model::Env,
    new: &haptic::model::Env,
) -> Vec<Command> {
    let Object::Server(backend, server) = &change.object else {
        return Vec::new();
    };
    let target = ServerRef::new(backend, server);
    let Some(be) = new.backends.iter().find(|b| &b.name == backend) else {
        return Vec::new();
    };
    let Some(s) = be.servers.iter().find(|s| s.name == server.as_str()) else {
        return Vec::new();
    };
    match change.action {
        Action::Add => {
            let words: Vec<_> = haptic::lower::server_options(be, s)
                .into_iter()
                .skip(1)
                .collect();
            vec![Command::AddServer(
                target,
                haptic::emit::haproxy_cfg::render_words(&words),
            )]
        }
        Action::Update => {
            let old = base
                .backends
                .iter()
                .find(|b| &b.name == backend)
                .and_then(|b| b.servers.iter().find(|o| o.name == server.as_str()));
            match (old.map(|o| (&o.host, o.port)), &s.host) {
                // From an IP address to a name and back: the address commands.
                (Some((Host::Ip(_), _)), Host::Name(name)) => {
                    vec![Command::SetFqdn(target, name.clone())]
                }
                (Some((Host::Name(_), _)), Host::Ip(ip)) => {
                    vec![Command::SetAddr(target, *ip, s.port)]
                }
                // A named server's port: no command takes it without an IP.
                (Some((Host::Name(_), port)), Host::Name(_)) if port != s.port => Vec::new(),
                _ => vec![Command::SetWeight(target, s.effective_weight())],
            }
        }
        Action::Remove => Vec::new(),
    }
}

#[test]
fn hitless_changes_reach_the_same_state_as_a_reload() {
    let run = tempfile::tempdir().unwrap();
    let (mut hitless, mut hitless_changes, mut reload_checked) = (0, 0, 0);
    let (mut renamed, mut map_changes, mut unreported) = (0, 0, 0);
    let mut tcp_hitless = 0;
    for case in 0..400 {
        let mut rng =
            Rng(0x9E37_79B9_7F4A_7C15 ^ (case as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let base = base_project(&mut rng);
        let new = mutate(&mut rng, &base, case);
        let routes = base_routes(&mut rng, &base);
        let new_routes = mutate_routes(&mut rng, &routes, &new);
        let front = free_port();
        // One case in seven passes TCP connections on: its servers change
        // as HTTP ones do (drawn apart, so that the others stay as they were).
        let tcp = case % 7 == 3;
        let base_src = render(&base, &routes, run.path(), front, tcp);
        let new_src = render(&new, &new_routes, run.path(), front, tcp);
        let (base_c, new_c) = (compile(&base_src), compile(&new_src));
        let plan = plan::classify(&base_c.envs[0], &new_c.envs[0]);
        let base_output = base_c.outputs().remove(0);
        let context = || {
            format!("case {case}\n--- base ---\n{base_src}--- new ---\n{new_src}--- plan ---\n{plan:#?}")
        };

        if plan.needs_reload() {
            // Every reload-classified server change is refused when tried.
            let haproxy = start(&base_output, run.path());
            // And `apply`, given the new version, never calls the running
            // base converged.
            let live = haptic::apply::read(
                &haproxy.socket,
                &new_c.envs[0],
                std::time::Duration::from_secs(5),
            )
            .unwrap();
            // The plan knows the target's branch alone, and asks for a
            // reload to add a server of a sticky backend that this release
            // (2.8.30) may not need: `apply`, which reads the release, adds
            // it.
            let conservative = |reason: &str| {
                reason.contains("the `cookie` option that sticky sessions need")
                    && support::running_runtime().adds_sticky_servers()
            };
            let convergence = haptic::apply::converge(&new_c.envs[0], &live);
            let only_conservative = plan.changes.iter().all(|c| match &c.apply {
                Apply::Reload(reason) => conservative(reason),
                Apply::Runtime(_) => true,
            });
            assert!(
                only_conservative || !convergence.reload_reasons.is_empty(),
                "apply sees no reload\n{}",
                context()
            );
            for change in &plan.changes {
                let Apply::Reload(reason) = &change.apply else {
                    continue;
                };
                if reason.ends_with(plan::UNREPORTED_OPTIONS) {
                    // HAProxy would take it, but not show it: the
                    // fingerprint `apply` compares is another one.
                    assert_ne!(
                        haptic::emit::haproxy_cfg::reload_fingerprint(&base_c.envs[0]),
                        haptic::emit::haproxy_cfg::reload_fingerprint(&new_c.envs[0]),
                        "{}",
                        context()
                    );
                    unreported += 1;
                    continue;
                }
                if conservative(reason) {
                    continue;
                }
                let naive = naive_commands(change, &base_c.envs[0], &new_c.envs[0]);
                if naive.is_empty() {
                    continue;
                }
                let refused = naive
                    .iter()
                    .any(|c| !c.accepts(&haproxy.command(&c.line())));
                assert!(
                    refused,
                    "{} ({reason}) was accepted at runtime\n{}",
                    change.object,
                    context()
                );
                reload_checked += 1;
            }
            continue;
        }
        hitless += 1;
        hitless_changes += plan.changes.len();
        tcp_hitless += usize::from(tcp);
        // What `apply` reads to know a reload is needed does not change
        // when the plan needs none.
        assert_eq!(
            haptic::emit::haproxy_cfg::reload_fingerprint(&base_c.envs[0]),
            haptic::emit::haproxy_cfg::reload_fingerprint(&new_c.envs[0]),
            "{}",
            context()
        );
        renamed += plan
            .runtime_commands()
            .iter()
            .filter(|c| matches!(c, Command::SetFqdn(..)))
            .count();
        map_changes += plan
            .runtime_commands()
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::AddMap(_) | Command::SetMap(_) | Command::DelMap(_)
                )
            })
            .count();
        let after_runtime = {
            let haproxy = start(&base_output, run.path());
            for command in plan.runtime_commands() {
                let reply = haproxy.command(&command.line());
                assert!(
                    command.accepts(&reply),
                    "`{}` refused: {reply}\n{}",
                    command.line(),
                    context()
                );
            }
            (
                state(&haproxy, &new_c.envs[0]),
                map_state(&haproxy, run.path(), tcp),
            )
        };
        let (after_reload, map_after_reload) = {
            let haproxy = start(&new_c.outputs().remove(0), run.path());
            (
                state(&haproxy, &new_c.envs[0]),
                map_state(&haproxy, run.path(), tcp),
            )
        };
        let (after_runtime, map_after_runtime) = after_runtime;
        assert_eq!(map_after_runtime, map_after_reload, "{}", context());
        // The frontend's rules are the same: what routes differently is in
        // the map alone.
        let frontend = |cfg: &str| -> String {
            let start = cfg.find("\nfrontend f\n").expect("the frontend");
            let end = cfg[start + 1..]
                .find("\n\n")
                .map_or(cfg.len(), |e| start + 1 + e);
            cfg[start..end].to_string()
        };
        assert_eq!(
            frontend(&base_output.haproxy_cfg),
            frontend(&new_c.outputs().remove(0).haproxy_cfg),
            "{}",
            context()
        );
        let differences: Vec<String> = after_runtime
            .keys()
            .chain(after_reload.keys())
            .filter(|k| after_runtime.get(*k) != after_reload.get(*k))
            .map(|k| {
                format!(
                    "{k:?}: runtime {:?}, reload {:?}",
                    after_runtime.get(k),
                    after_reload.get(k)
                )
            })
            .collect();
        assert!(
            differences.is_empty(),
            "{}\n{}",
            differences.join("\n"),
            context()
        );
    }
    // Each case changes several servers at once: 400 generated
    // base → new pairs, several hundred hitless changes proven.
    eprintln!("{hitless} hitless cases, {hitless_changes} changes ({renamed} renamed, {map_changes} map entries), {reload_checked} reloads checked, {unreported} first or last of their kind, {tcp_hitless} hitless tcp cases");
    assert!(hitless >= 100, "only {hitless} hitless cases");
    assert!(tcp_hitless >= 5, "only {tcp_hitless} hitless tcp cases");
    assert!(
        hitless_changes >= 300,
        "only {hitless_changes} hitless changes"
    );
    assert!(
        reload_checked >= 10,
        "only {reload_checked} reload changes checked"
    );
    assert!(renamed >= 10, "only {renamed} DNS names changed at runtime");
    assert!(map_changes >= 100, "only {map_changes} map entries changed");
    assert!(
        unreported >= 10,
        "only {unreported} servers first or last of their kind"
    );
}
