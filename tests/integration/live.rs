//! `runtime.txt` proven against a real HAProxy 2.6 on a Unix socket in a
//! temporary directory: started on the compiled `haproxy.cfg`, given the
//! commands, read back with `show servers state`, stopped by its pid.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haptic::model::Host;
use haptic::runtime_api::{self, Endpoint, LiveServer};

use crate::support::{self, TempProject};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A running HAProxy; stopped (by pid) when dropped.
pub struct Haproxy {
    child: Child,
    pub socket: Endpoint,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    pub fn start(cfg: &str, socket: &Path) -> Haproxy {
        Self::start_with(cfg, socket, &[])
    }

    /// [`Haproxy::start`] with the secrets named in `values` set to
    /// their values (every other secret to a placeholder).
    pub fn start_with(cfg: &str, socket: &Path, values: &[(&str, &str)]) -> Haproxy {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, secrets) = support::for_test_machine(cfg);
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let mut command = Command::new(support::haproxy());
        command
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for name in secrets {
            let value = values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            command.env(&name, value.unwrap_or("test-secret-value"));
        }
        let child = command.spawn().expect("start haproxy");
        let mut haproxy = Haproxy {
            child,
            socket: Endpoint::Unix(socket.to_path_buf()),
            _dir: dir,
        };
        let started = Instant::now();
        while runtime_api::send(&haproxy.socket, "show info", TIMEOUT).is_err() {
            if let Ok(Some(status)) = haproxy.child.try_wait() {
                let mut err = String::new();
                use std::io::Read;
                haproxy
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("haproxy exited with {status}:\n{err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "haproxy did not open {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        haproxy
    }

    pub fn command(&self, line: &str) -> String {
        runtime_api::send(&self.socket, line, TIMEOUT).unwrap_or_else(|e| panic!("`{line}`: {e}"))
    }

    pub fn servers(&self) -> BTreeMap<(String, String), LiveServer> {
        runtime_api::read_live(&self.socket, TIMEOUT)
            .unwrap()
            .servers
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now, for a HAProxy a test starts to
/// bind. A port the kernel picks for port 0 comes from its ephemeral range,
/// where the tests' own connections take their local ports too: one of
/// them could hold it by the time HAProxy binds it ("Address already in
/// use", seen once in a run). So ports are taken below that range in
/// turn, from a place that depends on the process, and again from there
/// after the last (a long run starts more HAProxies than the range has
/// ports; those of the first have stopped long since).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const WINDOW: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    if ephemeral < WINDOW + 1_024 {
        return std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
    }
    let (first, start) = (ephemeral - WINDOW, std::process::id() % WINDOW);
    for _ in 0..WINDOW {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(first + (start + n) % WINDOW).expect("below the ephemeral range");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port left below {ephemeral}");
}

/// Sends every command of a `runtime.txt`, checking each reply.
pub fn apply_script(haproxy: &Haproxy, script: &str) {
    for line in script
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let reply = haproxy.command(line);
        let reply = reply.trim();
        let accepted = reply.is_empty()
            || reply.starts_with("IP changed from")
            || reply.starts_with("no need to change")
            || reply.starts_with("nothing changed")
            || reply.contains("port changed from")
            || reply.contains(" changed its FQDN from ");
        assert!(accepted, "HAProxy refused `{line}`: {reply}");
    }
}

/// What the model declares for each server, as `show servers state` shows it.
fn declared(env: &haptic::model::Env) -> BTreeMap<(String, String), (String, u16, bool, u32)> {
    env.backends
        .iter()
        .flat_map(|b| {
            b.servers.iter().map(move |s| {
                let addr = match &s.host {
                    Host::Ip(ip) => ip.to_string(),
                    Host::Name(n) => n.clone(),
                };
                let maint = s.state == haptic::model::ServerState::Maint;
                let weight = if maint { 0 } else { s.effective_weight() };
                (
                    (b.name.clone(), s.name.to_string()),
                    (addr, s.port, maint, weight),
                )
            })
        })
        .collect()
}

fn observed(
    live: &BTreeMap<(String, String), LiveServer>,
) -> BTreeMap<(String, String), (String, u16, bool, u32)> {
    live.iter()
        .map(|(k, s)| {
            // A server named by DNS by its name (`.invalid` never resolves),
            // and with the weight it gets once resolved.
            let addr = s.fqdn.clone().unwrap_or_else(|| s.addr.clone());
            let weight = if s.drain || s.maint { 0 } else { s.weight };
            (k.clone(), (addr, s.port, s.maint, weight))
        })
        .collect()
}

fn fixture(socket: &Path) -> TempProject {
    let source = format!(
        r#"
import std.checks
env test
defaults {{ socket = "{socket}" }}
backend b {{
  balance = leastconn
  server ready = 127.0.0.1:{p1} {{ weight = 50, maxconn = 10 }}
  server draining = 127.0.0.1:{p2} {{ state = drain, weight = 30 }}
  server down = 127.0.0.1:{p3} {{ state = maint }}
  server v6 = [::1]:{p4} {{ weight = 7 }}
  server named = "named.invalid":{p7} {{ weight = 5 }}
}}
backend fixed {{
  balance = static-rr
  server x = 127.0.0.1:{p5} {{ weight = 20 }}
  server y = 127.0.0.1:{p6} {{ state = drain }}
}}
frontend f {{
  bind 127.0.0.1:{front}
  route path prefix "/fixed/" -> fixed
  default -> b
}}
"#,
        socket = socket.display(),
        p1 = free_port(),
        p2 = free_port(),
        p3 = free_port(),
        p4 = free_port(),
        p5 = free_port(),
        p6 = free_port(),
        p7 = free_port(),
        front = free_port(),
    );
    TempProject::single(&source)
}

#[test]
fn runtime_script_reaches_the_declared_state_and_is_idempotent() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let project = fixture(&socket);
    let compilation = project.compile();
    assert!(
        !compilation.has_errors(),
        "{}",
        support::rendered(&compilation)
    );
    let env = &compilation.envs[0];
    let output = compilation.output(env);
    let haproxy = Haproxy::start(&output.haproxy_cfg, &socket);

    // The configuration alone expresses the declared state...
    let expected = declared(env);
    assert_eq!(observed(&haproxy.servers()), expected);
    // ...and the runtime script keeps it (idempotent, every reply accepted).
    apply_script(&haproxy, &output.runtime_txt);
    assert_eq!(observed(&haproxy.servers()), expected);
    apply_script(&haproxy, &output.runtime_txt);
    assert_eq!(observed(&haproxy.servers()), expected);
}

#[test]
fn runtime_script_repairs_drift_made_by_hand() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let project = fixture(&socket);
    let compilation = project.compile();
    let env = &compilation.envs[0];
    let output = compilation.output(env);
    let haproxy = Haproxy::start(&output.haproxy_cfg, &socket);
    let expected = declared(env);

    for drift in [
        "set server b/ready state drain",
        "set server b/ready addr 127.0.0.9 port 9999",
        "set server b/v6 weight 99",
        "set server b/down state ready",
        "set server b/draining state ready",
        "set server fixed/x state maint",
        "set server b/named fqdn other.invalid",
    ] {
        apply_script(&haproxy, drift);
    }
    assert_ne!(
        observed(&haproxy.servers()),
        expected,
        "the drift took effect"
    );
    apply_script(&haproxy, &output.runtime_txt);
    assert_eq!(observed(&haproxy.servers()), expected);
}

/// Host routes on a real HAProxy: the Host header's port is ignored, its
/// case too, an IPv6 literal host (`[::1]:PORT` in the header) is
/// matched, and a wildcard takes the names under its domain, not the
/// domain. Which backend took each request is read from `show stat` (the
/// servers are in maintenance: every request gets a quick 503).
#[test]
fn host_routes_match_on_a_real_haproxy() {
    let front = free_port();
    let dead = free_port();
    let source = format!(
        r#"backend v6 {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
backend named {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
backend other {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
backend wild {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
frontend f {{
  bind 127.0.0.1:{front}
  route host "::1" -> v6
  route host "app.example.com" -> named
  route host "*.example.com" -> wild
  default -> other
}}
"#,
    );
    let haproxy = start_project(&source);
    let hosts = [
        format!("[::1]:{front}"),
        "[::1]".to_string(),
        format!("app.example.com:{front}"),
        "APP.Example.com".to_string(),
        // Under the wildcard: one label or several, any case, any port.
        "other.example.com".to_string(),
        format!("A.B.Example.COM:{front}"),
        // Not under it: the domain itself, and a name that only ends alike.
        "example.com".to_string(),
        "badexample.com".to_string(),
    ];
    for host in &hosts {
        let reply = http_get(front, &format!("Host: {host}\r\n"));
        assert!(reply.starts_with("HTTP/1.1 503"), "{host}: {reply}");
    }
    // `show stat`: the sessions each backend took (`stot`, its 8th field).
    let stat = haproxy.command("show stat");
    let taken = |backend: &str| -> u64 {
        stat.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.len() > 7 && f[0] == backend && f[1] == "BACKEND")
            .map(|f| f[7].parse().unwrap())
            .unwrap_or_else(|| panic!("no backend {backend} in:\n{stat}"))
    };
    assert_eq!(
        (taken("v6"), taken("named"), taken("wild"), taken("other")),
        (2, 2, 2, 2),
        "{stat}"
    );
}

/// `forwarded_for` and `forwarded_proto` as a real HAProxy applies them: a
/// backend (a thread here) answers with the `X-Forwarded-*` headers it
/// received. A client's forged headers are replaced at the edge, and kept
/// in the chain where the frontend appends.
#[test]
fn forwarded_headers_reach_the_backend_on_a_real_haproxy() {
    let (edge, chain) = (free_port(), free_port());
    let (port, echo) = header_echo("x-forwarded", 2);
    let source = format!(
        r#"backend echo {{ server s = 127.0.0.1:{port} }}
frontend edge {{
  bind 127.0.0.1:{edge}
  forwarded_for = replace
  forwarded_proto = true
  default -> echo
}}
frontend chain {{
  bind 127.0.0.1:{chain}
  forwarded_for = append
  default -> echo
}}
"#,
    );
    let _haproxy = start_project(&source);
    let ask = |port: u16| -> String {
        let forged = "Host: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n";
        let reply = http_get(port, forged);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        reply[reply.find("\r\n\r\n").unwrap() + 4..].to_string()
    };
    assert_eq!(
        ask(edge),
        "x-forwarded-proto: http\r\nx-forwarded-for: 127.0.0.1\r\n",
        "the edge replaces what the client sent"
    );
    assert_eq!(
        ask(chain),
        "x-forwarded-for: 6.6.6.6\r\nx-forwarded-proto: https\r\nx-forwarded-for: 127.0.0.1\r\n",
        "the chain keeps what the proxy in front sent, and adds"
    );
    echo.join().unwrap();
}

/// `strip_prefix` and `add_prefix` on a real HAProxy: the backend is sent
/// the path without the prefix where a segment ends after it, the query
/// string kept, and any other path as it is; then with the added prefix
/// before it, as written (`%` and all).
#[test]
fn a_backend_strips_its_path_prefix_on_a_real_haproxy() {
    // (host, path asked, path the backend is sent): `x` strips `/api`,
    // `moved.example.com` strips it and adds `/v2%41` (a `%` of the path
    // as it is written), `legacy.example.com` adds `/legacy`.
    const PATHS: &[(&str, &str, &str)] = &[
        ("x", "/api/users?q=1", "/users?q=1"),
        ("x", "/api/v2/x", "/v2/x"),
        ("x", "/api", "/"),
        ("x", "/api?q=1", "/?q=1"),
        ("x", "/api/", "/"),
        ("x", "/api/api", "/api"),
        ("x", "/apix/y", "/apix/y"),
        ("x", "/other/api/z", "/other/api/z"),
        ("moved.example.com", "/api/users?q=1", "/v2%41/users?q=1"),
        ("moved.example.com", "/api", "/v2%41/"),
        ("moved.example.com", "/apix", "/v2%41/apix"),
        ("legacy.example.com", "/", "/legacy/"),
        ("legacy.example.com", "/a/b?c", "/legacy/a/b?c"),
    ];
    let backend = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = backend.local_addr().unwrap().port();
    // One connection a request, answered with the target it was sent.
    let echo = std::thread::spawn(move || {
        use std::io::Write;
        for _ in PATHS {
            let (mut stream, _) = backend.accept().unwrap();
            let head = String::from_utf8(read_request_head(&mut stream)).unwrap();
            let target = head.split(' ').nth(1).unwrap_or_default().to_string();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{target}",
                target.len()
            )
            .unwrap();
        }
    });
    let front = free_port();
    let _haproxy = start_project(&format!(
        "backend api {{\n  strip_prefix = \"/api\"\n  server s = 127.0.0.1:{port}\n}}\n\
         backend moved {{\n  strip_prefix = \"/api\"\n  add_prefix = \"/v2%41\"\n  \
         server s = 127.0.0.1:{port}\n}}\n\
         backend legacy {{\n  add_prefix = \"/legacy\"\n  server s = 127.0.0.1:{port}\n}}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  route host \"moved.example.com\" -> moved\n  \
         route host \"legacy.example.com\" -> legacy\n  default -> api\n}}\n"
    ));
    for (host, asked, sent) in PATHS {
        let request = format!("GET {asked} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let reply = String::from_utf8_lossy(&send_raw(front, &request)).into_owned();
        assert!(reply.starts_with("HTTP/1.1 200"), "{host}{asked}: {reply}");
        let body = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(body, *sent, "{host}{asked}");
    }
    echo.join().unwrap();
}

/// `defaults { dns = ... }` on a real HAProxy: a server named by DNS is
/// resolved by the name server the environment declares (one the test
/// runs on UDP, which knows one name), and takes the address it answers.
#[test]
fn servers_named_by_dns_ask_the_declared_name_servers_on_a_real_haproxy() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns_port = server.local_addr().unwrap().port();
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let answering = {
        let (stop, asked) = (stop.clone(), asked.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !stop.load(Ordering::Relaxed) {
                let Ok((len, from)) = server.recv_from(&mut buf) else {
                    continue;
                };
                if let Some((name, reply)) = dns_answer(&buf[..len], [127, 0, 0, 42]) {
                    asked.lock().unwrap().push(name);
                    server.send_to(&reply, from).unwrap();
                }
            }
        })
    };
    let run = tempfile::tempdir().unwrap();
    let front = free_port();
    let source = format!(
        "env test\n\
         defaults {{\n  socket = \"{}\"\n  dns = {{ nameservers = [127.0.0.1:{dns_port}], hold_valid = 1s }}\n}}\n\
         backend api {{ server a = \"svc.haptic.test\":8080 }}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  default -> api\n}}\n",
        run.path().join("admin.sock").display()
    );
    let cfg = TempProject::single(&source)
        .compile()
        .outputs()
        .remove(0)
        .haproxy_cfg;
    assert!(
        cfg.contains("\nresolvers haptic\n")
            && cfg.contains("init-addr last,none resolvers haptic"),
        "{cfg}"
    );
    let haproxy = start_cfg(run, &cfg);
    let started = std::time::Instant::now();
    let resolved = loop {
        let a = haproxy.servers()[&("api".to_string(), "a".to_string())].clone();
        if a.addr == "127.0.0.42" || started.elapsed() > Duration::from_secs(10) {
            break a;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Ordering::Relaxed);
    answering.join().unwrap();
    assert_eq!(resolved.addr, "127.0.0.42", "{resolved:?}");
    assert!(!resolved.unresolved, "{resolved:?}");
    assert!(
        asked.lock().unwrap().iter().all(|n| n == "svc.haptic.test"),
        "{:?}",
        asked.lock().unwrap()
    );
}

/// The reply of a name server that knows every name as `ip` (IPv4 only)
/// to the DNS query `query`, with the name asked; `None` for what is not
/// a query of one question.
fn dns_answer(query: &[u8], ip: [u8; 4]) -> Option<(String, Vec<u8>)> {
    let header = query.get(..12)?;
    if header[2] & 0x80 != 0 || header[4..6] != [0, 1] {
        return None;
    }
    // The question: the name's labels, then its type and class.
    let (mut at, mut labels) = (12, Vec::new());
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).into_owned());
        at += len;
    }
    let question = query.get(12..at + 4)?;
    let is_a = question[question.len() - 4..question.len() - 2] == [0, 1];
    let mut reply = Vec::new();
    reply.extend_from_slice(&header[..2]);
    reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    reply.extend_from_slice(question);
    if is_a {
        // The name by a pointer to the question's, type A, class IN, a TTL
        // of 60 s, 4 bytes of address.
        reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        reply.extend_from_slice(&ip);
    }
    Some((labels.join("."), reply))
}

/// `basic_auth` on a real HAProxy: a request without the credentials of
/// a listed user gets a 401 that names the realm; with them, it reaches
/// the backend's server. The password's hash is made as the README says,
/// with `openssl passwd -6`, and given to HAProxy as the secret.
#[test]
fn a_backend_asks_for_basic_authentication_on_a_real_haproxy() {
    let out = Command::new("openssl")
        .args(["passwd", "-6", "-salt", "haptic", "s3cret"])
        .output()
        .expect("openssl is installed (see the README)");
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$6$"), "{hash}");
    // The backend's server answers the one request let through.
    let (port, answer) = answer(1, "in");
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let front = free_port();
    let source = format!(
        "env test\ndefaults {{ socket = \"{}\" }}\n\
         backend admin {{\n  basic_auth = {{ realm = \"ops\", users = [\n    {{ name = \"alice\", password_hash = secret(\"ALICE_HASH\") }},\n    {{ name = \"bob\", password_hash = secret(\"BOB_HASH\") }},\n  ] }}\n  server a = 127.0.0.1:{port}\n}}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  default -> admin\n}}\n",
        socket.display()
    );
    let cfg = TempProject::single(&source)
        .compile()
        .outputs()
        .remove(0)
        .haproxy_cfg;
    let _haproxy = Haproxy::start_with(&cfg, &socket, &[("ALICE_HASH", &hash)]);
    // base64 of `alice:s3cret`, `alice:wrong`, `bob:s3cret`.
    for (credentials, status) in [
        (None, "401"),
        (Some("YWxpY2U6d3Jvbmc="), "401"),
        (Some("Ym9iOnMzY3JldA=="), "401"),
        (Some("YWxpY2U6czNjcmV0"), "200"),
    ] {
        let authorization = credentials
            .map(|c| format!("Authorization: Basic {c}\r\n"))
            .unwrap_or_default();
        let reply = http_get(front, &format!("Host: x\r\n{authorization}"));
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {status}")),
            "{credentials:?}: {reply}"
        );
        if status == "401" {
            assert!(
                reply
                    .to_ascii_lowercase()
                    .contains("www-authenticate: basic realm=\"ops\""),
                "{reply}"
            );
        }
    }
    answer.join().unwrap();
}

/// `allow` on a real HAProxy: a client outside the networks a frontend or
/// a backend lists gets 403; one inside them reaches the server.
#[test]
fn clients_outside_the_allowed_networks_get_403_on_a_real_haproxy() {
    // The one request let through.
    let (port, answer) = answer(1, "in");
    let (open, closed) = (free_port(), free_port());
    let _haproxy = start_project(&format!(
        "backend inside {{\n  allow = [127.0.0.0/8]\n  server s = 127.0.0.1:{port}\n}}\n\
         backend outside {{\n  allow = [10.0.0.0/8, 192.168.0.0/16]\n  server s = 127.0.0.1:{port}\n}}\n\
         frontend open {{\n  bind 127.0.0.1:{open}\n  route path prefix \"/out/\" -> outside\n  default -> inside\n}}\n\
         frontend closed {{\n  bind 127.0.0.1:{closed}\n  allow = [10.0.0.0/8]\n  default -> inside\n}}\n"
    ));
    assert_eq!(status_of(open, "/out/x"), "403", "the backend's networks");
    assert_eq!(status_of(closed, "/"), "403", "the frontend's networks");
    assert_eq!(status_of(open, "/in"), "200", "inside both");
    answer.join().unwrap();
}

/// Redirect routes on a real HAProxy: a 308 to the URL with the request's
/// path and query after it, and routes keep their order (the drafts of
/// the blog still reach the backend routed before the redirect); the
/// default route redirects what no route takes.
#[test]
fn redirect_routes_answer_in_their_order_on_a_real_haproxy() {
    let (front, dead) = (free_port(), free_port());
    let source = format!(
        r#"backend drafts {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
frontend f {{
  bind 127.0.0.1:{front}
  route host "blog.example.com" path prefix "/drafts/" -> drafts
  route host "blog.example.com" -> redirect "https://www.example.com/blog"
  route path prefix "/old/" -> redirect "http://127.0.0.1:8080/%ci%25"
  default -> redirect "https://new.example.com"
}}
"#,
    );
    let _haproxy = start_project(&source);
    let get = |host: &str, path: &str| -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let reply = String::from_utf8_lossy(&send_raw(front, &request)).to_ascii_lowercase();
        let status = reply.lines().next().unwrap_or("").to_string();
        let location = reply
            .lines()
            .find_map(|l| l.strip_prefix("location: "))
            .unwrap_or("-")
            .to_string();
        format!("{status} {location}")
    };
    assert_eq!(
        get("blog.example.com", "/2024/post?id=3"),
        "http/1.1 308 permanent redirect https://www.example.com/blog/2024/post?id=3"
    );
    assert_eq!(
        get("blog.example.com", "/drafts/x"),
        "http/1.1 503 service unavailable -",
        "an earlier route to a backend comes first"
    );
    assert_eq!(
        get("other.example.com", "/old/page"),
        "http/1.1 308 permanent redirect http://127.0.0.1:8080/%ci%25/old/page",
        "a `%` of the URL is written as it is, never read as a variable"
    );
    assert_eq!(
        get("other.example.com", "/a/b?c=1"),
        "http/1.1 308 permanent redirect https://new.example.com/a/b?c=1",
        "the default route"
    );
}

/// The PROXY protocol end to end on a real HAProxy: a frontend with
/// `accept_proxy` takes the client's address from the v1 header a load
/// balancer sends (and refuses a connection without one), and a server
/// with `send_proxy` gets a v2 header with that address, before the
/// request, whose `X-Forwarded-For` names it too.
#[test]
fn proxy_protocol_carries_the_client_address_on_a_real_haproxy() {
    use std::io::{Read, Write};
    let front = free_port();
    let backend = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = backend.local_addr().unwrap().port();
    // Answers with the source address of the PROXY v2 header it got, and
    // the request's `X-Forwarded-For`.
    let server = std::thread::spawn(move || {
        let (mut stream, _) = backend.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut head = [0u8; 16];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(&head[..12], b"\r\n\r\n\0\r\nQUIT\n", "a PROXY v2 signature");
        assert_eq!(head[12], 0x21, "version 2, PROXY command");
        let len = usize::from(u16::from_be_bytes([head[14], head[15]]));
        let mut addresses = vec![0u8; len];
        stream.read_exact(&mut addresses).unwrap();
        let source = match head[13] {
            0x11 => format!(
                "{}.{}.{}.{}",
                addresses[0], addresses[1], addresses[2], addresses[3]
            ),
            other => format!("family {other:#x}"),
        };
        let request = String::from_utf8_lossy(&read_request_head(&mut stream)).to_ascii_lowercase();
        let forwarded = request
            .lines()
            .find_map(|l| l.strip_prefix("x-forwarded-for: "))
            .unwrap_or("none")
            .to_string();
        let body = format!("{source} {forwarded}");
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    let source = format!(
        r#"backend app {{ server s = 127.0.0.1:{port} {{ send_proxy = true }} }}
frontend behind_lb {{
  bind 127.0.0.1:{front}
  accept_proxy = true
  forwarded_for = replace
  default -> app
}}
"#,
    );
    let _haproxy = start_project(&source);
    let ask = |proxy_line: &str| -> String {
        let request = format!("{proxy_line}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&send_raw(front, &request)).into_owned()
    };
    // Without the header the load balancer sends: no answer at all.
    let refused = ask("");
    assert!(!refused.starts_with("HTTP/1.1 200"), "{refused}");
    let reply = ask("PROXY TCP4 192.0.2.7 127.0.0.1 40000 80\r\n");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\n192.0.2.7 192.0.2.7"),
        "the server sees the client's address twice: {reply}"
    );
    server.join().unwrap();
}

/// Client certificates on a real HAProxy: with `client_ca` (required), a
/// client without a certificate gets no answer, one whose certificate the
/// CA signed gets one; with `client_verify = optional`, both do. The
/// client is `openssl s_client`; the test certificate is its own CA.
#[test]
fn client_certificates_are_asked_for_on_a_real_haproxy() {
    use std::io::Write;
    let (strict, lenient) = (free_port(), free_port());
    let dead = free_port();
    let source = format!(
        r#"tls strict = {{ certs = "/etc/haproxy/site.pem", client_ca = "/etc/haproxy/clients.pem" }}
tls lenient = {{ certs = "/etc/haproxy/site.pem", client_ca = "/etc/haproxy/clients.pem", client_verify = optional }}
backend app {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
frontend f {{
  bind 127.0.0.1:{strict} tls strict
  bind 127.0.0.1:{lenient} tls lenient
  default -> app
}}
"#,
    );
    let run = tempfile::tempdir().unwrap();
    let cfg = test_cfg(&run, &source);
    assert!(
        cfg.contains("verify required") && cfg.contains("verify optional"),
        "{cfg}"
    );
    let _haproxy = start_cfg(run, &cfg);
    let certs = support::certs();
    // The first line of what HAProxy answers to a request over TLS, with
    // or without a client certificate.
    let answer = |port: u16, with_certificate: bool| -> String {
        let mut command = Command::new("openssl");
        command
            .args(["s_client", "-quiet", "-connect"])
            .arg(format!("127.0.0.1:{port}"));
        if with_certificate {
            command
                .arg("-cert")
                .arg(&certs.cert)
                .arg("-key")
                .arg(&certs.cert);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    // The backend's server is in maintenance: an answer is a quick 503.
    assert_eq!(answer(strict, false), "", "no certificate, no answer");
    assert!(answer(strict, true).starts_with("HTTP/1.1 503"));
    assert!(answer(lenient, false).starts_with("HTTP/1.1 503"));
    assert!(answer(lenient, true).starts_with("HTTP/1.1 503"));
}

/// `compress` on a real HAProxy: a response of a listed type comes gzipped
/// to a client that accepts gzip, one of another type as it was.
#[test]
fn responses_of_the_listed_types_are_compressed_on_a_real_haproxy() {
    use std::io::Write;
    let front = free_port();
    let backend = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = backend.local_addr().unwrap().port();
    // `/html` is answered as text/html, anything else as image/png.
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = backend.accept().unwrap();
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            let kind = if read_request_head(&mut stream).starts_with(b"GET /html ") {
                "text/html"
            } else {
                "image/png"
            };
            let body = "haptic ".repeat(500);
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    let source = format!(
        r#"backend app {{
  compress = ["text/html", "application/json"]
  server s = 127.0.0.1:{port} {{ slowstart = 30s }}
}}
frontend f {{
  bind 127.0.0.1:{front}
  default -> app
}}
"#,
    );
    let _haproxy = start_project(&source);
    let headers_of = |path: &str| -> String {
        let reply = send_raw(
            front,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"),
        );
        let end = reply
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(reply.len());
        String::from_utf8_lossy(&reply[..end]).to_ascii_lowercase()
    };
    let html = headers_of("/html");
    assert!(html.starts_with("http/1.1 200"), "{html}");
    assert!(html.contains("content-encoding: gzip"), "{html}");
    let png = headers_of("/png");
    assert!(png.starts_with("http/1.1 200"), "{png}");
    assert!(!png.contains("content-encoding"), "{png}");
    server.join().unwrap();
}

/// `expect` with a list of codes and a class, as a real HAProxy checks it:
/// servers answering 204 and 302 are up, one answering 500 is down (and
/// one answering 204 is down where only 200 is expected). A check with a
/// `port` of its own asks that port, not the server's (closed here).
#[test]
fn health_checks_accept_the_declared_statuses_on_a_real_haproxy() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    // A server that answers every request with `status`.
    let (p204, t204) = answering(&stop, 204, "");
    let (p302, t302) = answering(&stop, 302, "");
    let (p500, t500) = answering(&stop, 500, "");
    let source = format!(
        r#"backend many {{
  check = http {{ path = "/", expect = [200, 204, "3xx"], every = 100ms, rise = 1, fall = 1 }}
  server no_content = 127.0.0.1:{p204}
  server found = 127.0.0.1:{p302}
  server failing = 127.0.0.1:{p500}
}}
backend only_200 {{
  check = http {{ path = "/", expect = 200, every = 100ms, rise = 1, fall = 1 }}
  server no_content = 127.0.0.1:{p204}
}}
backend management {{
  check = http {{ path = "/", expect = 204, every = 100ms, rise = 1, fall = 1, port = {p204} }}
  server app = 127.0.0.1:{closed}
}}
frontend f {{
  bind 127.0.0.1:{front}
  route path prefix "/only/" -> only_200
  route path prefix "/management/" -> management
  default -> many
}}
"#,
        front = free_port(),
        closed = free_port(),
    );
    let run = tempfile::tempdir().unwrap();
    let cfg = test_cfg(&run, &source);
    assert!(
        cfg.contains("http-check expect status 200,204,300-399"),
        "{cfg}"
    );
    let haproxy = start_cfg(run, &cfg);
    // Each server's status, the result of its last check and the status
    // code it got.
    let expected = [
        ("many", "no_content", "UP L7OK 204"),
        ("many", "found", "UP L7OK 302"),
        ("many", "failing", "DOWN L7STS 500"),
        ("only_200", "no_content", "DOWN L7STS 204"),
        ("management", "app", "UP L7OK 204"),
    ];
    let statuses = checked(&haproxy, &expected, &[17, 36, 37]);
    stop.store(true, Ordering::Relaxed);
    for thread in [t204, t302, t500] {
        thread.join().unwrap();
    }
    for (got, (b, s, want)) in statuses.iter().zip(&expected) {
        assert_eq!(got, want, "{b}/{s}");
    }
}

/// A server for health checks: it answers every request with `status`
/// and `body`, until `stop`. Its port, and its thread to join.
fn answering(
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    status: u16,
    body: &'static str,
) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = std::sync::Arc::clone(stop);
    let thread = std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                    let _ = stream.read(&mut [0u8; 4096]);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (port, thread)
}

/// The `fields` (0-based) of `show stat` of each server of `expected`
/// (backend, server, fields joined by a space), once they are those
/// `expected` says or ten seconds passed: the results of health checks.
fn checked(haproxy: &Haproxy, expected: &[(&str, &str, &str)], fields: &[usize]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = haproxy.command("show stat");
        let now: Vec<String> = expected
            .iter()
            .map(|&(backend, server, _)| {
                stat.lines()
                    .map(|l| l.split(',').collect::<Vec<_>>())
                    .find(|f| f.len() > 37 && f[0] == backend && f[1] == server)
                    .map(|f| fields.iter().map(|&i| f[i]).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default()
            })
            .collect();
        if now
            .iter()
            .zip(expected)
            .all(|(got, (.., want))| got == want)
            || Instant::now() > deadline
        {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// HTTP backends `names`, each with one server in maintenance at port
/// `dead`: a request routed to one is answered 503, and counted in its
/// `show stat` (see [`backend_for`]).
fn dead_backends(names: &[&str], dead: u16) -> String {
    names
        .iter()
        .map(|b| format!("backend {b} {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}\n"))
        .collect()
}

/// The whole reply of `GET /` with `headers` (each ending in `\r\n`) to a
/// frontend on `port`, on a connection of its own.
pub fn http_get(port: u16, headers: &str) -> String {
    let reply = send_raw(
        port,
        &format!("GET / HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    );
    String::from_utf8_lossy(&reply).into_owned()
}

/// Everything a frontend on `port` answers to `request`, sent as it is on
/// a connection of its own, until it closes the connection.
fn send_raw(port: u16, request: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

/// The status code a frontend on `port` answers `GET path` with.
fn status_of(port: u16, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let reply = String::from_utf8_lossy(&send_raw(port, &request)).into_owned();
    reply.get(9..12).unwrap_or_default().to_string()
}

/// A test's backend server: it answers `requests` requests, one a
/// connection, with 200 and `body`, then ends. Its port, and its thread to
/// join.
pub fn answer(requests: usize, body: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        use std::io::Write;
        for _ in 0..requests {
            let (mut stream, _) = listener.accept().unwrap();
            read_request_head(&mut stream);
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    (port, thread)
}

/// A backend that answers each of `requests` requests (a connection
/// each: the reply closes it) with the lines of its head that start with
/// `prefix` (lowercase), lowercased.
fn header_echo(prefix: &'static str, requests: usize) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let backend = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = backend.local_addr().unwrap().port();
    let echo = std::thread::spawn(move || {
        for _ in 0..requests {
            let (stream, _) = backend.accept().unwrap();
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut reader = BufReader::new(&stream);
            let mut seen = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let line = line.to_ascii_lowercase();
                if line.starts_with(prefix) {
                    seen.push_str(&line);
                }
            }
            write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{seen}",
                seen.len()
            )
            .unwrap();
        }
    });
    (port, echo)
}

/// The head of the request a test's backend reads from `stream`, up to
/// and with its empty line.
pub fn read_request_head(stream: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    head
}

/// The `haproxy.cfg` of a project of one environment, `test`, whose
/// Runtime API socket is in the temporary directory `run`: `body` is what
/// follows `env test` and `defaults`.
fn test_cfg(run: &tempfile::TempDir, body: &str) -> String {
    let socket = run.path().join("admin.sock");
    let source = format!(
        "env test\ndefaults {{ socket = \"{}\" }}\n{body}",
        socket.display()
    );
    TempProject::single(&source)
        .compile()
        .outputs()
        .remove(0)
        .haproxy_cfg
}

/// A HAProxy of a test, and the temporary directory of its socket, which
/// is removed after HAProxy is stopped.
struct Started {
    haproxy: Haproxy,
    _run: tempfile::TempDir,
}

impl std::ops::Deref for Started {
    type Target = Haproxy;
    fn deref(&self) -> &Haproxy {
        &self.haproxy
    }
}

/// HAProxy started on `cfg` (from [`test_cfg`] with `run`).
fn start_cfg(run: tempfile::TempDir, cfg: &str) -> Started {
    let haproxy = Haproxy::start(cfg, &run.path().join("admin.sock"));
    Started { haproxy, _run: run }
}

/// HAProxy started on the project whose `body` follows `env test` and
/// `defaults` (see [`test_cfg`]).
fn start_project(body: &str) -> Started {
    let run = tempfile::tempdir().unwrap();
    let cfg = test_cfg(&run, body);
    start_cfg(run, &cfg)
}

/// Routes that are entries of the routes map change on a running HAProxy:
/// started on the base version, given the `runtime.txt` that `compile
/// --base` writes (`set map`, `del map`, `add map`, every reply checked),
/// it routes every host as HAProxy started on the new version does, and
/// its map holds the entries of the new `routes.map`. The configuration
/// does not change, but for its header.
#[test]
fn routes_map_entries_change_without_a_reload_on_a_real_haproxy() {
    let run = tempfile::tempdir().unwrap();
    let (front, dead) = (free_port(), free_port());
    let map_path = run.path().join("routes.map");
    let project = |routes: &str| {
        TempProject::single(&format!(
            r#"env test
defaults {{
  socket = "{socket}"
  routes_map = "{map}"
}}
backend a {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
backend b {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
backend c {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}
frontend f {{
  bind 127.0.0.1:{front}
{routes}
  default -> c
}}
"#,
            socket = run.path().join("admin.sock").display(),
            map = map_path.display(),
        ))
    };
    // A host retired with a 404 is an entry too, of the backend that
    // answers it (`deny.404`, running in the base for another host).
    let base = project(
        "  route host \"one.example.com\" -> a\n\
         route host \"two.example.com\" -> b\n\
         route host \"gone.example.com\" -> deny 404\n\
         route host \"four.example.com\" -> a\n\
         route path exact \"/healthz\" -> c\n\
         route host \"late.example.com\" -> a",
    )
    .compile();
    let new = project(
        "  route host \"one.example.com\" -> b\n\
         route host \"three.example.com\" -> a\n\
         route host \"gone.example.com\" -> deny 404\n\
         route host \"four.example.com\" -> deny 404\n\
         route path exact \"/healthz\" -> c\n\
         route host \"late.example.com\" -> a",
    )
    .compile();
    let base_output = base.outputs().remove(0);
    let base = haptic::driver::Base::new("base".into(), Some(base));
    let plan_output = new.output_against(&new.envs[0], Some(&base));
    let new_output = new.outputs().remove(0);
    let body = |cfg: &str| {
        cfg.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        body(&base_output.haproxy_cfg),
        body(&new_output.haproxy_cfg)
    );
    let script = &plan_output.runtime_txt;
    assert!(script.contains("# reload needed: no\n"), "{script}");
    for (verb, count) in [("set map", 2), ("del map", 1), ("add map", 1)] {
        assert_eq!(script.matches(verb).count(), count, "{script}");
    }
    assert!(script.contains(" deny.404\n"), "{script}");

    let hosts = [
        "one.example.com",
        "ONE.example.com:8080",
        "two.example.com",
        "three.example.com",
        "late.example.com",
        "other.example.com",
        "gone.example.com",
        "four.example.com",
    ];
    let entries = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                // `show map` starts each entry with its address.
                let words: Vec<&str> = l.split_whitespace().collect();
                words[words.len() - 2..].join(" ")
            })
            .collect()
    };
    let map = map_path.display().to_string();
    let routed_after_runtime = {
        std::fs::write(&map_path, base_output.routes_map.as_deref().unwrap()).unwrap();
        let haproxy = Haproxy::start(&base_output.haproxy_cfg, &run.path().join("admin.sock"));
        for line in script.lines().filter(|l| !l.starts_with('#')) {
            let reply = haproxy.command(line);
            assert_eq!(reply.trim(), "", "HAProxy refused `{line}`");
        }
        assert_eq!(
            entries(&haproxy.command(&format!("show map {map}"))),
            entries(new_output.routes_map.as_deref().unwrap())
        );
        hosts.map(|host| backend_taking(&haproxy, front, host))
    };
    let routed_after_reload = {
        std::fs::write(&map_path, new_output.routes_map.as_deref().unwrap()).unwrap();
        let haproxy = Haproxy::start(&new_output.haproxy_cfg, &run.path().join("admin.sock"));
        hosts.map(|host| backend_taking(&haproxy, front, host))
    };
    assert_eq!(routed_after_runtime, routed_after_reload);
    assert_eq!(
        routed_after_reload,
        ["b", "b", "c", "a", "a", "c", "deny.404", "deny.404"]
    );
}

/// The backend that takes a request for `host` on the frontend at `port`:
/// the one whose session count (`show stat`'s `stot`) it raises.
fn backend_taking(haproxy: &Haproxy, port: u16, host: &str) -> String {
    backend_for(haproxy, port, host, "/")
}

/// A routes map routes every request as the rules alone do: 60 random route
/// lists (hosts, a wildcard, path prefixes and exact paths, some with a
/// header, some of the client's network or of another, some refusing, in
/// any order, shadowing each other or not) are compiled with
/// and without a routes map, and a real HAProxy started on each sends
/// every request of a fixed set (hosts in any case, with a port or not,
/// paths, `OPTIONS *`, with the header or without) to the same backend.
#[test]
fn the_routes_map_routes_as_the_rules_do_on_a_real_haproxy() {
    const HOSTS: &[&str] = &[
        "a.example.com",
        "A.Example.COM",
        "b.example.com",
        "b.example.com:8080",
        "c.example.com",
        "example.com",
        "other.org",
    ];
    const PATHS: &[&str] = &[
        "/",
        "/api",
        "/api/",
        "/api/v2/x",
        "/apix",
        "/healthz",
        "/x/y",
        "*",
    ];
    const ROUTE_HOSTS: &[&str] = &[
        "a.example.com",
        "A.example.com",
        "a.example.com",
        "b.example.com",
        "b.example.com",
        "*.example.com",
    ];
    const PREFIXES: &[&str] = &["/", "/api", "/api/", "/api/v2/", "/x"];
    const EXACTS: &[&str] = &["/api/", "/healthz", "/x/y"];
    let run = tempfile::tempdir().unwrap();
    let (front, dead) = (free_port(), free_port());
    let map_path = run.path().join("routes.map");
    let socket = run.path().join("admin.sock");
    let mut rng = support::Rng(0x2545_F491_4F6C_DD1D);
    let (mut cases, mut entries, mut by_network) = (0, 0, 0);
    for case in 0..60 {
        let mut routes = String::new();
        for _ in 0..1 + rng.below(7) {
            let host = (!rng.chance(20))
                .then(|| ROUTE_HOSTS[rng.below(ROUTE_HOSTS.len() as u64) as usize]);
            let path = match rng.below(10) {
                0..=3 if host.is_some() => String::new(),
                0..=6 => format!(
                    " path prefix \"{}\"",
                    PREFIXES[rng.below(PREFIXES.len() as u64) as usize]
                ),
                _ => format!(
                    " path exact \"{}\"",
                    EXACTS[rng.below(EXACTS.len() as u64) as usize]
                ),
            };
            let host = host.map(|h| format!(" host \"{h}\"")).unwrap_or_default();
            // A route by header is never an entry, and keeps the routes of
            // its host after it out of the map.
            let header = if rng.chance(6) {
                " header \"X-Canary\" \"1\""
            } else {
                ""
            };
            // Nor is a route by the client's network (the client here is
            // 127.0.0.1: of the first network, not of the second).
            let from = match rng.below(20) {
                0 => " from [127.0.0.0/8]",
                1 => " from [10.0.0.0/8, \"::1/128\"]",
                _ => "",
            };
            // A refusal is never an entry either, nor is a route after it
            // that it can take requests of.
            let target = match rng.below(9) {
                8 => "deny 404".to_string(),
                b => format!("r{}", b % 4),
            };
            routes.push_str(&format!("  route{host}{path}{header}{from} -> {target}\n"));
        }
        let source = |map: bool| {
            let map = if map {
                format!("  routes_map = \"{}\"\n", map_path.display())
            } else {
                String::new()
            };
            let backends: String = (0..4)
                .chain([9])
                .map(|b| {
                    format!("backend r{b} {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}\n")
                })
                .collect();
            format!(
                "env test\ndefaults {{\n  socket = \"{}\"\n{map}}}\n{backends}\
                 frontend f {{\n  bind 127.0.0.1:{front}\n{routes}  default -> r9\n}}\n",
                socket.display()
            )
        };
        let (with, without) = (
            TempProject::single(&source(true)).compile(),
            TempProject::single(&source(false)).compile(),
        );
        assert_eq!(with.has_errors(), without.has_errors(), "{}", source(true));
        if with.has_errors() {
            continue;
        }
        cases += 1;
        by_network += routes.matches(" from [").count();
        let (with, without) = (with.outputs().remove(0), without.outputs().remove(0));
        let map = with.routes_map.as_deref().expect("a routes map");
        entries += map.lines().filter(|l| !l.starts_with('#')).count();
        std::fs::write(&map_path, map).unwrap();
        let requests = || {
            HOSTS.iter().flat_map(|host| {
                PATHS
                    .iter()
                    .flat_map(move |path| ["", "X-Canary: 1\r\n"].map(|h| (host, path, h)))
            })
        };
        let routed = |cfg: &str| -> Vec<String> {
            let haproxy = Haproxy::start(cfg, &socket);
            requests()
                .map(|(host, path, header)| backend_with(&haproxy, front, host, path, header))
                .collect()
        };
        let (by_map, by_rules) = (routed(&with.haproxy_cfg), routed(&without.haproxy_cfg));
        let requests = requests().map(|(host, path, header)| format!("{host} {path} {header:?}"));
        let differences: Vec<String> = requests
            .zip(by_map.iter().zip(&by_rules))
            .filter(|(_, (m, r))| m != r)
            .map(|(request, (m, r))| format!("{request}: map {m}, rules {r}"))
            .collect();
        assert!(
            differences.is_empty(),
            "case {case}\n{}\n{}\n{map}",
            differences.join("\n"),
            source(true)
        );
    }
    assert!(cases >= 50, "only {cases} cases compiled");
    assert!(
        entries >= 50,
        "only {entries} map entries over {cases} cases"
    );
    assert!(by_network >= 10, "only {by_network} routes by network");
    eprintln!(
        "{cases} route lists, {entries} map entries, {by_network} routes by network, routed alike"
    );
}

/// The backend that takes a request of `path` for `host` on the frontend
/// at `port` (`*` is sent as `OPTIONS *`): the one whose session count
/// (`show stat`'s `stot`) it raises.
fn backend_for(haproxy: &Haproxy, port: u16, host: &str, path: &str) -> String {
    backend_with(haproxy, port, host, path, "")
}

/// [`backend_for`] a request that also has the header lines `headers`
/// (each ending in `\r\n`).
fn backend_with(haproxy: &Haproxy, port: u16, host: &str, path: &str, headers: &str) -> String {
    let method = if path == "*" { "OPTIONS" } else { "GET" };
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n");
    let taken = backend_of_raw(haproxy, port, &request);
    assert_eq!(taken.len(), 1, "{host} {path} {headers:?}: {taken:?}");
    taken[0].clone()
}

/// Each backend's session count (`show stat`'s `stot`), by name.
fn backend_sessions(haproxy: &Haproxy) -> BTreeMap<String, u64> {
    haproxy
        .command("show stat")
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > 7 && f[1] == "BACKEND")
        .map(|f| (f[0].to_string(), f[7].parse().unwrap()))
        .collect()
}

/// The backends whose session count (`show stat`'s `stot`) `request`,
/// sent as it is to the frontend at `port`, raises; for HTTP, after
/// checking that the answer is the 503 of a backend without a server up,
/// or the 404 of a refusal.
fn backend_of_raw(haproxy: &Haproxy, port: u16, request: &str) -> Vec<String> {
    let sessions = || backend_sessions(haproxy);
    let before = sessions();
    let reply = String::from_utf8_lossy(&send_raw(port, request)).into_owned();
    if request.contains(" HTTP/1.1\r\n") {
        // 503 from a backend without a server up, 404 from a refusal.
        assert!(
            reply.starts_with("HTTP/1.1 503") || reply.starts_with("HTTP/1.1 404"),
            "{request:?}: {reply}"
        );
    }
    let after = sessions();
    after
        .keys()
        .filter(|b| after[*b] > before[*b])
        .cloned()
        .collect()
}

/// Routes by request header on a real HAProxy: a header's name in any
/// case, its value whole and as written (one of several lines of it is
/// enough; a line that lists it among others is not), any value for a
/// route of the header alone (an empty one too), a value from a secret in
/// HAProxy's environment, and a value that starts with `-` and holds
/// spaces, a comma and `%`; each only with the host and path of its route.
#[test]
fn header_routes_match_on_a_real_haproxy() {
    let front = free_port();
    let dead = free_port();
    let mut source = dead_backends(
        &["api", "canary", "debug", "internal", "legacy", "other"],
        dead,
    );
    source.push_str(&format!(
        r#"frontend f {{
  bind 127.0.0.1:{front}
  route host "api.example.com" header "X-Canary" "always" -> canary
  route header "x-debug" -> debug
  route header "X-Key" secret("ROUTE_KEY") -> internal
  route path prefix "/old/" header "X-Client" "-v1 beta, 100%" -> legacy
  route host "api.example.com" -> api
  default -> other
}}
"#
    ));
    let run = tempfile::tempdir().unwrap();
    let cfg = test_cfg(&run, &source);
    let haproxy = Haproxy::start_with(
        &cfg,
        &run.path().join("admin.sock"),
        &[("ROUTE_KEY", "k3y")],
    );
    for (host, path, headers, backend) in [
        ("api.example.com", "/", "X-Canary: always\r\n", "canary"),
        ("API.example.com", "/", "x-CANARY: always\r\n", "canary"),
        ("api.example.com", "/", "X-Canary: Always\r\n", "api"),
        (
            "api.example.com",
            "/",
            "X-Canary: never\r\nX-Canary: always\r\n",
            "canary",
        ),
        ("api.example.com", "/", "X-Canary: always, never\r\n", "api"),
        ("api.example.com", "/", "", "api"),
        ("www.example.com", "/", "X-Canary: always\r\n", "other"),
        ("www.example.com", "/", "X-Debug: 1\r\n", "debug"),
        ("www.example.com", "/", "X-Debug:\r\n", "debug"),
        ("api.example.com", "/", "X-Debug: 1\r\n", "debug"),
        ("www.example.com", "/", "X-Key: k3y\r\n", "internal"),
        ("www.example.com", "/", "X-Key: ${ROUTE_KEY}\r\n", "other"),
        (
            "www.example.com",
            "/old/a",
            "X-Client: -v1 beta, 100%\r\n",
            "legacy",
        ),
        (
            "www.example.com",
            "/old/a",
            "X-Client: -v1 beta\r\n",
            "other",
        ),
        (
            "www.example.com",
            "/new/a",
            "X-Client: -v1 beta, 100%\r\n",
            "other",
        ),
    ] {
        assert_eq!(
            backend_with(&haproxy, front, host, path, headers),
            backend,
            "{host} {path} {headers:?}"
        );
    }
}

/// What `W0002` says of routes by a header the frontend changes, on a real
/// HAProxy: a header it removes never reaches a route, whatever the client
/// sent, and one it sets has the frontend's value by the time requests
/// are routed (the last one set, removed first): a route by it of that
/// value takes every request of its path, and the route of that path after
/// it none.
#[test]
fn header_routes_see_the_frontends_own_header_changes_on_a_real_haproxy() {
    let front = free_port();
    let dead = free_port();
    let mut source = dead_backends(&["web", "debug"], dead);
    source.push_str(&format!(
        r#"frontend f {{
  bind 127.0.0.1:{front}
  remove_request_headers = ["X-Debug", "X-Internal"]
  request_header "X-Env" = "production"
  request_header "X-Internal" = "no"
  request_header "x-env" = "prod"
  route header "x-debug" -> debug
  route path prefix "/a/" header "X-Env" "production" -> debug
  route path prefix "/b/" header "X-Env" "prod" -> debug
  route path prefix "/b/" -> web
  route path prefix "/d/" header "X-Internal" "yes" -> debug
  route path prefix "/e/" header "X-Internal" "no" -> debug
  default -> web
}}
"#
    ));
    let run = tempfile::tempdir().unwrap();
    let project = TempProject::single(&format!(
        "env test\ndefaults {{ socket = \"{}\" }}\n{source}",
        run.path().join("admin.sock").display()
    ));
    let compiled = project.compile();
    // The four routes that can never match, and no other.
    let never = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == haptic::diag::Code::ShadowedRoute)
        .count();
    assert_eq!(never, 4, "{}", support::rendered(&compiled));
    let cfg = compiled.outputs().remove(0).haproxy_cfg;
    let haproxy = Haproxy::start(&cfg, &run.path().join("admin.sock"));
    for (path, headers, backend) in [
        ("/", "X-Debug: 1\r\n", "web"),
        ("/a/", "X-Env: production\r\n", "web"),
        ("/b/", "", "debug"),
        ("/b/", "X-Env: staging\r\n", "debug"),
        ("/d/", "X-Internal: yes\r\n", "web"),
        ("/e/", "X-Internal: yes\r\n", "debug"),
    ] {
        assert_eq!(
            backend_with(&haproxy, front, "x", path, headers),
            backend,
            "{path} {headers:?}"
        );
    }
}

/// Routes by the client's network on a real HAProxy, the client's address
/// given by a load balancer's PROXY header (`accept_proxy`): IPv4 and IPv6
/// networks of a constant, with a host or a path, in an HTTP frontend and
/// in a tcp one; a client outside them goes on to the next route.
#[test]
fn network_routes_match_on_a_real_haproxy() {
    let (front, tcp) = (free_port(), free_port());
    let dead = free_port();
    let mut source = String::from("let office = [10.1.0.0/16, \"2001:db8:1::/48\"]\n");
    source.push_str(&dead_backends(&["api", "internal", "admin", "other"], dead));
    for backend in ["db", "db_ro"] {
        source.push_str(&format!(
            "backend {backend} {{\n  mode = tcp\n  server s = 127.0.0.1:{dead} {{ state = maint }}\n}}\n"
        ));
    }
    source.push_str(&format!(
        r#"frontend f {{
  bind 127.0.0.1:{front}
  accept_proxy = true
  route host "api.example.com" from office -> internal
  route path prefix "/admin/" from [10.8.0.0/16] -> admin
  route host "api.example.com" -> api
  default -> other
}}
frontend pg {{
  mode = tcp
  bind 127.0.0.1:{tcp}
  accept_proxy = true
  route from [10.20.0.0/16, 10.21.0.0/16] -> db_ro
  default -> db
}}
"#
    ));
    let haproxy = start_project(&source);
    let proxy = |client: &str| {
        if client.contains(':') {
            format!("PROXY TCP6 {client} ::1 40000 80\r\n")
        } else {
            format!("PROXY TCP4 {client} 127.0.0.1 40000 80\r\n")
        }
    };
    for (client, host, path, backend) in [
        ("10.1.2.3", "api.example.com", "/", "internal"),
        ("10.1.2.3", "API.example.com", "/x", "internal"),
        ("10.2.0.1", "api.example.com", "/", "api"),
        ("2001:db8:1::5", "api.example.com", "/", "internal"),
        ("2001:db8:2::5", "api.example.com", "/", "api"),
        ("10.8.1.1", "www.example.com", "/admin/users", "admin"),
        ("10.1.2.3", "www.example.com", "/admin/users", "other"),
        ("10.8.1.1", "www.example.com", "/", "other"),
    ] {
        let request = format!(
            "{}GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            proxy(client)
        );
        assert_eq!(
            backend_of_raw(&haproxy, front, &request),
            [backend],
            "{client} {host} {path}"
        );
    }
    for (client, backend) in [
        ("10.20.0.9", "db_ro"),
        ("10.21.255.1", "db_ro"),
        ("10.22.0.1", "db"),
    ] {
        assert_eq!(
            backend_of_raw(&haproxy, tcp, &proxy(client)),
            [backend],
            "{client}"
        );
    }
}

/// What `W0002` and `W0017` say of routes by network, on a real HAProxy
/// (clients given by PROXY headers): a frontend's `allow` refuses its
/// other clients before any route (403, no backend reached), and a
/// backend's `allow` refuses the clients a route sends it (403 from the
/// backend).
#[test]
fn allow_refuses_clients_before_routes_and_in_backends_on_a_real_haproxy() {
    let front = free_port();
    let dead = free_port();
    let mut source = dead_backends(&["web"], dead);
    source.push_str(&format!(
        r#"backend admin {{
  allow = [10.8.0.0/16]
  server s = 127.0.0.1:{dead} {{ state = maint }}
}}
frontend f {{
  bind 127.0.0.1:{front}
  accept_proxy = true
  allow = [10.0.0.0/8]
  route path prefix "/x/" from [192.168.0.0/16] -> admin
  route path prefix "/admin/" from [10.1.0.0/16] -> admin
  default -> web
}}
"#
    ));
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let project = TempProject::single(&format!(
        "env test\ndefaults {{ socket = \"{}\" }}\n{source}",
        socket.display()
    ));
    let compiled = project.compile();
    // (And W0006 for each backend, whose servers are in maintenance.)
    let codes: Vec<&str> = compiled
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|c| *c != "W0006")
        .collect();
    assert_eq!(
        codes,
        ["W0002", "W0017"],
        "{}",
        support::rendered(&compiled)
    );
    let haproxy = Haproxy::start(&compiled.outputs().remove(0).haproxy_cfg, &socket);
    let sessions = || backend_sessions(&haproxy);
    for (client, path, status, backend) in [
        ("192.168.1.1", "/x/", "403", None),
        ("10.1.1.1", "/admin/", "403", Some("admin")),
        ("10.8.1.1", "/admin/", "503", Some("web")),
        ("10.8.1.1", "/x/", "503", Some("web")),
    ] {
        let before = sessions();
        let request = format!(
            "PROXY TCP4 {client} 127.0.0.1 40000 80\r\nGET {path} HTTP/1.1\r\nHost: x\r\n\
             Connection: close\r\n\r\n"
        );
        let reply = String::from_utf8_lossy(&send_raw(front, &request)).into_owned();
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {status}")),
            "{client} {path}: {reply}"
        );
        let after = sessions();
        let reached: Vec<&str> = after
            .keys()
            .filter(|b| after[*b] > before[*b])
            .map(String::as_str)
            .collect();
        assert_eq!(reached, Vec::from_iter(backend), "{client} {path}");
    }
}

/// `stats { metrics = ..., allow = [...] }` on a real HAProxy: the
/// Prometheus exporter answers its path without the page's password, the
/// page still asks for it, and a client outside the networks gets 403.
/// With the password's variable set to nothing, the page refuses its user
/// with the empty password (403) instead of serving it, and the metrics
/// are still served.
#[test]
fn the_stats_bind_serves_metrics_to_the_allowed_networks_on_a_real_haproxy() {
    let (open, closed) = (free_port(), free_port());
    let (front, dead) = (free_port(), free_port());
    let request = |port: u16, path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&send_raw(port, &request)).into_owned()
    };
    for (port, allow) in [(open, "127.0.0.0/8"), (closed, "10.0.0.0/8")] {
        let _haproxy = start_project(&format!(
            "backend b {{ server s = 127.0.0.1:{dead} }}\n\
             frontend f {{ bind 127.0.0.1:{front}\n  default -> b }}\n\
             stats {{ bind = 127.0.0.1:{port}, user = \"admin\", password = secret(\"STATS_PASSWORD\"),\n  \
             metrics = \"/metrics\", allow = [{allow}] }}\n"
        ));
        let metrics = request(port, "/metrics");
        let page = request(port, "/stats");
        if port == open {
            assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
            assert!(metrics.contains("haproxy_process_"), "{metrics}");
            assert!(page.starts_with("HTTP/1.1 401"), "{page}");
        } else {
            assert!(metrics.starts_with("HTTP/1.1 403"), "{metrics}");
            assert!(page.starts_with("HTTP/1.1 403"), "{page}");
        }
    }
    let run = tempfile::tempdir().unwrap();
    let cfg = test_cfg(
        &run,
        &format!(
            "backend b {{ server s = 127.0.0.1:{dead} }}\n\
             frontend f {{ bind 127.0.0.1:{front}\n  default -> b }}\n\
             stats {{ bind = 127.0.0.1:{open}, user = \"admin\", password = secret(\"STATS_PASSWORD\"),\n  \
             metrics = \"/metrics\" }}\n"
        ),
    );
    let _haproxy = Haproxy::start_with(
        &cfg,
        &run.path().join("admin.sock"),
        &[("STATS_PASSWORD", "")],
    );
    // `admin:` in Base64: the user with the empty password.
    let with_empty = "GET /stats HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46\r\n\
                      Connection: close\r\n\r\n";
    let page = String::from_utf8_lossy(&send_raw(open, with_empty)).into_owned();
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
    let metrics = request(open, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
}

/// `http2 = true` on a real HAProxy: the server's connection begins with
/// HTTP/2's preface (gRPC services speak nothing else), and so does its
/// health check's (HAProxy checks a server in its protocol: no
/// `check-proto` is written); a server without it is spoken to in HTTP/1.1.
#[test]
fn a_server_with_http2_is_spoken_to_in_http2_on_a_real_haproxy() {
    use std::io::Read;
    // A server that reads the first bytes of its one connection.
    let first_bytes = || {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut bytes = [0u8; 24];
            stream.read_exact(&mut bytes).unwrap();
            bytes.to_vec()
        });
        (port, thread)
    };
    let (grpc, grpc_thread) = first_bytes();
    let (web, web_thread) = first_bytes();
    // Reached by no route: its one connection is its check's.
    let (checked, checked_thread) = first_bytes();
    let front = free_port();
    let _haproxy = start_project(&format!(
        "backend grpc {{ server g = 127.0.0.1:{grpc} {{ http2 = true }} }}\n\
         backend web {{ server w = 127.0.0.1:{web} }}\n\
         backend grpc_checked {{\n  check = http {{ path = \"/\", every = 100ms }}\n  \
         server g = 127.0.0.1:{checked} {{ http2 = true }}\n}}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  route path prefix \"/grpc/\" -> grpc\n  default -> web\n}}\n"
    ));
    for path in ["/grpc/x", "/"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        // The servers never answer: the reply is HAProxy's error, after
        // the server thread has read what it was sent.
        let _ = send_raw(front, &request);
    }
    assert_eq!(
        grpc_thread.join().unwrap(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    );
    assert_eq!(&web_thread.join().unwrap()[..16], b"GET / HTTP/1.1\r\n");
    assert_eq!(
        checked_thread.join().unwrap(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "the health check's connection"
    );
}

/// `monitor_uri` on a real HAProxy: the path is answered with 200 by
/// HAProxy itself, whatever the backends' state, and before the
/// frontend's rules (a load balancer's health checks come from networks
/// that `allow` may not list); any other path is routed as before.
#[test]
fn the_monitor_uri_is_answered_by_haproxy_on_a_real_haproxy() {
    let (front, dead) = (free_port(), free_port());
    let _haproxy = start_project(&format!(
        "backend web {{ server w = 127.0.0.1:{dead} }}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  monitor_uri = \"/-/haproxy\"\n  allow = [10.0.0.0/8]\n  default -> web\n}}\n"
    ));
    assert_eq!(status_of(front, "/-/haproxy"), "200");
    assert_eq!(status_of(front, "/"), "403", "outside `allow`");
}

/// `http2 = true` with `tls` on a real HAProxy and a real TLS server
/// (`openssl s_server`): HAProxy offers h2 by ALPN (gRPC servers refuse
/// a handshake that does not) and speaks HTTP/2 over it.
#[test]
fn a_server_with_http2_over_tls_is_offered_h2_on_a_real_haproxy() {
    use std::io::Read;
    let certs = support::certs();
    let port = free_port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &port.to_string(),
            "-alpn",
            "h2",
            "-cert",
        ])
        .arg(&certs.cert)
        .stdin(Stdio::piped()) // s_server ends at the end of its input
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is installed (see the README)");
    let ready = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(ready.elapsed() < TIMEOUT, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let front = free_port();
    let haproxy = start_project(&format!(
        "backend grpc {{ server g = 127.0.0.1:{port} {{ http2 = true, tls = {{ verify = none }} }} }}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  default -> grpc\n}}\n"
    ));
    // s_server answers nothing: a second is time enough for HAProxy to
    // make the handshake and send the request, which is all there is to see.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", front)).unwrap();
    std::io::Write::write_all(&mut client, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let _ = client.read(&mut [0u8; 64]);
    drop(haproxy);
    server.kill().unwrap();
    let mut output = Vec::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output)
        .unwrap();
    server.wait().unwrap();
    let output = String::from_utf8_lossy(&output);
    assert!(
        output.contains("ALPN protocols advertised by the client: h2"),
        "{output}"
    );
    assert!(output.contains("PRI * HTTP/2.0"), "{output}");
}

/// `request_id` on a real HAProxy: at the edge (`replace`) every request
/// reaches its backend with a new `X-Request-ID` (a UUID), whatever the
/// client sent; behind a proxy (`keep`) one the request has is kept, and
/// one without gets a new one. The client is told the same ID, and
/// HAProxy's log line (here sent to a syslog socket of the test's) ends
/// with it.
#[test]
fn request_ids_reach_the_backend_on_a_real_haproxy() {
    let (edge, chain) = (free_port(), free_port());
    let (port, echo) = header_echo("x-request-id:", 3);
    let syslog = std::net::UdpSocket::bind(("127.0.0.1", 0)).unwrap();
    syslog.set_read_timeout(Some(TIMEOUT)).unwrap();
    let log = syslog.local_addr().unwrap().port();
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("admin.sock");
    let source = format!(
        r#"env test
defaults {{ socket = "{socket}", log = "127.0.0.1:{log}" }}
backend echo {{ server s = 127.0.0.1:{port} }}
frontend edge {{
  bind 127.0.0.1:{edge}
  request_id = replace
  default -> echo
}}
frontend chain {{
  bind 127.0.0.1:{chain}
  request_id = keep
  default -> echo
}}
"#,
        socket = socket.display()
    );
    let cfg = TempProject::single(&source)
        .compile()
        .outputs()
        .remove(0)
        .haproxy_cfg;
    let _haproxy = start_cfg(run, &cfg);
    // The IDs the backend was sent, one a line; the client is told the
    // same one.
    let ask = |port: u16, headers: &str| -> String {
        let reply = http_get(port, &format!("Host: x\r\n{headers}"));
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        let ids: String = body
            .lines()
            .map(|line| format!("{}\n", line["x-request-id:".len()..].trim()))
            .collect();
        let told = head
            .lines()
            .filter_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("x-request-id: ")
                    .map(str::to_string)
            })
            .collect::<Vec<_>>();
        assert_eq!(told, [ids.trim_end().to_string()], "{reply}");
        ids
    };
    let is_uuid =
        |id: &str| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let replaced = ask(edge, "X-Request-ID: from-the-client\r\n");
    assert!(is_uuid(replaced.trim_end()), "one new ID: {replaced:?}");
    assert_eq!(
        ask(chain, "X-Request-ID: from-the-proxy\r\n"),
        "from-the-proxy\n"
    );
    let new = ask(chain, "");
    assert!(is_uuid(new.trim_end()), "one new ID: {new:?}");
    echo.join().unwrap();
    // One log line a request, each ending with its ID: in any order, as
    // a line is sent when its connection is closed, which may come after
    // the next request's (seen with HAProxy 2.8, under load).
    let mut lines: Vec<String> = (0..3)
        .map(|_| {
            let mut datagram = [0u8; 2048];
            let n = syslog.recv(&mut datagram).expect("a log line");
            String::from_utf8_lossy(&datagram[..n]).to_ascii_lowercase()
        })
        .collect();
    for id in [replaced.trim_end(), "from-the-proxy", new.trim_end()] {
        let at = lines.iter().position(|l| l.trim_end().ends_with(id));
        let Some(at) = at else {
            panic!("no log line ends with {id}:\n{}", lines.join(""));
        };
        lines.remove(at);
    }
}

/// A test's TCP server that takes `connections` connections, one after
/// another, and sends each one's first bytes (up to `len`, or until the
/// client's end) on `seen`, labelled `name`; for each line it reads, it
/// writes `name: LINE` back. Its port.
fn tcp_server(
    name: &'static str,
    connections: usize,
    seen: std::sync::mpsc::Sender<(&'static str, Vec<u8>)>,
) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut bytes = Vec::new();
            let mut byte = [0u8; 1];
            // A line, or a TLS record's first five bytes.
            let tls_record = |b: &[u8]| b.first() == Some(&0x16) && b.len() == 5;
            while !bytes.ends_with(b"\n") && !tls_record(&bytes) {
                if stream.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                bytes.push(byte[0]);
            }
            if bytes.ends_with(b"\n") {
                let _ = stream.write_all(format!("{name}: ").as_bytes());
                let _ = stream.write_all(&bytes);
            }
            let _ = seen.send((name, bytes));
        }
    });
    port
}

/// `mode = tcp` on a real HAProxy: bytes that are no HTTP pass through a
/// tcp frontend and backend both ways; a client outside `allow` is cut
/// off before anything is read; and the servers of a tcp backend are
/// set by the Runtime API script as any are. A `routes_map` that no HTTP
/// frontend looks up is no map (HAProxy loads none): none is written,
/// and `apply` finds the running HAProxy converged.
#[test]
fn tcp_frontends_pass_connections_on_a_real_haproxy() {
    use std::io::{Read, Write};
    let (seen, seen_rx) = std::sync::mpsc::channel();
    let db = tcp_server("db", 1, seen.clone());
    let (open, closed) = (free_port(), free_port());
    let run = tempfile::tempdir().unwrap();
    let source = format!(
        "backend db {{\n  mode = tcp\n  balance = leastconn\n  \
         server pg1 = 127.0.0.1:{db} {{ weight = 30 }}\n  \
         server pg2 = 127.0.0.2:{db} {{ state = maint }}\n}}\n\
         frontend open {{\n  mode = tcp\n  bind 127.0.0.1:{open}\n  default -> db\n}}\n\
         frontend closed {{\n  mode = tcp\n  bind 127.0.0.1:{closed}\n  \
         allow = [10.0.0.0/8]\n  default -> db\n}}\n"
    );
    let socket = run.path().join("admin.sock");
    let project = TempProject::single(&format!(
        "env test\ndefaults {{ socket = \"{}\", routes_map = \"{}\" }}\n{source}",
        socket.display(),
        run.path().join("routes.map").display()
    ));
    let compilation = project.compile();
    let output = compilation.outputs().remove(0);
    assert_eq!(output.routes_map, None);
    let haproxy = start_cfg(run, &output.haproxy_cfg);

    let mut client = std::net::TcpStream::connect(("127.0.0.1", open)).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(b"\x00\x01 not http\n").unwrap();
    let mut echoed = vec![0u8; b"db: \x00\x01 not http\n".len()];
    client.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, b"db: \x00\x01 not http\n");
    let (name, bytes) = seen_rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        (name, bytes.as_slice()),
        ("db", &b"\x00\x01 not http\n"[..])
    );

    // Outside `allow`: closed (reset) before a byte reaches a server.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", closed)).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let _ = client.write_all(b"hello\n");
    let mut reply = Vec::new();
    let _ = client.read_to_end(&mut reply);
    assert!(reply.is_empty(), "{reply:?}");
    assert!(seen_rx.recv_timeout(Duration::from_millis(300)).is_err());

    // The servers' declared state, from the script, on servers started
    // otherwise by hand.
    haproxy.command("set server db/pg1 weight 1");
    haproxy.command("set server db/pg2 state ready");
    apply_script(&haproxy, &output.runtime_txt);
    let live = haproxy.servers();
    let pg1 = &live[&("db".to_string(), "pg1".to_string())];
    let pg2 = &live[&("db".to_string(), "pg2".to_string())];
    assert_eq!(pg1.weight, 30);
    assert!(pg2.maint, "{pg2:?}");
    let env = &compilation.envs[0];
    let live = haptic::apply::read(&haproxy.socket, env, TIMEOUT).unwrap();
    let convergence = haptic::apply::converge(env, &live);
    assert!(
        convergence.reload_reasons.is_empty() && convergence.commands.is_empty(),
        "{convergence:?}"
    );
}

/// Routes of a tcp frontend by the TLS server name on a real HAProxy: where
/// the bind passes TLS through, each client's hello (from `openssl
/// s_client`) reaches the backend its server name routes to, still
/// encrypted (a TLS record), a wildcard taking the names under its
/// domain and the default the others; where the bind ends TLS, the
/// decrypted bytes reach the backend of the session's server name.
#[test]
fn tcp_routes_follow_the_tls_server_name_on_a_real_haproxy() {
    use std::io::Write;
    let (seen, seen_rx) = std::sync::mpsc::channel();
    let api = tcp_server("api", 1, seen.clone());
    let partners = tcp_server("partners", 1, seen.clone());
    let other = tcp_server("other", 1, seen.clone());
    let iot = tcp_server("iot", 1, seen.clone());
    let (passing, ending) = (free_port(), free_port());
    let _haproxy = start_project(&format!(
        "tls edge {{ certs = \"/etc/haproxy/site.pem\" }}\n\
         backend api {{ mode = tcp\n  server a = 127.0.0.1:{api} }}\n\
         backend partners {{ mode = tcp\n  server p = 127.0.0.1:{partners} }}\n\
         backend other {{ mode = tcp\n  server o = 127.0.0.1:{other} }}\n\
         backend iot {{ mode = tcp\n  server i = 127.0.0.1:{iot} }}\n\
         frontend passthrough {{\n  mode = tcp\n  bind 127.0.0.1:{passing}\n  \
         route host \"api.example.com\" -> api\n  \
         route host \"*.partners.example.com\" -> partners\n  default -> other\n}}\n\
         frontend ending {{\n  mode = tcp\n  bind 127.0.0.1:{ending} tls edge\n  \
         route host \"iot.example.com\" -> iot\n  default -> other\n}}\n"
    ));
    // What a client that asks for `name` on `port` sends, once connected.
    let connect = |port: u16, name: &str, send: &[u8]| {
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-servername", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is installed (see the README)");
        child.stdin.take().unwrap().write_all(send).unwrap();
        child
    };
    for (name, backend) in [
        ("api.example.com", "api"),
        ("eu.partners.example.com", "partners"),
    ] {
        let mut client = connect(passing, name, b"");
        let (reached, bytes) = seen_rx.recv_timeout(TIMEOUT).unwrap();
        let _ = client.kill();
        let _ = client.wait();
        assert_eq!(reached, backend, "{name}");
        assert_eq!(bytes[0], 0x16, "a TLS handshake record reached {backend}");
    }
    // Ended by HAProxy: the server gets the line the client sent in TLS.
    let mut client = connect(ending, "iot.example.com", b"reading 21.5\n");
    let (reached, bytes) = seen_rx.recv_timeout(TIMEOUT).unwrap();
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!((reached, bytes.as_slice()), ("iot", &b"reading 21.5\n"[..]));
    // Any other name goes to the default.
    let mut client = connect(passing, "www.example.com", b"");
    let (reached, _) = seen_rx.recv_timeout(TIMEOUT).unwrap();
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!(reached, "other");
}

/// A tcp frontend's wait for a TLS hello on a real HAProxy: a client that
/// sends nothing (its server speaks first) reaches the default when
/// `timeout_hello` ends, not after the five seconds of a wait not written;
/// and where the client's timeout is shorter than the wait (W0018, which
/// `check` reports), HAProxy closes the connection at that timeout, and
/// the default never sees it.
#[test]
fn tcp_frontends_wait_for_a_hello_as_long_as_written_on_a_real_haproxy() {
    use std::io::{Read, Write};
    // The default's server speaks first: it greets each connection.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let legacy = listener.local_addr().unwrap().port();
    let (greeted, greeted_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.write_all(b"220 legacy\n");
            let _ = greeted.send(());
        }
    });
    let (quick, cut) = (free_port(), free_port());
    let source = format!(
        "backend api {{ mode = tcp\n  server a = 127.0.0.1:{unused} }}\n\
         backend legacy {{ mode = tcp\n  server l = 127.0.0.1:{legacy} }}\n\
         frontend quick {{\n  mode = tcp\n  bind 127.0.0.1:{quick}\n  \
         timeout_hello = 1s\n  route host \"api.example.com\" -> api\n  \
         default -> legacy\n}}\n\
         frontend cut {{\n  mode = tcp\n  bind 127.0.0.1:{cut}\n  \
         timeout_client = 1s\n  route host \"api.example.com\" -> api\n  \
         default -> legacy\n}}\n",
        unused = free_port(),
    );
    let run = tempfile::tempdir().unwrap();
    let project = TempProject::single(&format!(
        "env test\ndefaults {{ socket = \"{}\" }}\n{source}",
        run.path().join("admin.sock").display()
    ));
    let compilation = project.compile();
    let warned: Vec<_> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(warned, ["W0018"], "{:?}", compilation.diagnostics);
    let cfg = compilation.outputs().remove(0).haproxy_cfg;
    let _haproxy = start_cfg(run, &cfg);

    // A silent client of `quick`: greeted by the default after the wait.
    let started = std::time::Instant::now();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", quick)).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut greeting = [0u8; 11];
    client.read_exact(&mut greeting).unwrap();
    let waited = started.elapsed();
    assert_eq!(&greeting, b"220 legacy\n");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(4_000),
        "greeted after {waited:?}"
    );
    greeted_rx.recv_timeout(TIMEOUT).unwrap();

    // A silent client of `cut`: closed at its one-second timeout, before
    // the five-second wait for its hello ends.
    let started = std::time::Instant::now();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", cut)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let mut reply = Vec::new();
    let _ = client.read_to_end(&mut reply);
    let waited = started.elapsed();
    assert!(reply.is_empty(), "{reply:?}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(4_000),
        "closed after {waited:?}"
    );
    assert!(
        greeted_rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the default's server saw the connection"
    );
}

/// `check = tcp { ... }` on a real HAProxy: a server that accepts the
/// connection is up (`L4OK`), whatever it speaks; one that refuses it is
/// down (`L4CON`); one whose own port is closed is up by the check's
/// `port`. No request is sent: the listener reads nothing.
#[test]
fn tcp_health_checks_connect_on_a_real_haproxy() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let open = listener.local_addr().unwrap().port();
    let accepting = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if listener.accept().is_err() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        })
    };
    let closed = free_port();
    let haproxy = start_project(&format!(
        "backend cache {{\n  mode = tcp\n  \
         check = tcp {{ every = 100ms, rise = 1, fall = 1 }}\n  \
         server open = 127.0.0.1:{open}\n  server closed = 127.0.0.1:{closed}\n}}\n\
         backend managed {{\n  mode = tcp\n  \
         check = tcp {{ every = 100ms, rise = 1, fall = 1, port = {open} }}\n  \
         server app = 127.0.0.1:{closed}\n}}\n\
         frontend redis {{\n  mode = tcp\n  bind 127.0.0.1:{front}\n  default -> cache\n}}\n\
         frontend other {{\n  mode = tcp\n  bind 127.0.0.1:{other}\n  default -> managed\n}}\n",
        front = free_port(),
        other = free_port(),
    ));
    let expected = [
        ("cache", "open", "UP L4OK"),
        ("cache", "closed", "DOWN L4CON"),
        ("managed", "app", "UP L4OK"),
    ];
    // Each server's status and its last check's result.
    let statuses = checked(&haproxy, &expected, &[17, 36]);
    stop.store(true, Ordering::Relaxed);
    accepting.join().unwrap();
    for (got, (backend, server, want)) in statuses.iter().zip(&expected) {
        assert_eq!(got, want, "{backend}/{server}");
    }
}

/// `rate_limit = { connections = N }` on a real HAProxy: a tcp frontend
/// passes a client's first N connections of the period on and resets the
/// next before a byte reaches a server; beside a rate of requests, an HTTP
/// frontend still answers the requests past theirs with 429 (the client is
/// tracked from its connection on).
#[test]
fn connection_rate_limits_hold_on_a_real_haproxy() {
    use std::io::{Read, Write};
    let (seen, seen_rx) = std::sync::mpsc::channel();
    // Ready for a third connection, which must never come.
    let db = tcp_server("db", 3, seen);
    let (web, web_thread) = answer(2, "ok");
    let (tcp_front, http_front) = (free_port(), free_port());
    let _haproxy = start_project(&format!(
        "backend db {{\n  mode = tcp\n  server pg1 = 127.0.0.1:{db}\n}}\n\
         backend web {{ server w = 127.0.0.1:{web} }}\n\
         frontend postgres {{\n  mode = tcp\n  bind 127.0.0.1:{tcp_front}\n  \
         rate_limit = {{ connections = 2, per = 1m }}\n  default -> db\n}}\n\
         frontend www {{\n  bind 127.0.0.1:{http_front}\n  \
         rate_limit = {{ requests = 2, connections = 100, per = 1m }}\n  default -> web\n}}\n"
    ));
    // The reply to a line on a connection of its own: empty when refused.
    let exchange = |line: &[u8]| -> Vec<u8> {
        let mut client = std::net::TcpStream::connect(("127.0.0.1", tcp_front)).unwrap();
        client.set_read_timeout(Some(TIMEOUT)).unwrap();
        let _ = client.write_all(line);
        let mut reply = vec![0u8; line.len() + 4];
        match client.read_exact(&mut reply) {
            Ok(()) => reply,
            Err(_) => Vec::new(),
        }
    };
    assert_eq!(exchange(b"one\n"), b"db: one\n");
    assert_eq!(exchange(b"two\n"), b"db: two\n");
    assert_eq!(
        exchange(b"three\n"),
        b"",
        "the third connection of the minute"
    );
    assert_eq!(seen_rx.iter().take(2).count(), 2);
    assert!(seen_rx.recv_timeout(Duration::from_millis(300)).is_err());

    let statuses: Vec<String> = (0..3)
        .map(|_| {
            let reply = http_get(http_front, "Host: x\r\n");
            reply.get(9..12).unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(statuses, ["200", "200", "429"]);
    web_thread.join().unwrap();
}

/// `error_pages` on a real HAProxy: where HAProxy answers itself, the
/// page's file is its response (here 503, its backend's one server in
/// maintenance, and 403 to a client outside `allow`, both from the test's
/// page, a 503); a backend's own page comes before the defaults'.
#[test]
fn error_pages_are_sent_on_a_real_haproxy() {
    let (front, closed) = (free_port(), free_port());
    let dead = free_port();
    let _haproxy = start_project(&format!(
        "backend web {{\n  \
         error_pages = [{{ status = 503, file = \"/etc/haproxy/errors/web-503.http\" }}]\n  \
         server w = 127.0.0.1:{dead} {{ state = maint }}\n}}\n\
         backend plain {{ server p = 127.0.0.1:{dead} {{ state = maint }} }}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  route path prefix \"/plain/\" -> plain\n  \
         default -> web\n}}\n\
         frontend g {{\n  bind 127.0.0.1:{closed}\n  allow = [10.0.0.0/8]\n  \
         error_pages = [{{ status = 403, file = \"/etc/haproxy/errors/403.http\" }}]\n  \
         default -> web\n}}\n"
    ));
    let page = |port: u16, path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&send_raw(port, &request)).into_owned()
    };
    let web = page(front, "/");
    assert!(web.ends_with(support::ERROR_PAGE_BODY), "{web}");
    let plain = page(front, "/plain/");
    assert!(plain.starts_with("HTTP/1.1 503"), "{plain}");
    assert!(
        !plain.contains(support::ERROR_PAGE_BODY),
        "HAProxy's own 503: {plain}"
    );
    let refused = page(closed, "/");
    assert!(refused.ends_with(support::ERROR_PAGE_BODY), "{refused}");
}

/// Routes that HAProxy answers itself, on a real HAProxy: admin paths for
/// one network (the client's address from a PROXY header), refused with
/// 403 for the others; 429 for an endpoint; 404 by default, answered with
/// the frontend's error page; the routes in their order among the others.
#[test]
fn deny_routes_answer_in_their_order_on_a_real_haproxy() {
    let front = free_port();
    let dead = free_port();
    let (admin, server) = answer(1, "admin");
    let _haproxy = start_project(&format!(
        "backend admin {{ server a = 127.0.0.1:{admin} }}\n\
         backend api {{ server s = 127.0.0.1:{dead} {{ state = maint }} }}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  accept_proxy = true\n  \
         error_pages = [{{ status = 404, file = \"/etc/haproxy/errors/404.http\" }}]\n  \
         route path prefix \"/admin/\" from [10.1.0.0/16] -> admin\n  \
         route path prefix \"/admin/\" -> deny 403\n  \
         route path prefix \"/actuator/\" -> deny 429\n  \
         route host \"api.example.com\" -> api\n  \
         default -> deny 404\n}}\n"
    ));
    let ask = |client: &str, host: &str, path: &str| {
        let request = format!(
            "PROXY TCP4 {client} 127.0.0.1 40000 80\r\n\
             GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        );
        String::from_utf8_lossy(&send_raw(front, &request)).into_owned()
    };
    let allowed = ask("10.1.2.3", "www.example.com", "/admin/users");
    assert!(
        allowed.starts_with("HTTP/1.1 200") && allowed.ends_with("admin"),
        "{allowed}"
    );
    for (client, host, path, status) in [
        ("10.2.0.1", "www.example.com", "/admin/users", "403"),
        ("10.1.2.3", "api.example.com", "/actuator/health", "429"),
        ("10.1.2.3", "api.example.com", "/v1/users", "503"),
    ] {
        let reply = ask(client, host, path);
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {status}")),
            "{client} {host} {path}: {reply}"
        );
    }
    let unknown = ask("10.1.2.3", "other.example.com", "/");
    assert!(unknown.ends_with(support::ERROR_PAGE_BODY), "{unknown}");
    server.join().unwrap();
}

/// `remove_request_headers` and `remove_response_headers` on a real
/// HAProxy: what the client sent of the frontend's list does not reach
/// the server, what the server sent of the lists does not reach the
/// client, and the rest passes.
#[test]
fn listed_headers_are_removed_on_a_real_haproxy() {
    use std::io::Write;
    let backend = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = backend.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = backend.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let head = String::from_utf8_lossy(&read_request_head(&mut stream)).to_ascii_lowercase();
        let seen: String = head
            .lines()
            .filter(|l| l.starts_with("x-"))
            .map(|l| format!("{l}\n"))
            .collect();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nServer: nginx/1.25\r\nX-Powered-By: PHP/8\r\n\
             X-Debug-Token: abc\r\nX-Kept: yes\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{seen}",
            seen.len()
        )
        .unwrap();
    });
    let front = free_port();
    let _haproxy = start_project(&format!(
        "backend app {{\n  remove_response_headers = [\"X-Debug-Token\"]\n  \
         server a = 127.0.0.1:{port}\n}}\n\
         frontend www {{\n  bind 127.0.0.1:{front}\n  \
         remove_request_headers = [\"X-Internal-User\"]\n  \
         remove_response_headers = [\"Server\", \"X-Powered-By\"]\n  default -> app\n}}\n"
    ));
    let reply = http_get(front, "Host: x\r\nX-Internal-User: admin\r\nX-Other: 1\r\n");
    server.join().unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert_eq!(body, "x-other: 1\n", "what reached the server");
    assert!(head.contains("x-kept: yes"), "{head}");
    for removed in ["server:", "x-powered-by:", "x-debug-token:"] {
        assert!(!head.contains(removed), "{removed} {head}");
    }
}

/// `redispatch` on a real HAProxy: with a backend's first server down and
/// no health check to say so, each request sent to it is retried there,
/// and with `redispatch = true` its last retry goes to the other server (a
/// 200); without, it fails (a 503).
#[test]
fn redispatch_sends_the_last_retry_elsewhere_on_a_real_haproxy() {
    let dead = free_port();
    let (with, with_thread) = answer(2, "ok");
    let (without, without_thread) = answer(1, "ok");
    let front = free_port();
    let _haproxy = start_project(&format!(
        "backend with {{\n  retries = 1\n  redispatch = true\n  \
         server dead = 127.0.0.1:{dead}\n  server alive = 127.0.0.1:{with}\n}}\n\
         backend without {{\n  retries = 1\n  redispatch = false\n  \
         server dead = 127.0.0.1:{dead}\n  server alive = 127.0.0.1:{without}\n}}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  \
         route path prefix \"/without/\" -> without\n  default -> with\n}}\n"
    ));
    // Round robin: one request of each two goes to `dead` (whichever the
    // first server is), the other to `alive`.
    let statuses = |path: &str| -> Vec<String> {
        let mut statuses: Vec<String> = (0..2).map(|_| status_of(front, path)).collect();
        statuses.sort();
        statuses
    };
    assert_eq!(statuses("/"), ["200", "200"], "redispatched");
    assert_eq!(statuses("/without/"), ["200", "503"]);
    with_thread.join().unwrap();
    without_thread.join().unwrap();
}

/// `expect_body` on a real HAProxy: of two servers that both answer 200,
/// the one whose body holds the text (quotes and all) is up, the other
/// down (`L7RSP`).
#[test]
fn health_checks_read_the_body_on_a_real_haproxy() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let (up, up_thread) = answering(&stop, 200, r#"{"status":"UP"}"#);
    let (down, down_thread) = answering(&stop, 200, r#"{"status":"DOWN"}"#);
    let haproxy = start_project(&format!(
        "backend api {{\n  \
         check = http {{ path = \"/health\", expect_body = \"\\\"status\\\":\\\"UP\\\"\", every = 100ms, rise = 1, fall = 1 }}\n  \
         server up = 127.0.0.1:{up}\n  server down = 127.0.0.1:{down}\n}}\n\
         frontend f {{\n  bind 127.0.0.1:{front}\n  default -> api\n}}\n",
        front = free_port(),
    ));
    let expected = [("api", "up", "UP L7OK"), ("api", "down", "DOWN L7RSP")];
    let statuses = checked(&haproxy, &expected, &[17, 36]);
    stop.store(true, Ordering::Relaxed);
    up_thread.join().unwrap();
    down_thread.join().unwrap();
    for (got, (b, s, want)) in statuses.iter().zip(&expected) {
        assert_eq!(got, want, "{b}/{s}");
    }
}
