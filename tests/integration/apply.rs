//! `haptic apply` against a real HAProxy 2.6 on a Unix socket (and TCP).

use std::path::Path;

use haptic::cli::exit;

use crate::live::{free_port, Haproxy};
use crate::support::{self, haptic, TempProject};

fn source(socket: &Path, front: u16, extra_server: bool, extra_backend: bool) -> String {
    let extra = if extra_server {
        "  server added = 127.0.0.1:9105 { weight = 5 }\n"
    } else {
        ""
    };
    let backend = if extra_backend {
        "backend more { server m = 127.0.0.1:9200 }\n"
    } else {
        ""
    };
    let route = if extra_backend {
        "  route path prefix \"/more/\" -> more\n"
    } else {
        ""
    };
    format!(
        r#"env test
defaults {{ socket = "{}" }}
backend web {{
  balance = roundrobin
  server a = 127.0.0.1:9101 {{ weight = 50, maxconn = 10 }}
  server b = 127.0.0.1:9102 {{ state = drain }}
  server c = 127.0.0.1:9103 {{ state = maint }}
  server named = "named.invalid":9106
{extra}}}
backend fixed {{
  balance = static-rr
  server x = 127.0.0.1:9104 {{ weight = 20 }}
}}
{backend}frontend f {{
  bind 127.0.0.1:{front}
  route path prefix "/fixed/" -> fixed
  route host "old.example.com" -> redirect "https://www.example.com"
  route path prefix "/internal/" -> deny 403
{route}  default -> web
}}
"#,
        socket.display()
    )
}

struct Setup {
    _run: tempfile::TempDir,
    socket: std::path::PathBuf,
    project: TempProject,
    haproxy: Haproxy,
}

impl Setup {
    /// HAProxy started on the configuration of the sources `running`, its
    /// socket at `socket` in `run`; the project holds `declared`.
    fn running(run: tempfile::TempDir, socket: &Path, running: &str, declared: &str) -> Setup {
        Self::running_as(TempProject::single, run, socket, running, declared)
    }

    /// [`Setup::running`] with projects made by `project`.
    fn running_as(
        project: fn(&str) -> TempProject,
        run: tempfile::TempDir,
        socket: &Path,
        running: &str,
        declared: &str,
    ) -> Setup {
        let cfg = project(running).compile().outputs().remove(0).haproxy_cfg;
        Setup {
            haproxy: Haproxy::start(&cfg, socket),
            _run: run,
            socket: socket.to_path_buf(),
            project: project(declared),
        }
    }
}

/// HAProxy started on the configuration of `running`; the project holds
/// `declared`.
fn setup(
    running: (bool, bool),
    declared: (bool, bool),
    rewrite: impl Fn(String) -> String,
) -> Setup {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let base = TempProject::single(&source(&socket, front, running.0, running.1));
    let cfg = base.compile().outputs().remove(0).haproxy_cfg;
    let haproxy = Haproxy::start(&rewrite(cfg), &socket);
    let project = TempProject::single(&source(&socket, front, declared.0, declared.1));
    Setup {
        _run: run,
        socket,
        project,
        haproxy,
    }
}

fn apply(s: &Setup, extra: &[&str]) -> (i32, String, String) {
    let socket = s.socket.to_str().unwrap();
    let mut args = vec!["apply", ".", "--env", "test", "--socket", socket];
    args.extend_from_slice(extra);
    let out = haptic(&args, s.project.path());
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn apply_twice_sends_nothing_the_second_time() {
    let s = setup((false, false), (false, false), |c| c);
    s.haproxy.command("set server web/a weight 7");
    let (code, _, first) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{first}");
    assert!(
        first.contains("applied: set server web/a weight 50"),
        "{first}"
    );
    let (code, _, second) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{second}");
    assert!(
        second.contains("no command sent") && !second.contains("applied:"),
        "{second}"
    );
}

#[test]
fn apply_repairs_drift_and_names_it() {
    let s = setup((false, false), (false, false), |c| c);
    for drift in [
        "set server web/a state drain",
        "set server web/b addr 127.0.0.7 port 9999",
        "set server web/c state ready",
        "set maxconn server web/a 3",
        "set server web/named fqdn other.invalid",
    ] {
        s.haproxy.command(drift);
    }
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
    for expected in [
        "live -> declared (test):\n  ~ backend web / server a: state drain -> ready",
        "  ~ backend web / server b: address 127.0.0.7:9999 -> 127.0.0.1:9102",
        "  ~ backend web / server c: state ready -> maint",
        "  ~ backend web / server a: maxconn 3 -> 10",
        "  ~ backend web / server named: address other.invalid:9106 -> named.invalid:9106",
        "applied: set server web/named fqdn named.invalid",
        "converged: 5 command(s) applied and verified",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    let servers = s.haproxy.servers();
    let a = &servers[&("web".to_string(), "a".to_string())];
    assert!(!a.drain && !a.maint && a.weight == 50 && a.maxconn == 10);
    assert_eq!(
        servers[&("web".to_string(), "b".to_string())].addr,
        "127.0.0.1"
    );
    assert!(servers[&("web".to_string(), "c".to_string())].maint);
    assert_eq!(
        servers[&("web".to_string(), "named".to_string())].fqdn,
        Some("named.invalid".to_string())
    );
}

/// What the Runtime API of HAProxy 2.6 cannot do to a server named by DNS
/// (delete it, give it another port, put an IP address in its place) is
/// a reload, said as such, and no command is tried.
#[test]
fn servers_named_by_dns_that_need_a_reload() {
    let s = setup((false, false), (false, false), |cfg| {
        cfg.replace(
            "    server named named.invalid:9106",
            "    server gone gone.invalid:9107 init-addr last,none resolvers default\n    server named named.invalid:9999",
        )
    });
    assert!(s
        .haproxy
        .servers()
        .contains_key(&("web".to_string(), "gone".to_string())));
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    for expected in [
        "backend web / server gone: `del server` refuses a server named by DNS",
        "backend web / server named: `set server addr` takes an IP address: a server named by DNS changes its port with a reload",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    assert!(!report.contains("applied: del server"), "{report}");
}

#[test]
fn apply_adds_and_removes_servers_and_says_when_a_reload_is_needed() {
    // Running: with `added`, without `more`. Declared: without `added`, with `more`.
    let s = setup((true, false), (false, true), |c| c);
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(report.contains("applied: del server web/added"), "{report}");
    assert!(
        report.contains("reload needed: backend `more` is not running"),
        "{report}"
    );
    assert!(!s
        .haproxy
        .servers()
        .contains_key(&("web".to_string(), "added".to_string())));

    // And the other way: a declared server the running HAProxy lacks.
    let s = setup((false, false), (true, false), |c| c);
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
    assert!(
        report.contains("applied: add server web/added 127.0.0.1:9105 weight 5"),
        "{report}"
    );
    let added = &s.haproxy.servers()[&("web".to_string(), "added".to_string())];
    assert!(!added.maint && added.weight == 5, "{added:?}");
}

#[test]
fn a_refused_command_fails_and_is_reported() {
    // At `operator` level HAProxy refuses every `set server`.
    let s = setup((false, false), (false, false), |c| {
        c.replace("level admin", "level operator")
    });
    // The running state cannot drift through this socket, so the sources
    // declare a different weight instead.
    let declared = std::fs::read_to_string(s.project.path().join("main.hap")).unwrap();
    std::fs::write(
        s.project.path().join("main.hap"),
        declared.replace("weight = 50", "weight = 60"),
    )
    .unwrap();
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::FAILED, "{report}");
    assert!(
        report.contains("error: HAProxy refused `set server web/a weight 60`: Permission denied"),
        "{report}"
    );
    assert!(
        report.contains("0 command(s) applied, 1 refused"),
        "{report}"
    );
}

/// What the Runtime API cannot change is a reload, said as such: HAProxy
/// runs a configuration whose `description haptic:...` fingerprint is not
/// the declared one's (a route that is not a map entry, here), or one
/// without a fingerprint. Servers alone leave the fingerprint as it is.
#[test]
fn a_configuration_change_the_runtime_api_cannot_make_is_a_reload() {
    // The sources gain a route; HAProxy runs the configuration without it.
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let with_route = source(&socket, front, false, false).replace(
        "  default -> web\n",
        "  route path exact \"/x\" -> fixed\n  default -> web\n",
    );
    let s = Setup::running(
        run,
        &socket,
        &source(&socket, front, false, false),
        &with_route,
    );
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(
        report.contains("reload needed: HAProxy runs another configuration than the declared one"),
        "{report}"
    );
    assert!(report.contains("no command sent"), "{report}");
    drop(s);
    let s = setup((false, false), (false, false), |c| {
        c.lines()
            .filter(|l| !l.contains("description haptic:"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(report.contains("that haptic did not write"), "{report}");
    // A server added in the sources only: converged at runtime, no reload.
    let s = setup((false, false), (true, false), |c| c);
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
    assert!(report.contains("applied: add server web/added"), "{report}");
}

/// A health check's interval, rise and fall are written on each server's
/// line (`check inter 2s rise 2 fall 3`), and HAProxy reports none of
/// them: a change of them alone is a reload, which the fingerprint says.
#[test]
fn a_health_check_timing_change_is_a_reload() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let with_check = |check: &str| {
        source(&socket, front, false, false).replace(
            "  balance = static-rr\n",
            &format!("  balance = static-rr\n  check = http {{ path = \"/\"{check} }}\n"),
        )
    };
    let running = with_check("");
    for changed in [", every = 5s", ", rise = 3", ", fall = 5"] {
        let s = Setup::running(
            tempfile::tempdir().unwrap(),
            &socket,
            &running,
            &with_check(changed),
        );
        let (code, _, report) = apply(&s, &[]);
        assert_eq!(code, exit::RELOAD_NEEDED, "{changed}: {report}");
        drop(s);
    }
    let s = Setup::running(run, &socket, &running, &running);
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
}

#[test]
fn dry_run_prints_and_sends_nothing() {
    let s = setup((false, false), (false, false), |c| c);
    s.haproxy.command("set server web/a weight 9");
    let (code, stdout, report) = apply(&s, &["--dry-run"]);
    assert_eq!(code, exit::OK, "{report}");
    assert_eq!(stdout, "set server web/a weight 50\n");
    assert_eq!(
        s.haproxy.servers()[&("web".to_string(), "a".to_string())].weight,
        9
    );
}

#[test]
fn static_algorithms_get_a_reload_not_a_refused_weight() {
    let s = setup((false, false), (false, false), |c| c);
    let declared = std::fs::read_to_string(s.project.path().join("main.hap")).unwrap();
    std::fs::write(
        s.project.path().join("main.hap"),
        declared.replace("weight = 20", "weight = 30"),
    )
    .unwrap();
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(
        report.contains("`static-rr` accepts only a weight of 0 or the configured one"),
        "{report}"
    );
}

#[test]
fn unreachable_and_tcp_endpoints() {
    let project = TempProject::single(&source(
        Path::new("/tmp/none.sock"),
        free_port(),
        false,
        false,
    ));
    let out = haptic(
        &[
            "apply",
            ".",
            "--env",
            "test",
            "--socket",
            "/nonexistent/admin.sock",
        ],
        project.path(),
    );
    assert_eq!(out.status.code(), Some(exit::UNREACHABLE));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("help: HAProxy must be running with a socket"),
        "{said}"
    );
    let out = haptic(
        &["apply", ".", "--env", "nope", "--socket", "/x"],
        project.path(),
    );
    assert_eq!(out.status.code(), Some(exit::USAGE));

    // The same HAProxy through a TCP Runtime API.
    let port = free_port();
    let s = setup((false, false), (false, false), |c| {
        c.replace(
            "    stats timeout 30s\n",
            &format!("    stats timeout 30s\n    stats socket ipv4@127.0.0.1:{port} level admin\n"),
        )
    });
    s.haproxy.command("set server web/a weight 3");
    let tcp = format!("127.0.0.1:{port}");
    let out = haptic(
        &["apply", ".", "--env", "test", "--socket", &tcp],
        s.project.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(exit::OK),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s.haproxy.servers()[&("web".to_string(), "a".to_string())].weight,
        50
    );
}

/// The routes map converges too: HAProxy started on the base's map, with
/// drift made by hand (an entry added twice, one the sources never had),
/// is brought to the declared entries (added, set, deleted, the doubled
/// key deleted and added once); a second apply sends nothing. HAProxy
/// running a configuration without the map gets a reload, not commands.
#[test]
fn apply_converges_the_routes_map() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let map = run.path().join("routes.map");
    let front = free_port();
    let source = |routes: &str, with_map: bool| {
        let map_line = if with_map {
            format!("  routes_map = \"{}\"\n", map.display())
        } else {
            String::new()
        };
        format!(
            "env test\ndefaults {{\n  socket = \"{}\"\n{map_line}}}\n\
             backend a {{ server s = 127.0.0.1:9301 }}\n\
             backend b {{ server s = 127.0.0.1:9302 }}\n\
             frontend f {{\n  bind 127.0.0.1:{front}\n{routes}  default -> a\n}}\n",
            socket.display()
        )
    };
    let base_routes =
        "  route host \"one.example.com\" -> a\n  route host \"two.example.com\" -> b\n";
    // With a host and a path too: keys `host@f/prefix` and `host@f=/exact`.
    let new_routes = "  route host \"one.example.com\" -> b\n  route host \"three.example.com\" -> a\n  route host \"four.example.com\" -> b\n  route host \"five.example.com\" path prefix \"/v1/\" -> a\n  route host \"five.example.com\" path exact \"/me\" -> b\n";
    let base = TempProject::single(&source(base_routes, true))
        .compile()
        .outputs()
        .remove(0);
    std::fs::write(&map, base.routes_map.unwrap()).unwrap();
    let haproxy = Haproxy::start(&base.haproxy_cfg, &socket);
    let path = map.display().to_string();
    for drift in [
        format!("add map {path} four.example.com@f/ b"),
        format!("add map {path} four.example.com@f/ a"),
        format!("add map {path} hand.example.com@f/ a"),
    ] {
        assert_eq!(haproxy.command(&drift).trim(), "");
    }
    let project = TempProject::single(&source(new_routes, true));
    let s = Setup {
        _run: run,
        socket: socket.clone(),
        project,
        haproxy,
    };
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
    for expected in [
        "  ~ frontend f / route host one.example.com: backend a -> b",
        "  ~ frontend f / route host three.example.com: backend absent -> a",
        "  ~ frontend f / route host four.example.com: backend b, a -> b",
        "  ~ frontend f / route host two.example.com: backend b -> absent",
        "  ~ frontend f / route host hand.example.com: backend a -> absent",
        &format!("applied: set map {path} one.example.com@f/ b"),
        &format!("applied: add map {path} three.example.com@f/ a"),
        &format!("applied: del map {path} four.example.com@f/"),
        &format!("applied: add map {path} four.example.com@f/ b"),
        &format!("applied: del map {path} hand.example.com@f/"),
        &format!("applied: del map {path} two.example.com@f/"),
        "  ~ frontend f / route host five.example.com path prefix /v1/: backend absent -> a",
        "  ~ frontend f / route host five.example.com path exact /me: backend absent -> b",
        &format!("applied: add map {path} five.example.com@f/v1/ a"),
        &format!("applied: add map {path} five.example.com@f=/me b"),
        "converged: 8 command(s) applied and verified",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    let live = haptic::runtime_api::parse_map(&s.haproxy.command(&format!("show map {path}")))
        .expect("the map is loaded");
    let mut live: Vec<String> = live.iter().map(|(k, v)| format!("{k} {v}")).collect();
    live.sort();
    assert_eq!(
        live,
        [
            "five.example.com@f/v1/ a",
            "five.example.com@f=/me b",
            "four.example.com@f/ b",
            "one.example.com@f/ b",
            "three.example.com@f/ a"
        ]
    );
    let (code, _, second) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{second}");
    assert!(second.contains("no command sent"), "{second}");

    // A HAProxy whose configuration has no routes map.
    let without = TempProject::single(&source(base_routes, false))
        .compile()
        .outputs()
        .remove(0);
    drop(s.haproxy);
    let haproxy = Haproxy::start(&without.haproxy_cfg, &s.socket);
    let s = Setup { haproxy, ..s };
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(
        report.contains(&format!(
            "reload needed: the routes map `{path}` is not loaded: HAProxy runs a configuration without it"
        )),
        "{report}"
    );
    assert!(!report.contains("applied:"), "{report}");
}

/// A running server's `tls`, `check` and `backup` change only with a
/// reload, and HAProxy shows them (`show servers state`, `show stat`):
/// `apply` names each such drift and says a reload is needed, though the
/// configuration's fingerprint is the same (it leaves server lines out,
/// but for the kinds of TLS, here `d`'s, that a backend's servers use).
#[test]
fn a_server_option_only_a_reload_changes_is_a_reload() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let source = |a: &str, b: &str, c: &str| {
        format!(
            "import std.checks\nenv test\ndefaults {{ socket = \"{}\" }}\n\
             backend web {{\n  check = checks.healthz\n\
               server a = 127.0.0.1:9101{a}\n  server b = 127.0.0.1:9102{b}\n  server c = 127.0.0.1:9103{c}\n\
               server d = 127.0.0.1:9104 {{ tls = {{ verify = none }} }}\n}}\n\
             frontend f {{\n  bind 127.0.0.1:{front}\n  default -> web\n}}\n",
            socket.display()
        )
    };
    let s = Setup::running(run, &socket, &source("", "", ""), &source("", "", ""));
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::OK, "{report}");
    let declared = source(
        " { backup = true }",
        " { tls = { verify = none } }",
        " { check = false }",
    );
    std::fs::write(s.project.path().join("main.hap"), declared).unwrap();
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    for (server, field) in [("a", "backup"), ("b", "tls"), ("c", "check")] {
        assert!(
            report.contains(&format!(
                "backend web / server {server}: changing a server's `{field}` needs a reload"
            )),
            "{server}: {report}"
        );
    }
    assert!(!report.contains("runs another configuration"), "{report}");
    assert!(report.contains("no command sent"), "{report}");
    // What HAProxy does not report (here `d`'s PROXY protocol) is in the
    // fingerprint, as the set of such options the backend's servers use.
    let declared = source("", "", "").replace(
        "tls = { verify = none } }",
        "tls = { verify = none }, send_proxy = true }",
    );
    std::fs::write(s.project.path().join("main.hap"), declared).unwrap();
    let (code, _, report) = apply(&s, &[]);
    assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
    assert!(report.contains("runs another configuration"), "{report}");
}

/// A server added to a backend with sticky sessions: where the running
/// HAProxy takes `cookie` in `add server` (3.0, 2.8 from 2.8.8), `apply`
/// adds it with its cookie and requests that carry that cookie reach it;
/// where it does not (2.6.12), `apply` asks for a reload, and the command
/// is indeed refused.
/// The project targets the version of the HAProxy the tests run.
#[test]
fn a_server_of_a_sticky_backend_is_added_where_haproxy_takes_its_cookie() {
    use std::io::Write;
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let added = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = added.local_addr().unwrap().port();
    let source = |with_added: bool| {
        let server = if with_added {
            format!("  server added = 127.0.0.1:{port}\n")
        } else {
            String::new()
        };
        format!(
            "env test\ndefaults {{ socket = \"{}\" }}\n\
             backend web {{\n  sticky_cookie = \"SRV\"\n  server a = 127.0.0.1:9\n{server}}}\n\
             frontend f {{\n  bind 127.0.0.1:{front}\n  default -> web\n}}\n",
            socket.display()
        )
    };
    let setup = Setup::running_as(
        TempProject::for_running,
        run,
        &socket,
        &source(false),
        &source(true),
    );
    let (code, _, report) = apply(&setup, &[]);
    let add = format!("add server web/added 127.0.0.1:{port} weight 100 cookie added");
    if !support::running_runtime().adds_sticky_servers() {
        assert_eq!(code, exit::RELOAD_NEEDED, "{report}");
        assert!(report.contains("the `cookie` option"), "{report}");
        let reply = setup.haproxy.command(&add);
        assert!(reply.contains("'cookie' option is not accepted"), "{reply}");
        return;
    }
    assert_eq!(code, exit::OK, "{report}");
    assert!(report.contains(&add), "{report}");
    const REQUESTS: usize = 5;
    let answer = std::thread::spawn(move || {
        for _ in 0..REQUESTS {
            let (mut stream, _) = added.accept().unwrap();
            crate::live::read_request_head(&mut stream);
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nadded",
                )
                .unwrap();
        }
    });
    // Server `a` listens nowhere: a request balanced to it would fail.
    for _ in 0..REQUESTS {
        let reply = crate::live::http_get(front, "Host: x\r\nCookie: SRV=added\r\n");
        assert!(
            reply.starts_with("HTTP/1.1 200") && reply.ends_with("added"),
            "{reply}"
        );
    }
    answer.join().unwrap();
}
