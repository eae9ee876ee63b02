//! A small client for HAProxy's Runtime API (the `stats socket`), and a
//! reader of `show servers state`.
//!
//! The socket is used in its non-interactive mode: one connection per
//! command, the reply read until HAProxy closes the connection. Connect and
//! read have timeouts so a stuck HAProxy cannot hang a deploy.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Where the Runtime API listens: a Unix socket or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Endpoint {
    /// `host:port` (the part after the last `:` a port number) is TCP;
    /// anything else is a Unix socket path.
    pub fn parse(text: &str) -> Endpoint {
        let tcp = !text.contains('/')
            && text
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if tcp {
            Endpoint::Tcp(text.to_string())
        } else {
            Endpoint::Unix(PathBuf::from(text))
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "{}", path.display()),
            Endpoint::Tcp(addr) => f.write_str(addr),
        }
    }
}

/// Sends one command and returns HAProxy's reply. `timeout` bounds the
/// connection, each write and each read.
pub fn send(endpoint: &Endpoint, command: &str, timeout: Duration) -> std::io::Result<String> {
    if command.contains(['\n', '\r', ';', '\0']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a Runtime API command is one line without `;`",
        ));
    }
    match endpoint {
        Endpoint::Unix(path) => exchange(UnixStream::connect(path)?, command, timeout),
        Endpoint::Tcp(addr) => {
            let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "the address does not resolve")
            })?;
            exchange(
                TcpStream::connect_timeout(&addr, timeout)?,
                command,
                timeout,
            )
        }
    }
}

trait Stream: Read + Write {
    fn timeouts(&self, timeout: Duration) -> std::io::Result<()>;
}

impl Stream for UnixStream {
    fn timeouts(&self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

impl Stream for TcpStream {
    fn timeouts(&self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

fn exchange(mut stream: impl Stream, command: &str, timeout: Duration) -> std::io::Result<String> {
    stream.timeouts(timeout)?;
    stream.write_all(command.as_bytes())?;
    stream.write_all(b"\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

/// What a running HAProxy reports of its backends and servers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Live {
    pub backends: Vec<String>,
    pub servers: BTreeMap<(String, String), LiveServer>,
    /// The entries of the environment's routes map (key, value), when it
    /// has one and it was read (`apply::read`); `Some(None)` when HAProxy
    /// has no map of that path loaded.
    pub routes_map: Option<Option<Vec<(String, String)>>>,
    /// The `description` of the running configuration (`show info`), which
    /// carries haptic's reload fingerprint; `None` when it has none, or was
    /// not read.
    pub description: Option<String>,
    /// The running HAProxy's version (`show info`: `2.6.12-1+deb12u4`);
    /// `None` when not read.
    pub release: Option<String>,
}

/// Reads the live state: `show backend`, `show servers state` and the
/// per-server limits of `show stat`.
pub fn read_live(endpoint: &Endpoint, timeout: Duration) -> std::io::Result<Live> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let backends = send(endpoint, "show backend", timeout)?
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut servers =
        parse_servers_state(&send(endpoint, "show servers state", timeout)?).map_err(invalid)?;
    let stat = parse_stat_servers(&send(endpoint, "show stat", timeout)?).map_err(invalid)?;
    for (key, server) in &mut servers {
        if let Some(s) = stat.get(key) {
            server.maxconn = s.maxconn;
            server.backup = Some(s.backup);
        }
    }
    Ok(Live {
        backends,
        servers,
        routes_map: None,
        description: None,
        release: None,
    })
}

/// Reads `show info` into `live`: the running configuration's
/// `description` and HAProxy's version.
pub fn read_info(endpoint: &Endpoint, live: &mut Live, timeout: Duration) -> std::io::Result<()> {
    let info = send(endpoint, "show info", timeout)?;
    live.description = info_field(&info, "description");
    live.release = info_field(&info, "Version");
    Ok(())
}

/// The value of the `NAME: ...` line of a `show info` reply; `None` when
/// it is missing or empty.
pub fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
}

/// The entries of the map HAProxy loaded from `path` (`show map`), in its
/// order; `None` when it loaded none from there.
pub fn read_map(
    endpoint: &Endpoint,
    path: &str,
    timeout: Duration,
) -> std::io::Result<Option<Vec<(String, String)>>> {
    let reply = send(endpoint, &format!("show map {path}"), timeout)?;
    Ok(parse_map(&reply))
}

/// The entries of a `show map` reply (`0x55d1e4a0 key value` a line);
/// `None` for HAProxy's refusal of a map it does not know.
pub fn parse_map(reply: &str) -> Option<Vec<(String, String)>> {
    if reply.starts_with("Unknown map identifier") {
        return None;
    }
    let entries = reply
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (_address, key, value) = (words.next()?, words.next()?, words.next()?);
            Some((key.to_string(), value.to_string()))
        })
        .collect();
    Some(entries)
}

/// The `# name name ...` header line of a Runtime API table.
struct Header<'a>(Vec<&'a str>);

impl<'a> Header<'a> {
    fn parse(line: Option<&'a str>, separator: char) -> Result<Header<'a>, String> {
        let line = line
            .and_then(|h| h.strip_prefix("# "))
            .ok_or("missing header line")?;
        Ok(Header(line.split(separator).collect()))
    }

    fn column(&self, name: &str) -> Result<usize, String> {
        self.0
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("missing column {name}"))
    }
}

/// What `show stat` tells of a server beside `show servers state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatServer {
    /// `slim`: the connection limit, 0 for none.
    maxconn: u32,
    /// `bck`: a backup server.
    backup: bool,
}

/// `(backend, server) → (slim, bck)` from the CSV of `show stat`.
fn parse_stat_servers(csv: &str) -> Result<BTreeMap<(String, String), StatServer>, String> {
    let mut lines = csv.lines();
    let header = Header::parse(lines.next(), ',')?;
    let (px, sv, slim, bck) = (
        header.column("pxname")?,
        header.column("svname")?,
        header.column("slim")?,
        header.column("bck")?,
    );
    let mut servers = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(p), Some(s)) = (fields.get(px), fields.get(sv)) else {
            continue;
        };
        if *s == "FRONTEND" || *s == "BACKEND" {
            continue;
        }
        let server = StatServer {
            maxconn: fields.get(slim).and_then(|v| v.parse().ok()).unwrap_or(0),
            backup: fields.get(bck) == Some(&"1"),
        };
        servers.insert((p.to_string(), s.to_string()), server);
    }
    Ok(servers)
}

/// The part of a server's live state that haptic declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveServer {
    /// Its number (`srv_id`): where `hash-type consistent` places it.
    pub id: u32,
    pub addr: String,
    pub port: u16,
    /// The DNS name HAProxy resolves for the server; `None` for one
    /// written with an IP address (it has no resolver).
    pub fqdn: Option<String>,
    /// In maintenance, whether set by the configuration or at runtime.
    pub maint: bool,
    /// Draining (admin state), set at runtime.
    pub drain: bool,
    /// Named by DNS and not resolved yet: down, but not by anyone's choice.
    pub unresolved: bool,
    /// The user weight HAProxy runs the server with.
    pub weight: u32,
    /// The weight the server started with (static algorithms accept only
    /// 0 or this one at runtime).
    pub initial_weight: u32,
    /// The connection limit, 0 for none (filled from `show stat`).
    pub maxconn: u32,
    /// Whether the server speaks TLS (`srv_use_ssl`); `None` when HAProxy
    /// does not say.
    pub tls: Option<bool>,
    /// Whether the server has a health check (`srv_check_state` has
    /// `CHK_ST_CONFIGURED`, which `disable health` leaves set).
    pub check: Option<bool>,
    /// Whether it is a backup server (`bck` of `show stat`).
    pub backup: Option<bool>,
}

impl LiveServer {
    /// The weight traffic is balanced with: 0 while draining, in
    /// maintenance or unresolved.
    pub fn effective_weight(&self) -> u32 {
        if self.drain || self.maint || self.unresolved {
            0
        } else {
            self.weight
        }
    }
}

/// Admin-state bits of `show servers state` (HAProxy's `SRV_ADMF_*`):
/// maintenance forced or inherited, draining forced or inherited, and a
/// DNS name not resolved yet (`RMAINT`, 0x20, or `HMAINT`, 0x40, for a name
/// given by `set server fqdn` and not resolved since; HAProxy clears both
/// once the name resolves). The configuration bit (`CMAINT`, 0x04) is
/// left set after a server written `disabled` is put back to ready, so it
/// does not mean maintenance.
const ADMF_MAINT: u32 = 0x01 | 0x02;
const ADMF_DRAIN: u32 = 0x08 | 0x10;
const ADMF_RMAINT: u32 = 0x20 | 0x40;

/// The check-state bit of a server that has a health check (HAProxy's
/// `CHK_ST_CONFIGURED`), whether or not it runs now.
const CHK_ST_CONFIGURED: u32 = 0x02;

/// Parses the reply to `show servers state` (format version 1) into
/// `(backend, server) → state`.
pub fn parse_servers_state(reply: &str) -> Result<BTreeMap<(String, String), LiveServer>, String> {
    let mut lines = reply.lines();
    match lines.next() {
        Some("1") => {}
        other => return Err(format!("unexpected `show servers state` format: {other:?}")),
    }
    let header = Header::parse(lines.next(), ' ')?;
    let column = |name: &str| header.column(name);
    let (id, be, srv, addr, admin, uweight, iweight, port) = (
        column("srv_id")?,
        column("be_name")?,
        column("srv_name")?,
        column("srv_addr")?,
        column("srv_admin_state")?,
        column("srv_uweight")?,
        column("srv_iweight")?,
        column("srv_port")?,
    );
    // Since HAProxy 1.8; a server without one shows `-`.
    let fqdn = column("srv_fqdn").ok();
    let (use_ssl, check_state) = (column("srv_use_ssl").ok(), column("srv_check_state").ok());
    let mut servers = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        let get = |i: usize| fields.get(i).copied().ok_or(format!("short line: {line}"));
        let number = |i: usize| -> Result<u32, String> {
            get(i)?
                .parse()
                .map_err(|_| format!("bad number in: {line}"))
        };
        let admin_state = number(admin)?;
        servers.insert(
            (get(be)?.to_string(), get(srv)?.to_string()),
            LiveServer {
                id: number(id)?,
                addr: get(addr)?.to_string(),
                port: number(port)? as u16,
                fqdn: match fqdn.map(get).transpose()? {
                    Some("-") | None => None,
                    Some(name) => Some(name.to_string()),
                },
                maint: admin_state & ADMF_MAINT != 0,
                drain: admin_state & ADMF_DRAIN != 0,
                unresolved: admin_state & ADMF_RMAINT != 0,
                weight: number(uweight)?,
                initial_weight: number(iweight)?,
                maxconn: 0,
                tls: use_ssl.map(|i| get(i).map(|v| v == "1")).transpose()?,
                check: check_state
                    .map(|i| number(i).map(|v| v & CHK_ST_CONFIGURED != 0))
                    .transpose()?,
                backup: None,
            },
        );
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_servers_state() {
        let reply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 b 2 d 127.0.0.1 2 8 50 50 0 1 0 2 0 0 0 0 - 9002 -\n3 b 3 m 10.0.0.3 0 5 100 100 0 1 0 0 8 0 0 0 - 9003 -\n\n";
        let state = parse_servers_state(reply).unwrap();
        let d = &state[&("b".into(), "d".into())];
        assert!(
            d.drain && !d.maint && d.weight == 50 && d.effective_weight() == 0 && d.port == 9002
        );
        let m = &state[&("b".into(), "m".into())];
        assert!(m.maint && m.addr == "10.0.0.3" && m.fqdn.is_none());
        // Without a `srv_use_ssl` column, TLS is not known.
        assert_eq!((d.tls, m.check), (None, Some(false)));
    }

    /// A server named by DNS: its name in `srv_fqdn`, and not resolved yet
    /// (0x20 from the start, 0x40 after `set server fqdn`): weight 0.
    #[test]
    fn parses_tls_and_health_checks_of_servers() {
        // Read from HAProxy 2.6: `s3` has `ssl` and `check` (a check
        // stopped by `disable health` is still configured: state 2).
        let reply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n3 b 1 s1 127.0.0.1 2 0 3 3 0 1 0 2 0 0 0 0 - 9 - 0 0 - - 0\n3 b 3 s3 127.0.0.1 0 0 1 1 0 8 2 0 6 0 0 0 - 11 - 1 0 - - 0\n3 b 4 s4 127.0.0.1 0 0 1 1 0 8 2 0 2 0 0 0 - 12 - 0 0 - - 0\n";
        let state = parse_servers_state(reply).unwrap();
        let of = |name: &str| {
            let s = &state[&("b".into(), name.into())];
            (s.tls, s.check)
        };
        assert_eq!(of("s1"), (Some(false), Some(false)));
        assert_eq!(of("s3"), (Some(true), Some(true)));
        assert_eq!(of("s4"), (Some(false), Some(true)));
    }

    #[test]
    fn parses_servers_named_by_dns() {
        let reply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n2 app 2 app2 - 0 32 100 100 0 1 0 0 0 0 0 0 app2.internal 8080 - 0 0 - - 0\n2 app 3 app3 - 2 64 100 100 0 1 0 0 0 0 0 0 app3.internal 8080 - 0 0 - - 0\n";
        let state = parse_servers_state(reply).unwrap();
        for (name, fqdn) in [("app2", "app2.internal"), ("app3", "app3.internal")] {
            let s = &state[&("app".into(), name.into())];
            assert_eq!(s.fqdn.as_deref(), Some(fqdn));
            assert!(s.unresolved && !s.maint && s.weight == 100 && s.effective_weight() == 0);
        }
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("127.0.0.1:9999"),
            Endpoint::Tcp("127.0.0.1:9999".into())
        );
        assert_eq!(
            Endpoint::parse("localhost:9999"),
            Endpoint::Tcp("localhost:9999".into())
        );
        assert_eq!(
            Endpoint::parse("/run/haproxy/admin.sock"),
            Endpoint::Unix("/run/haproxy/admin.sock".into())
        );
        assert_eq!(
            Endpoint::parse("admin.sock"),
            Endpoint::Unix("admin.sock".into())
        );
    }

    #[test]
    fn parses_show_stat_limits_and_backups() {
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bck\nf,FRONTEND,,,0,0,100,0,\nb,a,0,0,0,0,10,0,0\nb,d,0,0,0,0,,0,1\nb,BACKEND,0,0,0,0,10,0,1\n\n";
        let servers = parse_stat_servers(csv).unwrap();
        assert_eq!(servers.len(), 2);
        let (a, d) = (
            servers[&("b".into(), "a".into())],
            servers[&("b".into(), "d".into())],
        );
        assert_eq!((a.maxconn, a.backup), (10, false));
        assert_eq!((d.maxconn, d.backup), (0, true));
    }

    #[test]
    fn refuses_a_second_command() {
        let endpoint = Endpoint::Unix("/nonexistent".into());
        let err = send(
            &endpoint,
            "show info; shutdown frontend f",
            Duration::from_secs(1),
        );
        assert_eq!(err.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    }
}
